// Metric-learning and re-identification losses: batch-hard triplet (Hermans et al. 2017),
// center loss (Wen et al. 2016), ArcFace / CosFace margin logits, and the ID loss
// (cross-entropy with label smoothing). Composed of differentiable tensor ops.

import Foundation
import FathomTensor

/// Batch-hard triplet loss (Hermans, Beyer & Leibe 2017, "In Defense of the Triplet Loss
/// for Person Re-Identification", batch-hard variant), on Euclidean (not squared) distances.
///
/// For each anchor a of the `[N, D]` batch, the hardest positive is the farthest row with
/// the same label (other than a) and the hardest negative the closest row with another label:
///
///     ℓ_a = [m + max_p D(a, p) − min_n D(a, n)]₊          (margin m)
///     ℓ_a = log(1 + exp(max_p D(a, p) − min_n D(a, n)))  (softMargin: true, the paper's soft-margin)
///
/// `D(a, b) = ‖x_a − x_b‖₂` from the Gram matrix (`‖a‖² + ‖b‖² − 2aᵀb`, clamped at 0); a
/// zero distance has gradient 0 (not NaN). Anchors without a positive or without a negative
/// in the batch (P×K sampling avoids them) give 0 and are left out of `.mean`, which
/// averages over the valid anchors; `.none` gives all N values.
///
/// - Parameters:
///   - margin: m ≥ 0 (0.3 is the common re-ID setting, e.g. Luo et al.'s BoT baseline).
public func batchHardTripletLoss(_ embeddings: Tensor, labels: Tensor, margin: Double = 0.3, softMargin: Bool = false,
                                 reduction: LossReduction = .mean) -> Tensor {
    let op = "batchHardTripletLoss"
    orStop { () throws(TensorError) in
        try checkLabelledEmbeddings(embeddings, labels: labels, op: op)
        try checkReduction(reduction, op: op)
        guard margin >= 0 else { throw TensorError(op: op, "margin is \(margin); it must be non-negative") }
    }
    let n = embeddings.shape[0]
    let distance = pairwiseEuclideanDistances(embeddings)
    let same = labelMatchMask(labels)
    let positiveMask = same.logicalAnd(diagonalMask(n).logicalNot())
    let negativeMask = same.logicalNot()
    let hasPositive = positiveMask.to(.int64).sum(axis: 1) .> 0
    let hasNegative = negativeMask.to(.int64).sum(axis: 1) .> 0
    let valid = hasPositive.logicalAnd(hasNegative)
    // Distances are ≥ 0, so −1 never wins the max; +inf never wins the min where a negative exists.
    let hardestPositive = Tensor.where(positiveMask, distance, -1.0).max(axis: 1)
    let hardestNegative = Tensor.where(negativeMask, distance, Double.infinity).min(axis: 1)
    let gap = Tensor.where(valid, hardestPositive - hardestNegative, 0.0)
    let perAnchor = softMargin ? gap.softplus(threshold: 30) : (gap + margin).relu()
    let loss = Tensor.where(valid, perAnchor, 0.0)
    if reduction == .mean {
        return loss.sum() / Double(Swift.max(valid.to(.int64).sum().item(as: Int64.self), 1))
    }
    return reduceLoss(loss, reduction)
}

/// Pairwise Euclidean distances `[N, N]` of the rows of `x`, with a zero-safe square root.
func pairwiseEuclideanDistances(_ x: Tensor) -> Tensor {
    let squaredNorms = x.square().sum(axis: 1, keepDims: true)
    let squared = (squaredNorms + squaredNorms.transposed() - 2.0 * x.matmul(x.transposed())).clamp(min: 0)
    let positive = squared .> 0
    return Tensor.where(positive, Tensor.where(positive, squared, 1.0).sqrt(), 0.0)
}

/// Center loss (Wen et al. 2016, "A Discriminative Feature Learning Approach for Deep Face
/// Recognition"): per sample `½‖x_i − c_{y_i}‖²`.
///
/// The paper's `L_C = ½ Σ_i ‖x_i − c_{y_i}‖²` sums over the mini-batch; here `.mean` divides
/// that sum by the batch size N (not by the feature size D), `.sum` is the paper's sum and
/// `.none` gives the N per-sample values. Gradients reach the features and the `[C, D]`
/// centers; training the centers with an optimizer uses their gradient
/// `∂L/∂c_j = −Σ_{y_i = j}(x_i − c_j)/N` rather than the paper's separate update rule with
/// rate α (`Δc_j = Σ_{y_i = j}(c_j − x_i)/(1 + n_j)`); a smaller learning rate on the centers
/// plays α's role. See `CenterLoss` for the module that owns the centers.
public func centerLoss(_ features: Tensor, labels: Tensor, centers: Tensor, reduction: LossReduction = .mean) -> Tensor {
    let op = "centerLoss"
    orStop { () throws(TensorError) in
        try checkLabelledEmbeddings(features, labels: labels, op: op)
        try checkReduction(reduction, op: op)
        try requireFloatingPoint(centers, op: op, name: "centers")
        guard centers.rank == 2, centers.shape[1] == features.shape[1] else {
            throw TensorError(op: op, "centers have shape \(shapeText(centers.shape)); they must be [classes, \(features.shape[1])] for features of shape \(shapeText(features.shape))")
        }
        try checkClassLabels(labels, classes: centers.shape[0], allowing: nil, op: op)
    }
    let chosen = centers.to(features.dtype).indexSelect(axis: 0, index: labels)
    return reduceLoss((features - chosen).square().sum(axis: 1) * 0.5, reduction)
}

/// The center loss as a module owning the `[classCount, featureCount]` class centers as a
/// trainable parameter (`centers`), initialized from N(0, 1) as in common implementations.
/// Give its parameters to an optimizer together with the model's.
public final class CenterLoss: Module {
    /// One learned center per class, `[classCount, featureCount]`.
    @Parameter public var centers: Tensor
    public var reduction: LossReduction

    public init(classCount: Int, featureCount: Int, dtype: DType = .float32, reduction: LossReduction = .mean,
                generator: Generator? = nil) {
        precondition(classCount > 0 && featureCount > 0, "CenterLoss needs positive classCount and featureCount")
        centers = Tensor.randn([classCount, featureCount], dtype: dtype, generator: generator)
        self.reduction = reduction
        super.init()
    }

    /// The center loss of `features` `[N, featureCount]` with int64 `labels` `[N]`.
    public func callAsFunction(_ features: Tensor, labels: Tensor) -> Tensor {
        centerLoss(features, labels: labels, centers: centers, reduction: reduction)
    }
}

/// ArcFace additive angular margin logits (Deng et al. 2019, "ArcFace: Additive Angular
/// Margin Loss for Deep Face Recognition"), with insightface's threshold handling
/// (`recognition/arcface_torch/losses.py`, `ArcFace`, commit eca1d9a).
///
/// `cosine` is `[N, C]`: cos θ between normalized embeddings and normalized class weights.
/// For the target class of each row (labels int64 `[N]`; a label of −1 leaves the row
/// unchanged, as insightface does), cos θ becomes
///
///     cos(θ + m) = cos θ · cos m − sin θ · sin m,   sin θ = √(1 − cos²θ)
///
/// where `cos θ > cos(π − m)` (θ + m stays below π); elsewhere `cos θ − m · sin(π − m)`
/// (keeps the target logit decreasing in θ). With `easyMargin`, cos(θ + m) is used where
/// `cos θ > 0` and cos θ elsewhere. Every logit is then multiplied by the scale s. Feed the
/// result to `crossEntropy` (see `arcFaceLoss`).
public func arcFaceLogits(_ cosine: Tensor, labels: Tensor, scale: Double = 64, margin: Double = 0.5,
                          easyMargin: Bool = false) -> Tensor {
    let mask = orStop { () throws(TensorError) in try marginTargetMask(cosine, labels, op: "arcFaceLogits") }
    let n = cosine.shape[0]
    let safeLabels = Tensor.where(labels .< 0, Tensor.zeros([n], dtype: .int64), labels).reshaped([n, 1])
    let target = cosine.gather(axis: 1, index: safeLabels)
    let sineSquared = 1.0 - target.square()
    let inside = sineSquared .> 0
    let sine = Tensor.where(inside, Tensor.where(inside, sineSquared, 1.0).sqrt(), 0.0)
    let cosThetaPlusM = target * Foundation.cos(margin) - sine * Foundation.sin(margin)
    let final = easyMargin
        ? Tensor.where(target .> 0, cosThetaPlusM, target)
        : Tensor.where(target .> Foundation.cos(Double.pi - margin), cosThetaPlusM,
                       target - Foundation.sin(Double.pi - margin) * margin)
    return Tensor.where(mask, final, cosine) * scale
}

/// CosFace large margin cosine logits (Wang et al. 2018, "CosFace: Large Margin Cosine Loss
/// for Deep Face Recognition"): `s · (cos θ_j − m·[j = y])` on `[N, C]` cosines; labels of
/// −1 leave their row unmargined. Defaults s = 64, m = 0.4 as insightface's `CosFace`
/// (the paper reports m = 0.35 as its best).
public func cosFaceLogits(_ cosine: Tensor, labels: Tensor, scale: Double = 64, margin: Double = 0.4) -> Tensor {
    let mask = orStop { () throws(TensorError) in try marginTargetMask(cosine, labels, op: "cosFaceLogits") }
    return (cosine - mask.to(cosine.dtype) * margin) * scale
}

/// `crossEntropy(arcFaceLogits(cosine, labels: labels, …), labels)`; rows labelled −1
/// are ignored by the cross-entropy too.
public func arcFaceLoss(_ cosine: Tensor, labels: Tensor, scale: Double = 64, margin: Double = 0.5,
                        easyMargin: Bool = false, reduction: LossReduction = .mean) -> Tensor {
    crossEntropy(arcFaceLogits(cosine, labels: labels, scale: scale, margin: margin, easyMargin: easyMargin),
                 labels, ignoreIndex: -1, reduction: reduction)
}

/// `crossEntropy(cosFaceLogits(cosine, labels: labels, …), labels)`; rows labelled −1 are ignored.
public func cosFaceLoss(_ cosine: Tensor, labels: Tensor, scale: Double = 64, margin: Double = 0.4,
                        reduction: LossReduction = .mean) -> Tensor {
    crossEntropy(cosFaceLogits(cosine, labels: labels, scale: scale, margin: margin), labels,
                 ignoreIndex: -1, reduction: reduction)
}

/// The re-ID "ID loss": cross-entropy with label smoothing (Szegedy et al. 2016; the BoT
/// baseline of Luo et al. 2019), target `q_j = (1 − ε)·[j = y] + ε/C` — exactly
/// `crossEntropy(logits, labels, labelSmoothing: ε)`. ε = 0.1 as in BoT.
public func idLoss(_ logits: Tensor, labels: Tensor, epsilon: Double = 0.1, reduction: LossReduction = .mean) -> Tensor {
    crossEntropy(logits, labels, labelSmoothing: epsilon, reduction: reduction)
}

/// Validates `[N, C]` cosines with int64 labels `[N]` in 0..<C or −1; the boolean target mask.
private func marginTargetMask(_ cosine: Tensor, _ labels: Tensor, op: String) throws(TensorError) -> Tensor {
    try requireFloatingPoint(cosine, op: op, name: "cosine")
    guard cosine.rank == 2, cosine.shape[0] > 0, cosine.shape[1] > 0 else {
        throw TensorError(op: op, "cosine must be a non-empty [N, C] matrix, got shape \(shapeText(cosine.shape))")
    }
    guard labels.dtype == .int64, labels.shape == [cosine.shape[0]] else {
        throw TensorError(op: op, "labels must be int64 of shape [\(cosine.shape[0])], got \(labels.dtype) \(shapeText(labels.shape))")
    }
    try checkClassLabels(labels, classes: cosine.shape[1], allowing: -1, op: op)
    let classes = Tensor.arange(cosine.shape[1]).reshaped([1, cosine.shape[1]])
    return classes .== labels.reshaped([cosine.shape[0], 1])
}

/// Throws unless every label is in 0..<classes (or equals `allowing`).
func checkClassLabels(_ labels: Tensor, classes: Int, allowing: Int64?, op: String) throws(TensorError) {
    let values = labels.contiguous().scalars(as: Int64.self)
    if let bad = values.first(where: { ($0 < 0 || $0 >= Int64(classes)) && $0 != allowing }) {
        throw TensorError(op: op, "label \(bad) is out of range for \(classes) classes; labels must be in 0..<\(classes)\(allowing.map { " or \($0)" } ?? "")")
    }
}
