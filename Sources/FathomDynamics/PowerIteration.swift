import FathomTensor

/// Eigenpairs of a curvature operator, ordered by decreasing |eigenvalue|.
public struct Eigenpairs {
    /// Eigenvalues, largest magnitude first.
    public var values: [Double]
    /// Unit eigenvectors, `vectors[i]` for `values[i]`.
    public var vectors: [ParameterVector]
    /// Operator applications spent on each eigenpair (Hessian-vector products).
    public var iterations: [Int]
}

extension HessianOperator {
    /// The `k` eigenvalues of largest magnitude and their eigenvectors, by power iteration
    /// with deflation — PyHessian's `eigenvalues()` (Yao et al. 2020).
    ///
    /// For the i-th pair: start from a standard normal vector (normalized), then repeat
    /// v ← normalize(Hv orthogonalized against the pairs already found); the estimate is
    /// the Rayleigh quotient λ = vᵀHv. Stop when |λ − λ_prev| / (|λ_prev| + 1e-6) <
    /// `tolerance` or after `iterations` products. "Top" means largest |λ|, which is what
    /// power iteration converges to (a large negative eigenvalue counts). The error in λ
    /// falls like (λ_next/λ)^(2·iterations): close eigenvalues need more iterations — or
    /// use `lanczos`, which converges much faster.
    ///
    /// - Parameter seed: seeds the `Generator` that draws the start vectors; equal seeds
    ///   give identical results.
    public func topEigenvalues(k: Int = 1, iterations: Int = 100, tolerance: Double = 1e-3,
                               seed: UInt64 = 0) -> Eigenpairs {
        precondition(k >= 1 && k <= dimension, "Fathom.topEigenvalues: k = \(k) must be in 1...\(dimension) (the number of parameters)")
        precondition(iterations >= 1, "Fathom.topEigenvalues: iterations must be at least 1, got \(iterations)")
        let generator = Generator(seed: seed)
        var result = Eigenpairs(values: [], vectors: [], iterations: [])
        for _ in 0..<k {
            var v = gaussian(generator).orthogonalized(against: result.vectors).normalized()
            var eigenvalue: Double? = nil
            var used = 0
            for _ in 0..<iterations {
                let hv = apply(v)
                used += 1
                let estimate = hv.dot(v)
                v = hv.orthogonalized(against: result.vectors).normalized()
                if let previous = eigenvalue,
                   Swift.abs(estimate - previous) / (Swift.abs(previous) + 1e-6) < tolerance {
                    eigenvalue = estimate
                    break
                }
                eigenvalue = estimate
            }
            result.values.append(eigenvalue!)
            result.vectors.append(v)
            result.iterations.append(used)
        }
        return result
    }
}
