// Cross-entropy from logits (fused: one pass per row computes logsumexp and the loss) and
// the negative log-likelihood loss on log-probabilities, as torch.nn.functional defines them.

import FathomTensor

/// Cross-entropy between `logits` and `target`, like `torch.nn.functional.cross_entropy`.
///
/// - Parameters:
///   - logits: unnormalized scores, `[N, C]`, `[N, C, d1, …]` (e.g. per-pixel classes) or `[C]`.
///   - target: int64 class indices of shape `[N]` / `[N, d1, …]` / `[]`, or class
///     probabilities of the logits' shape (floating point).
///   - weight: optional `[C]` class weights (a rescaling of each class's loss).
///   - ignoreIndex: a class-index target with this value contributes neither loss nor
///     gradient, nor counts in the mean.
///   - labelSmoothing: ε in [0, 1]: the target becomes (1 − ε)·target + ε/C (uniform).
///   - reduction: `.mean` divides by the summed weights of the (non-ignored) targets,
///     or by the number of rows for probability targets; `.none` gives the target's shape.
///
/// Stable for any logits (the row maximum is subtracted). The gradient is
/// `softmax(logits) − target distribution`, written in differentiable tensor ops, so
/// Hessian-vector products through the loss are exact. Probability targets get a gradient too.
public func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                         labelSmoothing: Double = 0, reduction: LossReduction = .mean) -> Tensor {
    orStop { () throws(TensorError) in
        try crossEntropy(validating: logits, target, weight: weight, ignoreIndex: ignoreIndex,
                         labelSmoothing: labelSmoothing, reduction: reduction)
    }
}

/// Like `crossEntropy(_:_:weight:ignoreIndex:labelSmoothing:reduction:)` but throws on a
/// bad shape, dtype or class index (labels read from data).
public func crossEntropy(validating logits: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                         labelSmoothing: Double = 0, reduction: LossReduction = .mean) throws(TensorError) -> Tensor {
    let op = "crossEntropy"
    let layout = try ClassLayout(logits, target, weight: weight, ignoreIndex: ignoreIndex, op: op)
    try checkReduction(reduction, op: op)
    guard labelSmoothing >= 0, labelSmoothing <= 1 else {
        throw TensorError(op: op, "labelSmoothing is \(labelSmoothing); it must be in [0, 1]")
    }
    let rows = layout.rows(logits)
    let probabilities = target.dtype.isFloatingPoint ? layout.rows(target.to(logits.dtype)) : nil
    let indices = probabilities == nil ? target.contiguous().scalars(as: Int64.self) : nil
    let out = CrossEntropyRows(logits: rows, indices: indices, probabilities: probabilities,
                               weight: layout.weight, ignoreIndex: Int64(ignoreIndex),
                               smoothing: labelSmoothing, reduction: reduction).run()
    return reduction == .none ? out.reshaped(layout.unreducedShape) : out
}

/// The negative log-likelihood loss on log-probabilities (`torch.nn.functional.nll_loss`):
/// `−weight[t]·logProbs[t]` per sample, with the same shapes, `ignoreIndex` and weighted
/// mean as `crossEntropy`. `crossEntropy(x, t)` equals `nllLoss(x.logSoftmax(axis: 1), t)`.
public func nllLoss(_ logProbs: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                    reduction: LossReduction = .mean) -> Tensor {
    orStop { () throws(TensorError) in
        try nllLoss(validating: logProbs, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    }
}

/// Like `nllLoss(_:_:weight:ignoreIndex:reduction:)` but throws on a bad shape, dtype or class index.
public func nllLoss(validating logProbs: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                    reduction: LossReduction = .mean) throws(TensorError) -> Tensor {
    let op = "nllLoss"
    guard !target.dtype.isFloatingPoint else {
        throw TensorError(op: op, "target must be int64 class indices, got \(target.dtype); for probability targets use crossEntropy on logits")
    }
    let layout = try ClassLayout(logProbs, target, weight: weight, ignoreIndex: ignoreIndex, op: op)
    try checkReduction(reduction, op: op)
    let rows = layout.rows(logProbs)
    // Ignored rows read class 0 and get weight 0.
    let labels = target.contiguous().scalars(as: Int64.self)
    let safe = labels.map { $0 == Int64(ignoreIndex) ? 0 : $0 }
    let rowWeights: [Double] = labels.indices.map { i in
        labels[i] == Int64(ignoreIndex) ? 0 : (layout.weightValues?[Int(labels[i])] ?? 1)
    }
    let index = Tensor(safe, shape: [safe.count, 1])
    let w = Tensor(rowWeights, shape: [rowWeights.count], dtype: logProbs.dtype)
    let picked = rows.gather(axis: 1, index: index).reshaped([safe.count])
    let losses = -(picked * w)
    switch reduction {
    case .none: return losses.reshaped(layout.unreducedShape)
    case .sum: return losses.sum()
    default: return losses.sum() / Tensor.scalar(rowWeights.reduce(0, +), dtype: logProbs.dtype)
    }
}

/// Module form of `crossEntropy`, like `torch.nn.CrossEntropyLoss`.
public struct CrossEntropyLoss {
    public var weight: Tensor?
    public var ignoreIndex: Int
    public var labelSmoothing: Double
    public var reduction: LossReduction

    public init(weight: Tensor? = nil, ignoreIndex: Int = -100, labelSmoothing: Double = 0, reduction: LossReduction = .mean) {
        self.weight = weight
        self.ignoreIndex = ignoreIndex
        self.labelSmoothing = labelSmoothing
        self.reduction = reduction
    }

    /// The loss of `logits` against `target` (see `crossEntropy`).
    public func callAsFunction(_ logits: Tensor, _ target: Tensor) -> Tensor {
        crossEntropy(logits, target, weight: weight, ignoreIndex: ignoreIndex,
                     labelSmoothing: labelSmoothing, reduction: reduction)
    }
}

/// Where the classes are in a (scores, target) pair and how to view the scores as rows of
/// classes, `[M, C]`; validates shapes, dtypes, weights and class indices.
struct ClassLayout {
    let classes: Int
    /// The shape of the unreduced loss.
    let unreducedShape: [Int]
    let weight: Tensor?
    let weightValues: [Double]?

    init(_ scores: Tensor, _ target: Tensor, weight: Tensor?, ignoreIndex: Int, op: String) throws(TensorError) {
        try requireFloatingPoint(scores, op: op, name: "the input (logits)")
        guard scores.rank >= 1 else {
            throw TensorError(op: op, "the input is 0-d; it needs a class axis: [C], [N, C] or [N, C, d1, ...]")
        }
        let classAxis = scores.rank == 1 ? 0 : 1
        classes = scores.shape[classAxis]
        guard classes > 0 else {
            throw TensorError(op: op, "the input of shape \(shapeText(scores.shape)) has no classes (axis \(classAxis) is empty)")
        }
        var reducedShape = scores.shape
        reducedShape.remove(at: classAxis)
        unreducedShape = reducedShape
        if target.dtype.isFloatingPoint {
            guard target.shape == scores.shape else {
                throw TensorError(op: op, "probability target has shape \(shapeText(target.shape)) but the input has shape \(shapeText(scores.shape)); they must match (or pass int64 class indices of shape \(shapeText(reducedShape)))")
            }
        } else {
            guard target.dtype == .int64 else {
                throw TensorError(op: op, "target must be int64 class indices or float class probabilities, got \(target.dtype); convert with .to(.int64)")
            }
            guard target.shape == reducedShape else {
                throw TensorError(op: op, "target has shape \(shapeText(target.shape)) but the input has shape \(shapeText(scores.shape)); class-index targets must have the input's shape without the class axis (axis \(classAxis)): \(shapeText(reducedShape))")
            }
            let labels = target.contiguous().scalars(as: Int64.self)
            let limit = Int64(scores.shape[classAxis])
            if let bad = labels.first(where: { ($0 < 0 || $0 >= limit) && $0 != Int64(ignoreIndex) }) {
                throw TensorError(op: op, "target class \(bad) is out of range for \(classes) classes (input shape \(shapeText(scores.shape))); class indices must be in 0..<\(classes), or equal ignoreIndex (\(ignoreIndex))")
            }
        }
        if let weight {
            try requireFloatingPoint(weight, op: op, name: "weight")
            guard weight.shape == [classes] else {
                throw TensorError(op: op, "weight has shape \(shapeText(weight.shape)); it must hold one weight per class: [\(classes)]")
            }
            // Class weights are constants (PyTorch does not differentiate them either).
            let w = weight.detach().to(scores.dtype).contiguous()
            self.weight = w
            weightValues = w.to(.float64).scalars(as: Double.self)
        } else {
            self.weight = nil
            weightValues = nil
        }
    }

    /// `x` (of the scores' shape) as `[M, C]` rows, classes last; differentiable.
    func rows(_ x: Tensor) -> Tensor {
        switch x.rank {
        case 1: return x.reshaped([1, classes])
        case 2: return x
        default:
            let order = [0] + Array(2..<x.rank) + [1]
            return x.permuted(order).reshaped([x.count / classes, classes])
        }
    }
}
