// Dense classification losses for one-stage detectors, on logits with float targets of the
// same shape ([N, C] one-hot or soft scores). Differentiable tensor ops built on FathomNN's
// stable binaryCrossEntropyWithLogits.

import FathomNN
import FathomTensor

func focalTarget(_ logits: Tensor, _ target: Tensor, reduction: LossReduction, op: String) -> Tensor {
    guard logits.dtype.isFloatingPoint, target.dtype.isFloatingPoint, logits.shape == target.shape else {
        fatalError(TensorError(op: op, "logits \(boxShapeText(logits.shape)) (\(logits.dtype)) and targets \(boxShapeText(target.shape)) (\(target.dtype)) must be floating point of the same shape; one-hot integer labels first (oneHot(...).to(.float32))").description)
    }
    if reduction == .batchMean {
        fatalError(TensorError(op: op, "reduction .batchMean is only defined for klDiv; use .mean, .sum or .none").description)
    }
    return target.dtype == logits.dtype ? target : target.to(logits.dtype)
}

/// Sigmoid focal loss (Lin et al. 2017; `torchvision.ops.sigmoid_focal_loss`):
/// CE(x, y)·(1 − p_t)^γ, p_t = p·y + (1 − p)(1 − y), times α_t = α·y + (1 − α)(1 − y) when α ≥ 0.
public func sigmoidFocalLoss(_ logits: Tensor, _ target: Tensor, alpha: Double = 0.25, gamma: Double = 2,
                             reduction: LossReduction = .mean) -> Tensor {
    let y = focalTarget(logits, target, reduction: reduction, op: "sigmoidFocalLoss")
    let p = logits.sigmoid()
    let ce = binaryCrossEntropyWithLogits(logits, y, reduction: .none)
    let pt = p * y + (1 - p) * (1 - y)
    var loss = ce * (1 - pt).pow(gamma)
    if alpha >= 0 { loss = loss * (y * alpha + (1 - y) * (1 - alpha)) }
    return reduceBoxLoss(loss, reduction)
}

/// Quality focal loss (Li et al., GFL 2020; MMDetection `quality_focal_loss`) with soft targets
/// y ∈ [0, 1] (the IoU of the box at the labelled class, 0 elsewhere): BCE(x, y)·|y − σ(x)|^β.
/// Negatives (y = 0) reduce to BCE(x, 0)·σ(x)^β, as MMDetection writes them.
public func qualityFocalLoss(_ logits: Tensor, _ target: Tensor, beta: Double = 2, reduction: LossReduction = .mean) -> Tensor {
    let y = focalTarget(logits, target, reduction: reduction, op: "qualityFocalLoss")
    let scale = (logits.sigmoid() - y).abs().pow(beta)
    return reduceBoxLoss(binaryCrossEntropyWithLogits(logits, y, reduction: .none) * scale, reduction)
}

/// Varifocal loss (Zhang et al., VarifocalNet 2021; MMDetection `varifocal_loss`): BCE(x, y)
/// weighted by y for positives (y > 0; by 1 when `iouWeighted` is false) and by α·|σ(x) − y|^γ
/// for negatives (y ≤ 0).
public func varifocalLoss(_ logits: Tensor, _ target: Tensor, alpha: Double = 0.75, gamma: Double = 2,
                          iouWeighted: Bool = true, reduction: LossReduction = .mean) -> Tensor {
    let y = focalTarget(logits, target, reduction: reduction, op: "varifocalLoss")
    let negative = (logits.sigmoid() - y).abs().pow(gamma) * alpha
    let weight = Tensor.where(y .> 0.0, iouWeighted ? y : y.onesLike(), negative)
    return reduceBoxLoss(binaryCrossEntropyWithLogits(logits, y, reduction: .none) * weight, reduction)
}
