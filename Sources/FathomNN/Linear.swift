import FathomTensor

/// y = x·Wᵀ + b over the last axis (`torch.nn.Linear`), weights `[out, in]`, initialized
/// as PyTorch does.
public final class Linear: Layer {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    public let inFeatures: Int, outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: Generator? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        _weight = Parameter(wrappedValue: Init.pytorchDefaultWeight([outFeatures, inFeatures], generator: generator))
        _bias = OptionalParameter(wrappedValue: bias ? Init.pytorchDefaultBias(outFeatures, fanIn: inFeatures, generator: generator) : nil)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.shape.last == inFeatures,
                     "Fathom.Linear: input of shape \(input.shape) does not end in \(inFeatures) features; the layer is Linear(\(inFeatures), \(outFeatures))")
        return linear(input, weight: weight, bias: bias)
    }
}
