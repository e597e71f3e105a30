import FathomNN
import FathomTensor

/// A point or direction in a model's parameter space: one tensor per parameter, in
/// `namedParameters()` order. The research instruments (interpolation, curvature,
/// landscapes, alignment) all work on these.
public struct ParameterVector {
    public var tensors: [Tensor]

    public init(_ tensors: [Tensor]) { self.tensors = tensors }

    /// A detached copy of `model`'s current parameters.
    public init(copying model: Module) {
        tensors = noGrad { model.parameters().map { $0.clone() } }
    }

    /// Number of scalars.
    public var count: Int { tensors.reduce(0) { $0 + $1.count } }

    /// Σ a·b over all parameters, in float64.
    public func dot(_ other: ParameterVector) -> Double {
        noGrad { zip(tensors, other.tensors).reduce(0.0) { $0 + ($1.0.to(.float64) * $1.1.to(.float64)).sum().item() } }
    }

    /// The Euclidean norm.
    public var norm: Double { dot(self).squareRoot() }

    public static func + (a: ParameterVector, b: ParameterVector) -> ParameterVector {
        ParameterVector(noGrad { zip(a.tensors, b.tensors).map { $0 + $1 } })
    }

    public static func - (a: ParameterVector, b: ParameterVector) -> ParameterVector {
        ParameterVector(noGrad { zip(a.tensors, b.tensors).map { $0 - $1 } })
    }

    public static func * (s: Double, a: ParameterVector) -> ParameterVector {
        ParameterVector(noGrad { a.tensors.map { $0 * s } })
    }

    /// (1 − λ)·a + λ·b.
    public static func interpolate(_ a: ParameterVector, _ b: ParameterVector, _ lambda: Double) -> ParameterVector {
        ParameterVector(noGrad { zip(a.tensors, b.tensors).map { $0 * (1 - lambda) + $1 * lambda } })
    }

    /// Writes these values into `model`'s parameters, in place.
    public func load(into model: Module) {
        let parameters = model.parameters()
        precondition(parameters.count == tensors.count && zip(parameters, tensors).allSatisfy { $0.shape == $1.shape },
                     "Fathom.ParameterVector.load: the vector does not match the model's parameters (\(tensors.count) tensors for \(parameters.count) parameters)")
        noGrad { for (p, t) in zip(parameters, tensors) { p.assign(t) } }
    }
}
