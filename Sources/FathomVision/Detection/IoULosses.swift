// Box-regression losses on horizontal xyxy boxes (IoU family) and the Smooth-L1 baseline on
// rotated (x, y, w, h, θ) parameters. Differentiable tensor ops, `LossReduction` as in FathomNN.

import FathomNN
import FathomTensor

/// How `iouLoss` maps IoU to loss (MMDetection `iou_loss` modes).
public enum IoULossMode: String, Sendable, CaseIterable {
    /// 1 − IoU.
    case linear
    /// 1 − IoU².
    case square
    /// −ln IoU (MMDetection's default).
    case log
}

/// IoU loss of aligned `[N, 4]` xyxy boxes (MMDetection `IoULoss`): IoU clamped below at `eps`,
/// then `mode`. Differentiable.
public func iouLoss(_ pred: Tensor, _ target: Tensor, mode: IoULossMode = .log, eps: Double = 1e-6,
                    reduction: LossReduction = .mean) -> Tensor {
    let t = boxLossTarget(pred, target, width: 4, reduction: reduction, op: "iouLoss")
    let iou = alignedBoxIoU(pred, t, kind: .iou).clamp(min: eps)
    switch mode {
    case .linear: return reduceBoxLoss(1 - iou, reduction)
    case .square: return reduceBoxLoss(1 - iou.square(), reduction)
    case .log: return reduceBoxLoss(-iou.log(), reduction)
    }
}

/// GIoU loss 1 − GIoU (`torchvision.ops.generalized_box_iou_loss`, eps 1e-7). Differentiable.
public func giouLoss(_ pred: Tensor, _ target: Tensor, eps: Double = 1e-7, reduction: LossReduction = .mean) -> Tensor {
    let t = boxLossTarget(pred, target, width: 4, reduction: reduction, op: "giouLoss")
    return reduceBoxLoss(1 - alignedBoxIoU(pred, t, kind: .giou, eps: eps), reduction)
}

/// DIoU loss 1 − DIoU (`torchvision.ops.distance_box_iou_loss`). Differentiable.
public func diouLoss(_ pred: Tensor, _ target: Tensor, eps: Double = 1e-7, reduction: LossReduction = .mean) -> Tensor {
    let t = boxLossTarget(pred, target, width: 4, reduction: reduction, op: "diouLoss")
    return reduceBoxLoss(1 - alignedBoxIoU(pred, t, kind: .diou, eps: eps), reduction)
}

/// CIoU loss 1 − CIoU (`torchvision.ops.complete_box_iou_loss`; α detached). Differentiable.
public func ciouLoss(_ pred: Tensor, _ target: Tensor, eps: Double = 1e-7, reduction: LossReduction = .mean) -> Tensor {
    let t = boxLossTarget(pred, target, width: 4, reduction: reduction, op: "ciouLoss")
    return reduceBoxLoss(1 - alignedBoxIoU(pred, t, kind: .ciou, eps: eps), reduction)
}

/// The Smooth-L1 baseline on rotated-box parameters (x, y, w, h, θ) or their encoded deltas,
/// `[N, 5]`: FathomNN's `smoothL1Loss` (β = 1, MMDetection's SmoothL1Loss default), reduced over
/// all elements. Ignores the angle's periodicity, which is what the Gaussian losses fix.
public func rotatedSmoothL1Loss(_ pred: Tensor, _ target: Tensor, beta: Double = 1, reduction: LossReduction = .mean) -> Tensor {
    let t = boxLossTarget(pred, target, width: 5, reduction: reduction, op: "rotatedSmoothL1Loss")
    return smoothL1Loss(pred, t, beta: beta, reduction: reduction)
}
