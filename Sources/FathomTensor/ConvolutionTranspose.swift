// Transposed 2-d convolution (torch.nn.functional.conv_transpose2d): the adjoint of
// conv2d in its input, computed by the same lowering as conv2d's input gradient.

/// The transposed 2-d convolution of an NCHW batch (sometimes called deconvolution), like
/// `torch.nn.functional.conv_transpose2d`: the gradient of `conv2d` with respect to its
/// input, so `convTranspose2d` with stride 2 upsamples by 2.
///
/// - Parameters:
///   - input: [N, C, H, W], float32 or float64.
///   - weight: [C, O / groups, kH, kW] (PyTorch's layout for transposed convolutions).
///   - bias: [O].
///   - stride, padding, dilation: those of the conv2d this transposes (`padding` removes
///     rows and columns from the border of the result).
///   - outputPadding: extra rows/columns added on the bottom/right to pick among the
///     output sizes a strided conv2d maps to the same size; smaller than stride or dilation.
///   - groups: channel groups, as in conv2d.
/// - Returns: [N, O, OH, OW] with OH = (H − 1)·stride − 2·pad + dil·(kH − 1) + outputPadding + 1.
public func convTranspose2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1,
                            padding: Size2 = 0, outputPadding: Size2 = 0, dilation: Size2 = 1,
                            groups: Int = 1) -> Tensor {
    orStop { () throws(TensorError) in
        try convTranspose2d(validating: input, weight: weight, bias: bias, stride: stride, padding: padding,
                            outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}

/// Like `convTranspose2d(_:weight:bias:stride:padding:outputPadding:dilation:groups:)` but
/// throws when shapes, dtypes or parameters do not fit, for configurations from user input.
public func convTranspose2d(validating input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1,
                            padding: Size2 = 0, outputPadding: Size2 = 0, dilation: Size2 = 1,
                            groups: Int = 1) throws(TensorError) -> Tensor {
    let geo = try convTranspose2dGeometry(input: input, weight: weight, bias: bias, stride: stride, padding: padding,
                                          outputPadding: outputPadding, dilation: dilation, groups: groups)
    return convInputGrad(input, weight, bias, geo)
}

/// Checks a convTranspose2d call and derives the geometry of the conv2d it transposes.
func convTranspose2dGeometry(input: Tensor, weight: Tensor, bias: Tensor?, stride: Size2, padding: Size2,
                             outputPadding: Size2, dilation: Size2, groups: Int) throws(TensorError) -> ConvGeometry {
    let op = "convTranspose2d"
    try checkConvOperands(op: op, input: input, weight: weight, bias: bias, stride: stride, padding: padding,
                          dilation: dilation, groups: groups)
    let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let (wc, oPerGroup, kH, kW) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    guard wc == c else {
        throw TensorError(op: op, "input \(describe(input.shape)) has \(c) channels but weight \(describe(weight.shape)) expects \(wc) (weight.shape[0]); the weight must be [inChannels, outChannels / groups, kH, kW]")
    }
    guard c % groups == 0 else {
        throw TensorError(op: op, "input \(describe(input.shape)) has \(c) channels, not divisible by groups \(groups)")
    }
    let o = oPerGroup * groups
    if let bias, bias.shape != [o] {
        throw TensorError(op: op, "bias has shape \(describe(bias.shape)) but the output has \(o) channels (weight.shape[1] = \(oPerGroup) × groups \(groups)); pass a bias of shape [\(o)]")
    }
    for (extra, s, d) in [(outputPadding.height, stride.height, dilation.height), (outputPadding.width, stride.width, dilation.width)]
    where extra < 0 || extra >= max(s, d) {
        throw TensorError(op: op, "outputPadding \(outputPadding) must be non-negative and smaller than either stride \(stride) or dilation \(dilation)")
    }
    let oh = (h - 1) * stride.height - 2 * padding.height + dilation.height * (kH - 1) + outputPadding.height + 1
    let ow = (w - 1) * stride.width - 2 * padding.width + dilation.width * (kW - 1) + outputPadding.width + 1
    guard oh >= 1, ow >= 1 else {
        throw TensorError(op: op, "input \(describe(input.shape)) with kernel \(kH)×\(kW), stride \(stride) and padding \(padding) gives an empty output (\(oh)×\(ow)); reduce the padding")
    }
    return ConvGeometry(batch: n, inChannels: o, inH: oh, inW: ow, outChannels: c, outH: h, outW: w, kH: kH, kW: kW,
                        stride: stride, padding: padding, dilation: dilation, groups: groups)
}
