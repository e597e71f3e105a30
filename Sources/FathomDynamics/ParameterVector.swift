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

    /// Σ a·b over all parameters, accumulated in float64 in a fixed order (deterministic,
    /// and without float64 copies of float32 parameters).
    public func dot(_ other: ParameterVector) -> Double {
        var total = 0.0
        for (a, b) in zip(tensors, other.tensors) {
            if a.dtype == b.dtype && a.isContiguous && b.isContiguous && a.dtype == .float32 {
                total += dotKernel(a, b, Float.self)
            } else {
                total += noGrad { dotKernel(a.to(.float64).contiguous(), b.to(.float64).contiguous(), Double.self) }
            }
        }
        return total
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

// Vector arithmetic for the iterative methods (Lanczos, deflation), on raw memory.
extension ParameterVector {
    /// All entries in parameter order, as float64.
    func flattenedDoubles() -> [Double] {
        tensors.flatMap(\.doubles)
    }

    /// self − Σ (self·b)·b for orthonormal `basis` (Gram–Schmidt, applied twice for
    /// numerical orthogonality).
    func orthogonalized(against basis: [ParameterVector]) -> ParameterVector {
        var result = self
        for _ in 0..<2 {
            for b in basis { result = result.adding(-result.dot(b), times: b) }
        }
        return result
    }

    /// self / |self|.
    func normalized() -> ParameterVector { scaled(by: 1 / Swift.max(dot(self).squareRoot(), 1e-300)) }


    /// self + s·b, as new tensors.
    func adding(_ s: Double, times other: ParameterVector) -> ParameterVector {
        ParameterVector(zip(tensors, other.tensors).map { a, b in
            guard a.dtype == b.dtype, b.isContiguous, a.dtype == .float32 || a.dtype == .float64 else {
                return noGrad { a + b * s }
            }
            let result = noGrad { a.contiguous().clone() }
            switch a.dtype {
            case .float32: axpyKernel(result, Float(s), b)
            default: axpyKernel(result, s, b)
            }
            return result
        })
    }

    /// s·self, as new tensors.
    func scaled(by s: Double) -> ParameterVector { ParameterVector(noGrad { tensors.map { $0 * s } }) }
}

private func dotKernel<T: BinaryFloatingPoint & TensorScalar>(_ a: Tensor, _ b: Tensor, _: T.Type) -> Double {
    a.withUnsafeBufferPointer(as: T.self) { x in
        b.withUnsafeBufferPointer(as: T.self) { y in
            // Four accumulators in a fixed pattern: deterministic, and not one long chain.
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            let n = x.count, body = n - n % 4
            var i = 0
            while i < body {
                s0 += Double(x[i]) * Double(y[i])
                s1 += Double(x[i + 1]) * Double(y[i + 1])
                s2 += Double(x[i + 2]) * Double(y[i + 2])
                s3 += Double(x[i + 3]) * Double(y[i + 3])
                i += 4
            }
            while i < n { s0 += Double(x[i]) * Double(y[i]); i += 1 }
            return (s0 + s1) + (s2 + s3)
        }
    }
}

private func axpyKernel<T: BinaryFloatingPoint & TensorScalar>(_ y: Tensor, _ s: T, _ x: Tensor) {
    x.withUnsafeBufferPointer(as: T.self) { xs in
        y.withUnsafeMutableBufferPointer(as: T.self) { ys in
            for i in 0..<ys.count { ys[i] += s * xs[i] }
        }
    }
}
