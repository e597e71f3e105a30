// Two unrelated losses that share the name "z-loss", named apart: PaLM's auxiliary
// log-partition penalty and de Brébisson & Vincent's spherical-family classification loss.

import FathomTensor

/// PaLM's auxiliary z-loss (Chowdhery et al. 2022, "PaLM", §5): `coefficient · log²Z` with
/// `log Z = logsumexp(logits)` over the last (class) axis, which pushes the softmax
/// normalizer towards 1 for stability. One value per row (every index but the last);
/// `.mean` averages them (over tokens). Add it to the cross-entropy; PaLM uses 1e-4.
public func auxiliaryZLoss(_ logits: Tensor, coefficient: Double = 1e-4, reduction: LossReduction = .mean) -> Tensor {
    orStop { () throws(TensorError) in
        try requireFloatingPoint(logits, op: "auxiliaryZLoss", name: "logits")
        try checkReduction(reduction, op: "auxiliaryZLoss")
        guard logits.rank >= 1 else { throw TensorError(op: "auxiliaryZLoss", "the logits are 0-d; they need a class axis (the last)") }
    }
    return reduceLoss(logits.logsumexp(axis: -1).square() * coefficient, reduction)
}

/// The Z-loss of de Brébisson & Vincent 2016 ("The Z-loss: a shift and scale invariant
/// classification loss belonging to the Spherical Family"): the outputs `o` (`[N, C]`,
/// or `[C]`) are standardized over the classes,
///
///     μ = (1/C) Σ_k o_k,   σ = √((1/C) Σ_k o_k² − μ²),   z_k = (o_k − μ)/σ
///
/// (σ is the population standard deviation), and with the target class c
///
///     ℓ = (1/a) · softplus(a (b − z_c)) = (1/a) · log(1 + exp(a (b − z_c)))
///
/// `a > 0` sets the sharpness and `b` the point beyond which a standardized target output
/// stops being pushed up; the paper tunes both per task (there is no universal default).
/// Invariant to `o → αo + β` for α > 0. Undefined (NaN) for a row whose outputs are all equal.
public func sphericalZLoss(_ logits: Tensor, labels: Tensor, a: Double, b: Double,
                           reduction: LossReduction = .mean) -> Tensor {
    let op = "sphericalZLoss"
    orStop { () throws(TensorError) in
        try requireFloatingPoint(logits, op: op, name: "logits")
        try checkReduction(reduction, op: op)
        guard a > 0 else { throw TensorError(op: op, "a is \(a); it must be positive") }
        guard logits.rank == 1 || logits.rank == 2, logits.shape.last! > 1 else {
            throw TensorError(op: op, "logits must be [C] or [N, C] with at least 2 classes, got \(shapeText(logits.shape))")
        }
        let rows = logits.rank == 2 ? [logits.shape[0]] : []
        guard labels.dtype == .int64, labels.shape == rows else {
            throw TensorError(op: op, "labels must be int64 of shape \(shapeText(rows)) for logits \(shapeText(logits.shape)), got \(labels.dtype) \(shapeText(labels.shape))")
        }
        try checkClassLabels(labels, classes: logits.shape.last!, allowing: nil, op: op)
    }
    let o = logits.rank == 1 ? logits.reshaped([1, logits.count]) : logits
    let mean = o.mean(axis: 1)
    let std = o.std(axis: 1, correction: 0)
    let target = o.gather(axis: 1, index: labels.reshaped([o.shape[0], 1])).reshaped([o.shape[0]])
    let z = (target - mean) / std
    let loss = ((b - z) * a).softplus(threshold: 30) / a
    return reduceLoss(logits.rank == 1 ? loss.reshaped([]) : loss, reduction)
}
