// 2-d convolution (torch.nn.functional.conv2d) and the differentiable ops its gradients
// are made of. The three ops — forward, input gradient (= convTranspose2d) and weight
// gradient — are each other's backward passes, so gradients of any order exist.

/// The 2-d convolution (cross-correlation, as in PyTorch) of an NCHW batch, like
/// `torch.nn.functional.conv2d`.
///
/// - Parameters:
///   - input: [N, C, H, W], float32 or float64.
///   - weight: [O, C / groups, kH, kW], the input's dtype.
///   - bias: [O], added to every output position of its channel.
///   - stride, padding, dilation: per spatial axis (`2` or `[2, 1]`); padding is zeros.
///   - groups: `C` and `O` are split into this many groups convolved separately;
///     `groups == C` is a depthwise convolution.
/// - Returns: [N, O, OH, OW] with OH = ⌊(H + 2·pad − dil·(kH − 1) − 1) / stride⌋ + 1.
///
/// ```swift
/// let y = conv2d(x, weight: w, bias: b, stride: 2, padding: 1)
/// ```
public func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1, padding: Size2 = 0,
                   dilation: Size2 = 1, groups: Int = 1) -> Tensor {
    orStop { () throws(TensorError) in
        try conv2d(validating: input, weight: weight, bias: bias, stride: stride, padding: padding,
                   dilation: dilation, groups: groups)
    }
}

/// Like `conv2d(_:weight:bias:stride:padding:dilation:groups:)` but throws when shapes,
/// dtypes or parameters do not fit, for configurations that come from user input.
public func conv2d(validating input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1,
                   padding: Size2 = 0, dilation: Size2 = 1, groups: Int = 1) throws(TensorError) -> Tensor {
    let geo = try conv2dGeometry(input: input, weight: weight, bias: bias, stride: stride, padding: padding,
                                 dilation: dilation, groups: groups)
    return convForward(input, weight, bias, geo)
}

/// Checks a conv2d call and derives its geometry.
func conv2dGeometry(input: Tensor, weight: Tensor, bias: Tensor?, stride: Size2, padding: Size2,
                    dilation: Size2, groups: Int) throws(TensorError) -> ConvGeometry {
    let op = "conv2d"
    try checkConvOperands(op: op, input: input, weight: weight, bias: bias, stride: stride, padding: padding,
                          dilation: dilation, groups: groups)
    let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let (o, cPerGroup, kH, kW) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    guard cPerGroup * groups == c else {
        throw TensorError(op: op, "input \(describe(input.shape)) has \(c) channels but weight \(describe(weight.shape)) expects \(cPerGroup * groups) (weight.shape[1] = \(cPerGroup) × groups \(groups)); the weight must be [outChannels, inChannels / groups, kH, kW]")
    }
    guard o % groups == 0 else {
        throw TensorError(op: op, "weight \(describe(weight.shape)) has \(o) output channels, not divisible by groups \(groups)")
    }
    if let bias, bias.shape != [o] {
        throw TensorError(op: op, "bias has shape \(describe(bias.shape)) but weight \(describe(weight.shape)) has \(o) output channels; pass a bias of shape [\(o)]")
    }
    let oh = ConvGeometry.outputSize(input: h, kernel: kH, stride: stride.height, padding: padding.height, dilation: dilation.height)
    let ow = ConvGeometry.outputSize(input: w, kernel: kW, stride: stride.width, padding: padding.width, dilation: dilation.width)
    guard oh >= 1, ow >= 1 else {
        throw TensorError(op: op, "input \(describe(input.shape)) with padding \(padding) is smaller than the kernel \(kH)×\(kW) with dilation \(dilation): the output would be empty; pad the input or use a smaller kernel")
    }
    return ConvGeometry(batch: n, inChannels: c, inH: h, inW: w, outChannels: o, outH: oh, outW: ow, kH: kH, kW: kW,
                        stride: stride, padding: padding, dilation: dilation, groups: groups)
}

/// Checks what conv2d and convTranspose2d have in common: ranks, dtypes, parameters.
func checkConvOperands(op: String, input: Tensor, weight: Tensor, bias: Tensor?, stride: Size2, padding: Size2,
                       dilation: Size2, groups: Int) throws(TensorError) {
    guard input.rank == 4 else {
        throw TensorError(op: op, "input has shape \(describe(input.shape)); it must be 4-d [N, C, H, W] (use unsqueezed(axis: 0) for a single image)")
    }
    guard weight.rank == 4 else {
        throw TensorError(op: op, "weight has shape \(describe(weight.shape)); it must be 4-d [\(op == "conv2d" ? "outChannels, inChannels / groups" : "inChannels, outChannels / groups"), kH, kW]")
    }
    guard input.dtype.isFloatingPoint else {
        throw TensorError(op: op, "needs a float32 or float64 input, got \(input.dtype); convert with .to(.float32)")
    }
    guard weight.dtype == input.dtype, bias.map({ $0.dtype == input.dtype }) ?? true else {
        throw TensorError(op: op, "input is \(input.dtype) but weight is \(weight.dtype)\(bias.map { " and bias is \($0.dtype)" } ?? ""); convert them to one dtype")
    }
    guard groups >= 1 else {
        throw TensorError(op: op, "groups is \(groups); it must be at least 1")
    }
    guard stride.height >= 1, stride.width >= 1, dilation.height >= 1, dilation.width >= 1 else {
        throw TensorError(op: op, "stride \(stride) and dilation \(dilation) must be at least 1")
    }
    guard padding.height >= 0, padding.width >= 0 else {
        throw TensorError(op: op, "padding \(padding) must not be negative")
    }
    guard input.shape[1] % groups == 0 || op != "conv2d" else {
        throw TensorError(op: op, "input \(describe(input.shape)) has \(input.shape[1]) channels, not divisible by groups \(groups)")
    }
}

/// Runs `body` specialized for the dtype of `x` (float32 or float64).
@inline(__always)
func dispatchFloat(_ dtype: DType, op: String, _ f32: () -> Tensor, _ f64: () -> Tensor) -> Tensor {
    switch dtype {
    case .float32: return f32()
    case .float64: return f64()
    default: unsupportedDType(dtype, op: op)
    }
}

/// A contiguous, unrecorded view of `x` for a kernel to read.
@inline(__always)
func kernelOperand(_ x: Tensor) -> Tensor { x.isContiguous ? x : x.detach().contiguous() }

// MARK: - the three differentiable ops

/// y = conv(x, w) + bias for an explicit geometry. Backward: x ← convInputGrad(g, w),
/// w ← convWeightGrad(x, g), bias ← Σ g over N, H, W.
func convForward(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, _ geo: ConvGeometry) -> Tensor {
    let xc = kernelOperand(x), wc = kernelOperand(w), bc = bias.map(kernelOperand)
    let out = dispatchFloat(x.dtype, op: "conv2d",
                            { convForwardKernel(xc, wc, bc, geo, Float.self) },
                            { convForwardKernel(xc, wc, bc, geo, Double.self) })
    let inputs = [x, w] + (bias.map { [$0] } ?? [])
    if needsGrad(inputs) {
        out.recorded("conv2d", inputs) { g, _ in
            [x.requiresGrad ? convInputGrad(g, w, nil, geo) : nil,
             w.requiresGrad ? convWeightGrad(x, g, geo) : nil,
             bias?.requiresGrad == true ? g.sum(axes: [0, 2, 3]) : nil]
        }
    }
    return out
}

/// x = convᵀ(y, w) + bias (bias per x channel): conv2d's input gradient and
/// convTranspose2d's forward. Backward: y ← conv(g, w), w ← convWeightGrad(g, y).
func convInputGrad(_ y: Tensor, _ w: Tensor, _ bias: Tensor?, _ geo: ConvGeometry) -> Tensor {
    let yc = kernelOperand(y), wc = kernelOperand(w), bc = bias.map(kernelOperand)
    let out = dispatchFloat(y.dtype, op: "convTranspose2d",
                            { convInputGradKernel(yc, wc, bc, geo, Float.self) },
                            { convInputGradKernel(yc, wc, bc, geo, Double.self) })
    let inputs = [y, w] + (bias.map { [$0] } ?? [])
    if needsGrad(inputs) {
        out.recorded("convTranspose2d", inputs) { g, _ in
            [y.requiresGrad ? convForward(g, w, nil, geo) : nil,
             w.requiresGrad ? convWeightGrad(g, y, geo) : nil,
             bias?.requiresGrad == true ? g.sum(axes: [0, 2, 3]) : nil]
        }
    }
    return out
}

/// dw = conv2d's weight gradient for input `x` and output gradient `y`; bilinear in both.
/// Backward: x ← convInputGrad(y, g), y ← conv(x, g).
func convWeightGrad(_ x: Tensor, _ y: Tensor, _ geo: ConvGeometry) -> Tensor {
    let xc = kernelOperand(x), yc = kernelOperand(y)
    let out = dispatchFloat(x.dtype, op: "conv2d weight gradient",
                            { convWeightGradKernel(xc, yc, geo, Float.self) },
                            { convWeightGradKernel(xc, yc, geo, Double.self) })
    if needsGrad(x, y) {
        out.recorded("conv2dWeightGradient", [x, y]) { g, _ in
            [x.requiresGrad ? convInputGrad(y, g, nil, geo) : nil,
             y.requiresGrad ? convForward(x, g, nil, geo) : nil]
        }
    }
    return out
}

/// The gradient of `conv2d(input, weight, …)` with respect to a weight of `weightShape`,
/// given the gradient of its output (like `torch.nn.grad.conv2d_weight`). Differentiable.
func conv2dWeightGradient(input: Tensor, gradOutput: Tensor, weightShape: [Int], stride: Size2 = 1,
                          padding: Size2 = 0, dilation: Size2 = 1, groups: Int = 1) -> Tensor {
    let geo = orStop { () throws(TensorError) in
        try conv2dGeometry(input: input, weight: Tensor(uninitializedShape: weightShape, dtype: input.dtype), bias: nil,
                           stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
    precondition(gradOutput.shape == geo.outShape,
                 "Fathom.conv2dWeightGradient: gradOutput has shape \(describe(gradOutput.shape)), expected \(describe(geo.outShape))")
    return convWeightGrad(input, gradOutput, geo)
}
