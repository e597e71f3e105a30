import FathomTensor

/// An exponential moving average of a model's weights (Polyak averaging), as used for
/// evaluation in many recipes: `shadow ← decay·shadow + (1 − decay)·θ` after each step.
/// Buffers (batch-norm statistics) are copied, not averaged.
public final class ExponentialMovingAverage {
    public let decay: Double
    /// The averaged state, under the model's state-dict keys.
    public private(set) var shadow: StateDict

    public init(_ model: Module, decay: Double = 0.999) {
        precondition(decay >= 0 && decay <= 1, "Fathom.ExponentialMovingAverage: decay must be in [0, 1], got \(decay)")
        self.decay = decay
        self.shadow = StateDict(model.stateDict().entries.map { entry in (entry.key, noGrad { entry.tensor.clone() }) })
    }

    /// Folds the model's current weights into the average.
    public func update(_ model: Module) {
        let parameterNames = Set(model.namedParameters().map(\.name))
        noGrad {
            for (key, tensor) in model.stateDict().entries {
                guard let average = shadow[key] else { continue }
                if parameterNames.contains(key) {
                    average.mulInPlace(decay)
                    average.addInPlace(tensor, alpha: 1 - decay)
                } else {
                    average.assign(tensor)
                }
            }
        }
    }

    /// Copies the averaged weights into `model` (e.g. before evaluation).
    public func copy(to model: Module) throws {
        try model.load(stateDict: shadow)
    }
}
