import FathomTensor

/// `max(0, x)` (`torch.nn.ReLU`).
public final class ReLU: Layer {
    public override func forward(_ input: Tensor) -> Tensor { input.relu() }
}

/// `x` for x > 0, `negativeSlope·x` otherwise (`torch.nn.LeakyReLU`).
public final class LeakyReLU: Layer {
    public let negativeSlope: Double
    public init(negativeSlope: Double = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.leakyRelu(negativeSlope: negativeSlope) }
}

/// `x·Φ(x)`, exact or with the tanh approximation (`torch.nn.GELU`).
public final class GELU: Layer {
    public let approximate: GELUApproximation
    public init(approximate: GELUApproximation = .none) {
        self.approximate = approximate
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.gelu(approximate: approximate) }
}

/// `x·σ(x)` (`torch.nn.SiLU`).
public final class SiLU: Layer {
    public override func forward(_ input: Tensor) -> Tensor { input.silu() }
}

/// `torch.nn.Tanh`.
public final class Tanh: Layer {
    public override func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// `torch.nn.Sigmoid`.
public final class Sigmoid: Layer {
    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// `log(1 + exp(β·x))/β`, linear above `threshold` (`torch.nn.Softplus`).
public final class Softplus: Layer {
    public let beta: Double, threshold: Double
    public init(beta: Double = 1, threshold: Double = 20) {
        self.beta = beta
        self.threshold = threshold
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.softplus(beta: beta, threshold: threshold) }
}
