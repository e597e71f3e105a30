// Contrastive representation losses on a batch of embeddings: NT-Xent (SimCLR's InfoNCE),
// supervised contrastive (SupCon), decoupled contrastive (DCL) and its weighted form (DCLW).
// All are composed of differentiable tensor ops (matmul, logsumexp, where), so gradients
// and second derivatives flow through the tape. Similarities are cosine similarities: every
// loss L2-normalizes its embeddings first, as the papers define them on the unit sphere.

import FathomTensor

/// NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (Chen et al. 2020,
/// "A Simple Framework for Contrastive Learning of Visual Representations", eq. 1) — the
/// InfoNCE loss with in-batch negatives.
///
/// `view1[i]` and `view2[i]` are two augmented views of example i (`[N, D]` each). The 2N
/// embeddings are L2-normalized and, with `s(u, v) = uᵀv / (‖u‖‖v‖)`, each of the 2N
/// anchors k gets
///
///     ℓ_k = −s(z_k, z_k⁺)/τ + log Σ_{j ≠ k} exp(s(z_k, z_j)/τ)
///
/// where `z_k⁺` is the other view of the same example and the sum runs over the other
/// 2N − 1 embeddings (the anchor's self-similarity is masked; the positive stays in the
/// denominator). `.mean` is SimCLR's `1/(2N) Σ_k ℓ_k`; `.none` gives the 2N values in the
/// order `view1` rows, then `view2` rows.
///
/// - Parameters:
///   - temperature: τ > 0 (0.5 here, SimCLR's CIFAR-10 setting; its large-batch ImageNet runs use 0.1).
public func ntXentLoss(_ view1: Tensor, _ view2: Tensor, temperature: Double = 0.5,
                       reduction: LossReduction = .mean) -> Tensor {
    let n = orStop { () throws(TensorError) in
        try checkPairedViews(view1, view2, temperature: temperature, reduction: reduction, op: "ntXentLoss")
    }
    let z = unitLengthRows(Tensor.cat([view1, view2], axis: 0))
    let logits = z.matmul(z.transposed()) / temperature
    let positive = (z.select([.range(start: 0, end: n)]) * z.select([.range(start: n, end: nil)])).sum(axis: 1) / temperature
    let denominator = logits.maskedFill(mask: diagonalMask(2 * n), value: -.infinity).logsumexp(axis: 1)
    return reduceLoss(denominator - Tensor.cat([positive, positive], axis: 0), reduction)
}

/// Supervised contrastive loss, the `L_out` form of Khosla et al. 2020 ("Supervised
/// Contrastive Learning", eq. 2), as in the authors' reference `SupConLoss`.
///
/// `features` is `[M, D]` (every view of every example as its own row) and `labels` int64
/// `[M]`. After L2 normalization, with `A(i)` all rows but i and `P(i) ⊂ A(i)` the rows
/// sharing i's label,
///
///     ℓ_i = −(τ/τ_base) · 1/|P(i)| Σ_{p ∈ P(i)} log( exp(z_i·z_p/τ) / Σ_{a ∈ A(i)} exp(z_i·z_a/τ) )
///
/// An anchor with no positive contributes 0 and still counts in `.mean` (the reference
/// code divides its zero sum by 1). `baseTemperature` τ_base defaults to τ, which gives the
/// paper's formula (the reference code's 0.07/0.07). With one view per example and labels
/// equal to the example index across two views, it is NT-Xent.
public func supConLoss(_ features: Tensor, labels: Tensor, temperature: Double = 0.07,
                       baseTemperature: Double? = nil, reduction: LossReduction = .mean) -> Tensor {
    let op = "supConLoss"
    orStop { () throws(TensorError) in
        try checkLabelledEmbeddings(features, labels: labels, op: op)
        try checkReduction(reduction, op: op)
        guard temperature > 0, (baseTemperature ?? 1) > 0 else {
            throw TensorError(op: op, "temperature \(temperature) and baseTemperature \(baseTemperature ?? temperature) must be positive")
        }
    }
    let m = features.shape[0]
    let z = unitLengthRows(features)
    let logits = z.matmul(z.transposed()) / temperature
    let notSelf = diagonalMask(m).logicalNot()
    let positives = labelMatchMask(labels).logicalAnd(notSelf).to(z.dtype)
    let counts = positives.sum(axis: 1)
    let denominator = logits.maskedFill(mask: notSelf.logicalNot(), value: -.infinity).logsumexp(axis: 1)
    let meanPositive = (logits * positives).sum(axis: 1) / maximum(counts, 1.0)
    let perAnchor = Tensor.where(counts .> 0, denominator - meanPositive, 0.0)
    return reduceLoss(perAnchor * (temperature / (baseTemperature ?? temperature)), reduction)
}

/// Decoupled contrastive loss (Yeh et al. 2022, "Decoupled Contrastive Learning", eq. 6):
/// NT-Xent with the positive pair removed from the denominator.
///
/// For each of the 2N anchors k (views as in `ntXentLoss`), with cosine similarities,
///
///     ℓ_k = −w_k · s(z_k, z_k⁺)/τ + log Σ_{j ∉ {k, k⁺}} exp(s(z_k, z_j)/τ)
///
/// the sum running over the 2N − 2 negatives of both views, in one log-sum-exp (as eq. 6
/// and the widely used implementation github.com/raminnakhli/Decoupled-Contrastive-Learning;
/// lightly's `DCLLoss` instead adds two log-sum-exps, one per view). `w_k = 1` here;
/// `dclwLoss` weights the positive term. `.mean` averages the 2N anchors, as lightly does
/// (raminnakhli's code adds the two directions' means: twice this value).
public func dclLoss(_ view1: Tensor, _ view2: Tensor, temperature: Double = 0.1,
                    reduction: LossReduction = .mean) -> Tensor {
    decoupledContrastive(view1, view2, temperature: temperature, sigma: nil, reduction: reduction, op: "dclLoss")
}

/// Weighted decoupled contrastive loss DCLW (Yeh et al. 2022, eq. 6 with the negative
/// von Mises–Fisher weighting): `dclLoss` with the positive term of example i weighted by
///
///     w_i = 2 − exp(s(z_i, z_i⁺)/σ) / ( (1/N) Σ_j exp(s(z_j, z_j⁺)/σ) )  =  2 − N · softmax_i(s(z_i, z_i⁺)/σ)
///
/// (the paper's `2 − exp(⟨z_i, z_i⁺⟩/σ) / E_i[exp(⟨z_i, z_i⁺⟩/σ)]`, as lightly computes it;
/// raminnakhli's code drops the factor N), the same weight for both views of example i (the
/// weights average 1), σ = 0.5 as in the paper. The weight is differentiated like the rest
/// (as raminnakhli's code does; lightly's `DCLWLoss` detaches it).
public func dclwLoss(_ view1: Tensor, _ view2: Tensor, temperature: Double = 0.1, sigma: Double = 0.5,
                     reduction: LossReduction = .mean) -> Tensor {
    decoupledContrastive(view1, view2, temperature: temperature, sigma: sigma, reduction: reduction, op: "dclwLoss")
}

private func decoupledContrastive(_ view1: Tensor, _ view2: Tensor, temperature: Double, sigma: Double?,
                                  reduction: LossReduction, op: String) -> Tensor {
    let n = orStop { () throws(TensorError) in
        if let sigma, !(sigma > 0) { throw TensorError(op: op, "sigma is \(sigma); it must be positive") }
        return try checkPairedViews(view1, view2, temperature: temperature, reduction: reduction, op: op)
    }
    let z = unitLengthRows(Tensor.cat([view1, view2], axis: 0))
    let logits = z.matmul(z.transposed()) / temperature
    let cosine = (z.select([.range(start: 0, end: n)]) * z.select([.range(start: n, end: nil)])).sum(axis: 1)
    var positive = cosine / temperature
    if let sigma { positive = positive * (2.0 - Double(n) * (cosine / sigma).softmax(axis: 0)) }
    // Mask the anchor itself and its positive: entries (k, k) and (k, k ± N).
    let index = Tensor.arange(2 * n)
    let partner = Tensor.cat([index.select([.range(start: n, end: nil)]), index.select([.range(start: 0, end: n)])])
    let columns = index.reshaped([1, 2 * n])
    let excluded = (columns .== index.reshaped([2 * n, 1])).logicalOr(columns .== partner.reshaped([2 * n, 1]))
    let negatives = logits.maskedFill(mask: excluded, value: -.infinity).logsumexp(axis: 1)
    return reduceLoss(negatives - Tensor.cat([positive, positive], axis: 0), reduction)
}

// MARK: shared helpers (also used by the metric losses)

/// Rows of `x` divided by their L2 norm (at least 1e-12, as `torch.nn.functional.normalize`).
func unitLengthRows(_ x: Tensor) -> Tensor {
    x / maximum(x.norm(axis: -1, keepDims: true), 1e-12)
}

/// The `[n, n]` boolean identity (true on the diagonal).
func diagonalMask(_ n: Int) -> Tensor {
    let i = Tensor.arange(n)
    return i.reshaped([n, 1]) .== i.reshaped([1, n])
}

/// `[M, M]` boolean: `labels[i] == labels[j]`.
func labelMatchMask(_ labels: Tensor) -> Tensor {
    let m = labels.count
    return labels.reshaped([m, 1]) .== labels.reshaped([1, m])
}

/// Validates `[N, D]` floating-point embeddings with int64 labels `[N]`.
func checkLabelledEmbeddings(_ x: Tensor, labels: Tensor, op: String) throws(TensorError) {
    try requireFloatingPoint(x, op: op, name: "the embeddings")
    guard x.rank == 2, x.shape[0] > 0 else {
        throw TensorError(op: op, "embeddings must be a non-empty [N, D] batch, got shape \(shapeText(x.shape))")
    }
    guard labels.dtype == .int64, labels.shape == [x.shape[0]] else {
        throw TensorError(op: op, "labels must be int64 of shape [\(x.shape[0])] (one per embedding row), got \(labels.dtype) \(shapeText(labels.shape))")
    }
}

/// Validates two `[N, D]` views and the temperature; returns N.
func checkPairedViews(_ a: Tensor, _ b: Tensor, temperature: Double, reduction: LossReduction,
                      op: String) throws(TensorError) -> Int {
    try requireFloatingPoint(a, op: op, name: "view1")
    try requireFloatingPoint(b, op: op, name: "view2")
    try checkReduction(reduction, op: op)
    guard a.rank == 2, a.shape == b.shape, a.shape[0] > 0 else {
        throw TensorError(op: op, "the views must be non-empty [N, D] batches of the same shape, got \(shapeText(a.shape)) and \(shapeText(b.shape))")
    }
    guard a.dtype == b.dtype else {
        throw TensorError(op: op, "the views have dtypes \(a.dtype) and \(b.dtype); convert one")
    }
    guard temperature > 0 else { throw TensorError(op: op, "temperature is \(temperature); it must be positive") }
    return a.shape[0]
}
