import FathomTensor

/// The result of `m` Lanczos steps: the tridiagonal matrix T = Vᵀ·H·V on the Krylov
/// basis V and its eigen-decomposition (Ritz pairs).
public struct LanczosResult {
    /// T's diagonal α₁…α_m.
    public var alphas: [Double]
    /// T's off-diagonal β₁…β_{m−1}.
    public var betas: [Double]
    /// Ritz values (eigenvalues of T), ascending.
    public var ritzValues: [Double]
    /// Squared first components of T's unit eigenvectors, for `ritzValues` in order: the
    /// weights of the Gauss quadrature nodes (they sum to 1).
    public var quadratureWeights: [Double]
    /// Ritz vectors V·y (unit, in parameter space) for `ritzValues` in order; empty when
    /// not requested.
    public var ritzVectors: [ParameterVector]

    /// The `k` Ritz pairs of largest magnitude (largest |λ| first) — the same ordering as
    /// `topEigenvalues`. Vectors are included when they were computed.
    public func top(_ k: Int) -> Eigenpairs {
        let order = ritzValues.indices.sorted { Swift.abs(ritzValues[$0]) > Swift.abs(ritzValues[$1]) }.prefix(k)
        return Eigenpairs(values: order.map { ritzValues[$0] },
                          vectors: ritzVectors.isEmpty ? [] : order.map { ritzVectors[$0] },
                          iterations: order.map { _ in alphas.count })
    }
}

extension HessianOperator {
    /// `steps` steps of the Lanczos iteration with full reorthogonalization, as PyHessian
    /// runs it for `density()` (Ghorbani et al. 2019).
    ///
    /// v₁ = a normalized Rademacher vector from `Generator(seed:)`; each step
    /// w = H·v_j − α_j·v_j − β_{j−1}·v_{j−1} with α_j = v_jᵀHv_j, then w is orthogonalized
    /// against every earlier basis vector (twice, classical Gram–Schmidt), β_j = |w|,
    /// v_{j+1} = w/β_j. Stops early, with fewer steps, if β_j < 1e-10·max|α| (an invariant
    /// subspace: the Ritz values are then exact). Ritz values are T's eigenvalues;
    /// the extreme ones converge to H's extreme eigenvalues first, so a few dozen steps
    /// give the top eigenvalues to many digits. Memory: `steps` parameter-sized vectors.
    ///
    /// - Parameter ritzVectors: also form the Ritz vectors V·y (costs steps² axpys).
    public func lanczos(steps: Int, seed: UInt64 = 0, ritzVectors: Bool = true) -> LanczosResult {
        lanczos(steps: steps, start: rademacher(Generator(seed: seed)), ritzVectors: ritzVectors)
    }

    /// Lanczos from a given start vector (normalized first).
    func lanczos(steps: Int, start: ParameterVector, ritzVectors wantVectors: Bool) -> LanczosResult {
        precondition(steps >= 1, "Fathom.lanczos: steps must be at least 1, got \(steps)")
        let m = Swift.min(steps, dimension)
        var basis = [start.normalized()]
        var alphas: [Double] = [], betas: [Double] = []
        for j in 0..<m {
            var w = apply(basis[j])
            let alpha = w.dot(basis[j])
            alphas.append(alpha)
            if j == m - 1 { break }
            w = w.adding(-alpha, times: basis[j])
            if j > 0 { w = w.adding(-betas[j - 1], times: basis[j - 1]) }
            w = w.orthogonalized(against: basis)
            let beta = w.dot(w).squareRoot()
            let scale = alphas.reduce(0) { Swift.max($0, Swift.abs($1)) }
            if beta <= 1e-10 * Swift.max(scale, 1e-300) { break }
            betas.append(beta)
            basis.append(w.scaled(by: 1 / beta))
        }
        let eigen = SymmetricEigen(tridiagonal: alphas, offDiagonal: betas)
        var vectors: [ParameterVector] = []
        if wantVectors {
            vectors = eigen.vectors.map { y in
                var sum = basis[0].scaled(by: y[0])
                for i in 1..<y.count { sum = sum.adding(y[i], times: basis[i]) }
                return sum.normalized()
            }
        }
        return LanczosResult(alphas: alphas, betas: betas, ritzValues: eigen.values,
                             quadratureWeights: eigen.vectors.map { $0[0] * $0[0] }, ritzVectors: vectors)
    }
}
