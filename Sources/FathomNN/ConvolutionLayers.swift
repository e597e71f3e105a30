import FathomTensor

/// 2-d convolution over NCHW batches (`torch.nn.Conv2d`), weights `[out, in/groups, kH, kW]`,
/// initialized as PyTorch does.
public final class Conv2d: Layer {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    public let stride: Size2, padding: Size2, dilation: Size2, groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: Size2 = 0,
                dilation: Size2 = 1, groups: Int = 1, bias: Bool = true, generator: Generator? = nil) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "Fathom.Conv2d: \(inChannels) input and \(outChannels) output channels must both divide into \(groups) groups")
        let shape = [outChannels, inChannels / groups, kernelSize.height, kernelSize.width]
        _weight = Parameter(wrappedValue: Init.pytorchDefaultWeight(shape, generator: generator))
        _bias = OptionalParameter(wrappedValue: bias ? Init.pytorchDefaultBias(outChannels, fanIn: Init.fans(shape).fanIn, generator: generator) : nil)
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// Transposed 2-d convolution (`torch.nn.ConvTranspose2d`), weights `[in, out/groups, kH, kW]`.
public final class ConvTranspose2d: Layer {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    public let stride: Size2, padding: Size2, outputPadding: Size2, dilation: Size2, groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: Size2 = 0,
                outputPadding: Size2 = 0, dilation: Size2 = 1, groups: Int = 1, bias: Bool = true,
                generator: Generator? = nil) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "Fathom.ConvTranspose2d: \(inChannels) input and \(outChannels) output channels must both divide into \(groups) groups")
        let shape = [inChannels, outChannels / groups, kernelSize.height, kernelSize.width]
        _weight = Parameter(wrappedValue: Init.pytorchDefaultWeight(shape, generator: generator))
        // PyTorch computes the bias bound from weight.size(1) * kernel area.
        _bias = OptionalParameter(wrappedValue: bias ? Init.pytorchDefaultBias(outChannels, fanIn: Init.fans(shape).fanIn, generator: generator) : nil)
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        convTranspose2d(input, weight: weight, bias: bias, stride: stride, padding: padding,
                        outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}
