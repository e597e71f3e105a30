import FathomTensor

/// Flattens axes `startAxis...endAxis` (`torch.nn.Flatten`: from axis 1 by default,
/// keeping the batch axis).
public final class Flatten: Layer {
    public let startAxis: Int, endAxis: Int
    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.flattened(startAxis: startAxis, endAxis: endAxis) }
}

/// Returns its input (`torch.nn.Identity`), e.g. to replace a layer.
public final class Identity: Layer {
    public override func forward(_ input: Tensor) -> Tensor { input }
}
