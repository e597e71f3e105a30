import FathomTensor

/// `torch.nn.MaxPool2d`.
public final class MaxPool2d: Layer {
    public let kernelSize: Size2, stride: Size2?, padding: Size2, dilation: Size2, ceilMode: Bool
    public init(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1, ceilMode: Bool = false) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor {
        maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

/// `torch.nn.AvgPool2d`.
public final class AvgPool2d: Layer {
    public let kernelSize: Size2, stride: Size2?, padding: Size2
    public init(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor {
        avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// `torch.nn.AdaptiveAvgPool2d`: averages into a fixed output size.
public final class AdaptiveAvgPool2d: Layer {
    public let outputSize: Size2
    public init(outputSize: Size2) {
        self.outputSize = outputSize
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { adaptiveAvgPool2d(input, outputSize: outputSize) }
}
