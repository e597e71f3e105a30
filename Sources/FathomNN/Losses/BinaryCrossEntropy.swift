// Binary cross-entropy on logits (stable) and on probabilities, as torch.nn.functional
// defines them; differentiable tensor ops, so gradients reach the target too.

import FathomTensor

/// Binary cross-entropy of `logits` against targets in [0, 1]
/// (`torch.nn.functional.binary_cross_entropy_with_logits`), computed stably:
/// `(1 − y)·x + (1 + (pw − 1)·y)·softplus(−x)` times `weight`, where softplus(−x) =
/// log(1 + e^{−|x|}) + max(−x, 0) never overflows.
///
/// - Parameters:
///   - weight: optional per-element weights, broadcast to the logits' shape.
///   - posWeight: optional weight of the positive term, broadcast along the last axis
///     (one per class, e.g. `[C]` for `[N, C]` logits): `> 1` raises recall.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                         posWeight: Tensor? = nil, reduction: LossReduction = .mean) -> Tensor {
    let op = "binaryCrossEntropyWithLogits"
    let (y, w, pw) = orStop { () throws(TensorError) in
        let y = try validatedTarget(logits, target, reduction, op: op)
        return (y, try broadcastWeight(weight, to: logits, op: op, name: "weight"),
                try broadcastWeight(posWeight, to: logits, op: op, name: "posWeight"))
    }
    let softplusNeg = (-logits).softplus()
    var loss: Tensor
    if let pw {
        loss = (1 - y) * logits + (1 + (pw - 1) * y) * softplusNeg
    } else {
        loss = (1 - y) * logits + softplusNeg
    }
    if let w { loss = loss * w }
    return reduceLoss(loss, reduction)
}

/// Binary cross-entropy of probabilities `input` in [0, 1] against `target`
/// (`torch.nn.functional.binary_cross_entropy`): `−w·(y·log p + (1 − y)·log(1 − p))`, each
/// log clamped at −100 as PyTorch does. Prefer `binaryCrossEntropyWithLogits` (stable).
public func binaryCrossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil,
                               reduction: LossReduction = .mean) -> Tensor {
    let op = "binaryCrossEntropy"
    let (y, w) = orStop { () throws(TensorError) in
        (try validatedTarget(input, target, reduction, op: op), try broadcastWeight(weight, to: input, op: op, name: "weight"))
    }
    let logP = input.log().clamp(min: -100), logQ = (1 - input).log().clamp(min: -100)
    var loss = -(y * logP + (1 - y) * logQ)
    if let w { loss = loss * w }
    return reduceLoss(loss, reduction)
}

/// Module form of `binaryCrossEntropyWithLogits`, like `torch.nn.BCEWithLogitsLoss`.
public struct BCEWithLogitsLoss {
    public var weight: Tensor?
    public var posWeight: Tensor?
    public var reduction: LossReduction

    public init(weight: Tensor? = nil, posWeight: Tensor? = nil, reduction: LossReduction = .mean) {
        self.weight = weight
        self.posWeight = posWeight
        self.reduction = reduction
    }

    public func callAsFunction(_ logits: Tensor, _ target: Tensor) -> Tensor {
        binaryCrossEntropyWithLogits(logits, target, weight: weight, posWeight: posWeight, reduction: reduction)
    }
}

/// Checks that an optional weight is floating point and broadcasts to `input`'s shape;
/// returns it in the input's dtype.
func broadcastWeight(_ weight: Tensor?, to input: Tensor, op: String, name: String) throws(TensorError) -> Tensor? {
    guard let weight else { return nil }
    try requireFloatingPoint(weight, op: op, name: name)
    let (a, b) = (weight.shape, input.shape)
    var fits = a.count <= b.count
    if fits {
        for k in 1...Swift.max(a.count, 1) where k <= a.count {
            let wa = a[a.count - k], ib = b[b.count - k]
            if wa != 1 && wa != ib { fits = false }
        }
    }
    guard fits else {
        throw TensorError(op: op, "\(name) of shape \(shapeText(a)) does not broadcast to the input's shape \(shapeText(b)); its trailing sizes must equal the input's or be 1")
    }
    return weight.dtype == input.dtype ? weight : weight.to(input.dtype)
}
