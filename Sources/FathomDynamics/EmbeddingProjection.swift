import FathomTensor

/// Principal component analysis of an embedding matrix [N, D] down to a few (by default 2)
/// coordinates per example, for scatter plots of representations.
///
/// The rows are centred on their mean; the principal directions are the eigenvectors of
/// the D×D sample covariance XᵀX / (N − 1) (float64, decomposed by `SymmetricEigen`, so the
/// cost is O(N·D² + D³): fine for the few-hundred-dimensional features of this toolkit's
/// models), taken in order of decreasing variance. Eigenvectors have no intrinsic sign;
/// each component is flipped so that **its entry of largest magnitude is positive** (the
/// first such entry on a tie), which makes the projection deterministic and independent
/// of the eigen-solver's sign choices. The coordinates of example i are ⟨xᵢ − mean, vₖ⟩.
public struct EmbeddingProjection {
    /// The mean embedding (length D) subtracted before projecting.
    public let mean: [Double]
    /// The principal directions, unit vectors of length D, in order of decreasing variance.
    /// When D is smaller than the number of components asked for, the missing ones are zero.
    public let components: [[Double]]
    /// The variance of the data along each component (the covariance eigenvalues).
    public let variances: [Double]
    /// The total variance (trace of the covariance), the denominator of `explainedVarianceRatio`.
    public let totalVariance: Double
    /// `coordinates[i][k]` is example i's coordinate along component k.
    public let coordinates: [[Double]]

    /// The fraction of the total variance each component explains (0 for constant data).
    public var explainedVarianceRatio: [Double] {
        variances.map { totalVariance > 0 ? $0 / totalVariance : 0 }
    }

    /// Projects the `count` rows of `dimension` values each stored row-major in `values`.
    public init(rows values: [Double], count n: Int, dimension d: Int, components k: Int = 2) {
        precondition(n >= 1 && d >= 1 && values.count == n * d,
                     "Fathom.EmbeddingProjection: \(values.count) values do not form \(n) rows of \(d) (both must be ≥ 1)")
        precondition(k >= 1, "Fathom.EmbeddingProjection: components is \(k); ask for at least 1")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += values[i * d + j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        // Covariance, upper triangle then mirrored; rows accumulated in index order.
        var covariance = [Double](repeating: 0, count: d * d)
        var centred = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d { centred[j] = values[i * d + j] - mean[j] }
            for a in 0..<d {
                let ca = centred[a]
                for b in a..<d { covariance[a * d + b] += ca * centred[b] }
            }
        }
        let scale = n > 1 ? 1 / Double(n - 1) : 0
        for a in 0..<d {
            for b in a..<d {
                covariance[a * d + b] *= scale
                covariance[b * d + a] = covariance[a * d + b]
            }
        }
        let eigen = SymmetricEigen(covariance, n: d)
        var components: [[Double]] = [], variances: [Double] = []
        for rank in 0..<k {
            guard rank < d else {
                components.append([Double](repeating: 0, count: d))
                variances.append(0)
                continue
            }
            let index = d - 1 - rank          // values ascend
            var v = eigen.vectors[index]
            var largest = 0
            for j in 1..<d where abs(v[j]) > abs(v[largest]) { largest = j }
            if v[largest] < 0 { v = v.map { -$0 } }
            components.append(v)
            variances.append(max(eigen.values[index], 0))   // round-off can make a zero eigenvalue slightly negative
        }
        self.mean = mean
        self.components = components
        self.variances = variances
        totalVariance = (0..<d).reduce(0) { $0 + covariance[$1 * d + $1] }
        coordinates = (0..<n).map { i in
            components.map { v in
                var s = 0.0
                for j in 0..<d { s += (values[i * d + j] - mean[j]) * v[j] }
                return s
            }
        }
    }

    /// Projects the rows of `embeddings` [N, D] (any dtype; inputs with more axes are
    /// flattened per example to [N, …]).
    public init(_ embeddings: Tensor, components k: Int = 2) {
        precondition(embeddings.rank >= 1 && embeddings.shape[0] >= 1 && embeddings.count > 0,
                     "Fathom.EmbeddingProjection: embeddings \(embeddings.shape) must be [N, D] with N, D ≥ 1")
        let n = embeddings.shape[0]
        self.init(rows: embeddings.doubles, count: n, dimension: embeddings.count / n, components: k)
    }

    /// The first coordinate of every example.
    public var x: [Double] { coordinates.map { $0[0] } }
    /// The second coordinate of every example (0 when only one component was computed).
    public var y: [Double] { coordinates.map { $0.count > 1 ? $0[1] : 0 } }
}
