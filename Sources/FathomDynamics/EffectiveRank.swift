import FathomTensor
import Foundation

/// The singular values of `matrix` (shape [N, d], or [N, …] flattened per row to [N, d]),
/// in descending order, min(N, d) of them.
///
/// Computed in float64 as the square roots of the eigenvalues of the smaller Gram matrix
/// (ZᵀZ, d×d, when d ≤ N, else ZZᵀ) with `SymmetricEigen` (values only; Householder + QL
/// above 32 rows, well under a second at 512): exact enough for spectra and entropies. Singular
/// values below about 1e-8·σ_max are not resolved this way (squaring loses them), which
/// the entropy-type measures here do not notice. Tiny negative eigenvalues from rounding
/// are clipped to 0.
public func singularValues(_ matrix: Tensor) -> [Double] {
    precondition(matrix.rank >= 1 && matrix.count > 0,
                 "Fathom.singularValues: expected a non-empty matrix [N, d], got shape \(matrix.shape)")
    let rows = matrix.shape[0]
    let z = noGrad { matrix.to(.float64).reshaped([rows, -1]) }
    let cols = z.shape[1]
    let small = Swift.min(rows, cols)
    let gram = noGrad { cols <= rows ? z.T.matmul(z) : z.matmul(z.T) }.contiguous()
    let eigen = SymmetricEigen(gram.doubles, n: small, vectors: false)
    return eigen.values.reversed().map { Swift.max($0, 0).squareRoot() }
}

/// RankMe, the smooth effective rank of an embedding matrix (Garrido, Balestriero,
/// Najman & LeCun 2023, "RankMe: Assessing the Downstream Performance of Pretrained
/// Self-Supervised Representations by Their Rank", ICML; eq. 1–2):
///
///     p_k = σ_k / ‖σ‖₁ + ε,   RankMe(Z) = exp(−Σ_{k=1}^{min(N, d)} p_k log p_k),
///
/// where σ are the singular values of the embeddings Z [N, d] (not centered, as in the
/// paper) and ε = 1e-7 is the paper's constant (so p_k = ε for zero singular values and
/// the log is finite). It lies in [1, min(N, d)] up to ε-terms: about 1 for a rank-1 Z and
/// min(N, d) when all singular values are equal; it is invariant to scaling and rotating
/// Z. The paper uses about 25 600 embeddings; use N well above d, since a random finite
/// sample is never perfectly isotropic. A zero matrix gives 1 (all mass on no direction
/// is reported as rank 1 rather than NaN).
public func rankMe(_ embeddings: Tensor, epsilon: Double = 1e-7) -> Double {
    let sigma = singularValues(embeddings)
    let total = sigma.reduce(0, +)
    guard total > 0 else { return 1 }
    var entropy = 0.0
    for s in sigma {
        let p = s / total + epsilon
        entropy -= p * log(p)
    }
    return exp(entropy)
}
