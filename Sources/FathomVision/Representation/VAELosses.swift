// The pieces of the β-VAE (Higgins et al. 2017) and β-TCVAE (Chen et al. 2018, "Isolating
// Sources of Disentanglement in VAEs") objectives, written with differentiable tensor ops
// so they train models and pass float64 gradient checks. Shapes: batch B, latents D.

import Foundation
import FathomNN
import FathomTensor

private let halfLogTwoPi = 0.5 * Foundation.log(2 * Double.pi)

/// log N(z; mean, exp(logVariance)) per element (same shapes, broadcast):
/// −½(log 2π + logσ² + (z − μ)²/σ²).
public func gaussianLogDensity(_ z: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
    -0.5 * ((z - mean).square() * (-logVariance).exp() + logVariance) - halfLogTwoPi
}

/// log N(z; 0, 1) per element: the VAE prior's log density.
public func standardNormalLogDensity(_ z: Tensor) -> Tensor {
    -0.5 * z.square() - halfLogTwoPi
}

/// KL(N(μ, σ²) ‖ N(0, 1)) per element, in closed form: ½(μ² + σ² − 1 − log σ²). Shape `[B, D]`.
public func gaussianKLToStandardNormal(mean: Tensor, logVariance: Tensor) -> Tensor {
    0.5 * (mean.square() + logVariance.exp() - 1 - logVariance)
}

/// The Bernoulli decoder's negative log-likelihood −log p(x|z) per image: binary
/// cross-entropy with logits summed over every non-batch axis (the reconstruction term
/// the dSprites papers use). `logits` and `target` share a shape `[B, …]`; returns `[B]`.
public func bernoulliReconstructionLoss(logits: Tensor, target: Tensor) -> Tensor {
    precondition(logits.shape == target.shape && logits.rank >= 1,
                 "Fathom.bernoulliReconstructionLoss: logits \(logits.shape) and target \(target.shape) must have one shape [B, …]")
    let perPixel = binaryCrossEntropyWithLogits(logits, target, reduction: .none)
    return perPixel.rank == 1 ? perPixel : perPixel.sum(axes: Array(1..<perPixel.rank))
}

/// Minibatch-weighted-sampling (MWS) estimates of log q(z) and log ∏_d q(z_d) for each
/// sample of a batch (Chen et al. 2018, eq. (S1)/§C.1; `rtqichen/beta-tcvae` without `--mss`):
///
///     log q(z_i)        ≈ logsumexp_j Σ_d log q(z_id | x_j) − log(N·M)
///     log ∏_d q(z_id)   ≈ Σ_d [logsumexp_j log q(z_id | x_j) − log(N·M)]
///
/// with M the batch size, N the dataset size and q(z|x_j) the Gaussian posterior of batch
/// element j (`mean[j]`, `logVariance[j]`). `z`, `mean`, `logVariance`: `[M, D]`; returns two `[M]`.
public func minibatchWeightedSampling(z: Tensor, mean: Tensor, logVariance: Tensor,
                                      datasetSize: Int) -> (logQZ: Tensor, logProductOfMarginals: Tensor) {
    precondition(z.rank == 2 && z.shape == mean.shape && z.shape == logVariance.shape,
                 "Fathom.minibatchWeightedSampling: z \(z.shape), mean \(mean.shape), logVariance \(logVariance.shape) must all be [M, D]")
    precondition(datasetSize >= z.shape[0],
                 "Fathom.minibatchWeightedSampling: datasetSize \(datasetSize) is smaller than the batch \(z.shape[0])")
    let m = z.shape[0]
    // pairwise[i, j, d] = log q(z_id | x_j).
    let pairwise = gaussianLogDensity(z.unsqueezed(axis: 1), mean: mean.unsqueezed(axis: 0),
                                      logVariance: logVariance.unsqueezed(axis: 0))
    let logNM = Foundation.log(Double(datasetSize) * Double(m))
    let logQZ = pairwise.sum(axis: 2).logsumexp(axis: 1) - logNM
    let logProduct = (pairwise.logsumexp(axis: 1) - logNM).sum(axis: 1)
    return (logQZ, logProduct)
}

/// Estimates of log q(z) and log ∏_d q(z_d) like `minibatchWeightedSampling`, but with
/// importance weights that sum to one: 1/N on each sample's own posterior q(z_i|x_i) and
/// (N − 1)/(N·(M − 1)) on each other batch member's (the others stand in for the rest of the
/// dataset). MWS weights every member 1/(N·M), which sums to 1/N: when the posteriors
/// overlap (collapsed latents) its log q(z) is low by log N and its log ∏ q(z_d) by D·log N,
/// so its total correlation is offset by up to (D − 1)·log N — harmless for training (a
/// constant), misleading as a reported figure. This estimator reads 0 there. Needs M ≥ 2.
public func selfNormalizedMinibatchSampling(z: Tensor, mean: Tensor, logVariance: Tensor,
                                            datasetSize: Int) -> (logQZ: Tensor, logProductOfMarginals: Tensor) {
    precondition(z.rank == 2 && z.shape == mean.shape && z.shape == logVariance.shape && z.shape[0] >= 2,
                 "Fathom.selfNormalizedMinibatchSampling: z \(z.shape), mean \(mean.shape), logVariance \(logVariance.shape) must all be [M, D] with M >= 2")
    precondition(datasetSize >= z.shape[0],
                 "Fathom.selfNormalizedMinibatchSampling: datasetSize \(datasetSize) is smaller than the batch \(z.shape[0])")
    let m = z.shape[0]
    let n = Double(datasetSize)
    let pairwise = gaussianLogDensity(z.unsqueezed(axis: 1), mean: mean.unsqueezed(axis: 0),
                                      logVariance: logVariance.unsqueezed(axis: 0))
    // log weights [M, M, 1]: −log N on the diagonal, log((N − 1)/(N(M − 1))) elsewhere.
    let own = -Foundation.log(n), other = Foundation.log((n - 1) / (n * Double(m - 1)))
    var weights = [Double](repeating: other, count: m * m)
    for i in 0..<m { weights[i * m + i] = own }
    let logWeights = Tensor(weights, shape: [m, m, 1], dtype: z.dtype)
    let logQZ = (pairwise.sum(axis: 2, keepDims: true) + logWeights).logsumexp(axis: 1).squeezed(axis: 1)
    let logProduct = (pairwise + logWeights).logsumexp(axis: 1).sum(axis: 1)
    return (logQZ, logProduct)
}

/// Which VAE objective to minimise.
public enum VAEObjective: Sendable, Equatable {
    /// β-VAE: reconstruction + β·KL(q(z|x) ‖ p(z)) (β = 1: the plain ELBO).
    case betaVAE(beta: Double)
    /// β-TCVAE: reconstruction + α·(index-code MI) + β·TC + γ·(dimension-wise KL), the KL
    /// decomposition estimated with minibatch-weighted sampling over a dataset of
    /// `datasetSize` examples (the paper uses α = γ = 1).
    case betaTCVAE(alpha: Double, beta: Double, gamma: Double, datasetSize: Int)
}

/// The terms of one batch's objective, each a scalar tensor (batch mean per image).
public struct VAELossTerms {
    /// What to minimise (differentiable).
    public let total: Tensor
    /// −log p(x|z): summed binary cross-entropy per image.
    public let reconstruction: Tensor
    /// KL(q(z|x) ‖ p(z)) in closed form, summed over latents.
    public let kl: Tensor
    /// β-TCVAE only: E[log q(z|x) − log q(z)] (index-code mutual information).
    public let mutualInformation: Tensor?
    /// β-TCVAE only: E[log q(z) − log ∏ q(z_d)] (total correlation).
    public let totalCorrelation: Tensor?
    /// β-TCVAE only: E[log ∏ q(z_d) − log p(z)] (dimension-wise KL).
    public let dimensionwiseKL: Tensor?
}

/// The objective for a batch: decoder `logits` of `target` images `[B, …]`, the sampled
/// latents `z` and the posterior `mean`/`logVariance` they were drawn from (`[B, D]`).
public func vaeLoss(_ objective: VAEObjective, logits: Tensor, target: Tensor, z: Tensor,
                    mean: Tensor, logVariance: Tensor) -> VAELossTerms {
    let reconstruction = bernoulliReconstructionLoss(logits: logits, target: target).mean()
    let kl = gaussianKLToStandardNormal(mean: mean, logVariance: logVariance).sum(axis: 1).mean()
    switch objective {
    case .betaVAE(let beta):
        return VAELossTerms(total: reconstruction + beta * kl, reconstruction: reconstruction, kl: kl,
                            mutualInformation: nil, totalCorrelation: nil, dimensionwiseKL: nil)
    case .betaTCVAE(let alpha, let beta, let gamma, let datasetSize):
        let logQZX = gaussianLogDensity(z, mean: mean, logVariance: logVariance).sum(axis: 1)
        let logPZ = standardNormalLogDensity(z).sum(axis: 1)
        let (logQZ, logProduct) = minibatchWeightedSampling(z: z, mean: mean, logVariance: logVariance,
                                                            datasetSize: datasetSize)
        let mi = (logQZX - logQZ).mean()
        let tc = (logQZ - logProduct).mean()
        let dimKL = (logProduct - logPZ).mean()
        return VAELossTerms(total: reconstruction + alpha * mi + beta * tc + gamma * dimKL,
                            reconstruction: reconstruction, kl: kl,
                            mutualInformation: mi, totalCorrelation: tc, dimensionwiseKL: dimKL)
    }
}
