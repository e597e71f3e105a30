import FathomTensor

/// Combines distance matrices from several models (or several feature types) into one,
/// the usual "ensemble" step of re-ID evaluation: `Σ_m w_m · N(D_m) / Σ_m w_m`.
public enum DistanceEnsemble {
    /// How each matrix is rescaled before averaging, so models with different distance
    /// ranges (squared Euclidean vs cosine) contribute comparably.
    public enum Normalization: String, Sendable, CaseIterable {
        /// Use the matrices as they are.
        case none
        /// Divide by the matrix's largest entry (left unchanged when that is not positive).
        case max
        /// Map the matrix's range to [0, 1]: `(D − min) / (max − min)` (constant matrices become 0).
        case minMax
        /// Subtract the matrix's mean and divide by its (population) standard deviation
        /// (constant matrices become 0).
        case zScore
    }

    /// The weighted mean of `matrices` (all of one shape, float32 or float64) after
    /// `normalization`. `weights` default to equal; they must be non-negative with a positive sum.
    /// The result is float64.
    public static func combine(_ matrices: [Tensor], weights: [Double]? = nil,
                               normalization: Normalization = .none) -> Tensor {
        orStop { () throws(TensorError) in try combine(validating: matrices, weights: weights, normalization: normalization) }
    }

    /// Throwing variant of `combine(_:weights:normalization:)`.
    public static func combine(validating matrices: [Tensor], weights: [Double]? = nil,
                               normalization: Normalization = .none) throws(TensorError) -> Tensor {
        let op = "DistanceEnsemble.combine"
        guard let first = matrices.first else { throw TensorError(op: op, "no distance matrices were given") }
        let w = weights ?? [Double](repeating: 1, count: matrices.count)
        guard w.count == matrices.count else {
            throw TensorError(op: op, "\(matrices.count) matrices but \(w.count) weights")
        }
        guard w.allSatisfy({ $0 >= 0 && $0.isFinite }), w.reduce(0, +) > 0 else {
            throw TensorError(op: op, "weights must be finite, non-negative and not all zero, got \(w)")
        }
        var total = [Double](repeating: 0, count: first.count)
        for (matrix, weight) in zip(matrices, w) {
            guard matrix.shape == first.shape else {
                throw TensorError(op: op, "all matrices must have one shape; got \(first.shape) and \(matrix.shape)")
            }
            let m = try DoubleMatrix(matrix, op: op)
            let values = normalized(m.values, normalization)
            for k in values.indices { total[k] += weight * values[k] }
        }
        let sum = w.reduce(0, +)
        return Tensor(total.map { $0 / sum }, shape: first.shape)
    }

    static func normalized(_ values: [Double], _ normalization: Normalization) -> [Double] {
        guard !values.isEmpty else { return values }
        switch normalization {
        case .none:
            return values
        case .max:
            let top = values.max()!
            return top > 0 ? values.map { $0 / top } : values
        case .minMax:
            let (low, high) = (values.min()!, values.max()!)
            return high > low ? values.map { ($0 - low) / (high - low) } : values.map { _ in 0 }
        case .zScore:
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            return variance > 0 ? values.map { ($0 - mean) / variance.squareRoot() } : values.map { _ in 0 }
        }
    }
}
