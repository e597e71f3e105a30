// StableMax (Prieto et al. 2025, "Grokking at the Edge of Numerical Stability"): softmax
// with exp replaced by a function that grows linearly, so the probabilities cannot round to
// exactly 1 or 0 ("softmax collapse") and the loss gradient does not vanish at float32.

import FathomTensor

/// The elementwise function StableMax uses in place of `exp`:
///
///     s(x) = x + 1          for x ≥ 0
///     s(x) = 1 / (1 − x)    for x < 0
///
/// positive, increasing and continuously differentiable (s(0) = s′(0) = 1). Written as
/// `relu(x) + 1/(1 − min(x, 0))`, so each branch only ever sees inputs where it is finite and
/// the gradient at 0 is 1 (clamp passes its boundary), and it is twice differentiable.
public func stableMaxS(_ x: Tensor) -> Tensor {
    x.relu() + 1 / (1 - x.clamp(max: 0))
}

/// StableMax along `axis`: `s(x_i) / Σ_j s(x_j)`, with `s` as in `stableMaxS`. Like
/// softmax it gives positive values summing to 1 along `axis`; unlike softmax it is not
/// shift-invariant, and the largest probability approaches 1 only polynomially.
public func stableMax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let s = stableMaxS(x)
    return s / s.sum(axes: [axis], keepDims: true)
}

/// `log(stableMax(x, axis))`, computed as `log s(x) − log Σ s(x)` (no division).
public func logStableMax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let s = stableMaxS(x)
    return s.log() - s.sum(axes: [axis], keepDims: true).log()
}

/// Cross-entropy with StableMax in place of softmax (the authors' `stablemax_cross_entropy`):
/// `−log stableMax(logits)[target]` per sample.
///
/// - Parameters:
///   - logits: float scores `[N, C]` (classes on axis 1) or `[C]`.
///   - target: int64 class indices `[N]` (or `[]` for `[C]` logits), each in `0..<C`.
///   - reduction: `.mean` (default), `.sum` or `.none` (the per-sample losses, shape `[N]`).
///
/// Computed in the logits' dtype (the authors cast to float64; pass `.to(.float64)` logits to
/// match them exactly). Differentiable to any order.
public func stableMaxCrossEntropy(_ logits: Tensor, _ target: Tensor, reduction: LossReduction = .mean) -> Tensor {
    orStop { () throws(TensorError) in try stableMaxCrossEntropy(validating: logits, target, reduction: reduction) }
}

/// Like `stableMaxCrossEntropy(_:_:reduction:)` but throws on a bad shape, dtype, class index
/// or reduction (labels read from data).
public func stableMaxCrossEntropy(validating logits: Tensor, _ target: Tensor,
                                  reduction: LossReduction = .mean) throws(TensorError) -> Tensor {
    let op = "stableMaxCrossEntropy"
    try requireFloatingPoint(logits, op: op, name: "logits")
    try checkReduction(reduction, op: op)
    guard target.dtype == .int64 else {
        throw TensorError(op: op, "target must be int64 class indices, got \(target.dtype); convert with .to(.int64)")
    }
    guard (logits.rank == 2 && target.shape == [logits.shape[0]]) || (logits.rank == 1 && target.rank == 0) else {
        throw TensorError(op: op, "logits of shape \(shapeText(logits.shape)) need targets of shape [N] for [N, C] logits or [] for [C] logits, got \(shapeText(target.shape))")
    }
    let classes = logits.shape[logits.rank - 1]
    let labels = target.contiguous().scalars(as: Int64.self)
    if let bad = labels.first(where: { $0 < 0 || $0 >= Int64(classes) }) {
        throw TensorError(op: op, "target class \(bad) is out of range for \(classes) classes; targets must be in 0..<\(classes)")
    }
    let rows = logits.rank == 1 ? logits.reshaped([1, classes]) : logits
    let index = Tensor(labels, shape: [labels.count, 1])
    let losses = -logStableMax(rows, axis: 1).gather(axis: 1, index: index).reshaped([labels.count])
    if logits.rank == 1 && reduction == .none { return losses.reshaped([]) }
    return reduceLoss(losses, reduction)
}
