import FathomTensor

/// Zeroes each element with probability `p` and scales the rest by 1/(1−p) during
/// training (inverted dropout, `torch.nn.functional.dropout`); the identity otherwise.
public func dropout(_ input: Tensor, p: Double, training: Bool = true, generator: Generator? = nil) -> Tensor {
    precondition(p >= 0 && p <= 1, "Fathom.dropout: p must be in [0, 1], got \(p)")
    guard training && p > 0 else { return input }
    if p == 1 { return input * 0 }
    let mask = Tensor.bernoulli(input.shape, p: 1 - p, dtype: input.dtype, generator: generator)
    return input * (mask / (1 - p))
}

/// `torch.nn.Dropout`: active in training mode only. Draws from `generator` (the default
/// generator when nil), so a seeded run drops the same units.
public final class Dropout: Layer {
    public let p: Double
    public let generator: Generator?

    public init(p: Double = 0.5, generator: Generator? = nil) {
        precondition(p >= 0 && p <= 1, "Fathom.Dropout: p must be in [0, 1], got \(p)")
        self.p = p
        self.generator = generator
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        dropout(input, p: p, training: isTraining, generator: generator)
    }
}
