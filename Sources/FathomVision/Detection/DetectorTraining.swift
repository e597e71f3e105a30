// Training the anchor-free detector: per-batch target building with a label assigner, the
// classification loss on IoU-soft targets, a selectable box-regression loss, and a trainer with
// AdamW/SGD, linear warm-up and cosine decay.
//
// Conventions pinned here:
// - rotated ground truth is `[G, 5]` (cx, cy, w, h, θ) le90 exactly as `ShapesDetectionObject.box`
//   gives it; its corner convention is `rotatedBoxCorners`' (the w side points along
//   (cos θ, sin θ) in the y-down image frame), which is the dataset renderer's (checked by
//   `DetectorTrainingTests.testDatasetAngleMatchesRotatedBoxCorners`), so no conversion is needed;
// - horizontal ground truth is the rotated box's enclosing xyxy box (`rotatedBoxToXYXY`);
// - the classification target of a positive prior is the IoU of its (detached) decoded box with
//   its assigned object (GFL / VarifocalNet style), so scores rank by localisation quality;
// - all losses are summed and divided by the number of positives in the batch (at least 1).

import Foundation
import FathomData
import FathomNN
import FathomTensor

/// The box-regression loss of a detector.
public enum DetectorBoxLoss: String, Sendable, CaseIterable {
    /// Smooth-L1 (β = 1/9, MMRotate's rotated RetinaNet) on stride-normalised deltas
    /// (dx, dy) = (g − p)/s, (dw, dh) = log(g/s) (what the head predicts raw), and θ in radians
    /// (the decoded le90 angle against the gt's), summed over the 5 coordinates.
    case smoothL1 = "smoothl1"
    /// KLD (Yang et al. 2021): KL(gt ‖ pred) of the boxes as Gaussians, √, log1p, τ = 1, on
    /// decoded boxes in pixels (MMRotate `GDLoss(loss_type='kld', fun='log1p', tau=1)`).
    case kld
    /// GWD (Yang et al. 2021) with MMRotate's GWD-config settings (log1p, τ = 0, normalised, weight 5), decoded boxes.
    case gwd
    /// KFIoU (Yang et al. 2023): Smooth-L1 on stride-normalised centre deltas + 1 − KFIoU.
    case kfiou
    /// GIoU loss on horizontal xyxy boxes (horizontal detectors only).
    case giou

    /// Whether the loss is for rotated boxes.
    public var isRotated: Bool { self != .giou }

    /// The default weight of the box term against the classification term (MMRotate's configs:
    /// 5 for GWD and KFIoU, 1 otherwise; 2 for GIoU as in GFL/ATSS configs).
    public var defaultWeight: Double {
        switch self {
        case .gwd, .kfiou: return 5
        case .giou: return 2
        case .smoothL1, .kld: return 1
        }
    }
}

/// The classification loss of a detector.
public enum DetectorClassificationLoss: String, Sendable, CaseIterable {
    /// Quality focal loss (GFL) on IoU-soft targets.
    case qualityFocal = "qfl"
    /// Varifocal loss on IoU-soft targets.
    case varifocal = "vfl"
    /// Sigmoid focal loss (α 0.25, γ 2) on hard one-hot targets.
    case focal
}

/// Everything the detector's training loss depends on.
public struct DetectorLossOptions: Sendable {
    public var boxLoss: DetectorBoxLoss
    public var classification: DetectorClassificationLoss = .qualityFocal
    /// The label assigner. Default: ATSS with anchors of 4 strides (MMRotate's rotated ATSS);
    /// static, so targets never chase the untrained model's predictions.
    public var assigner: LabelAssigner = .atss(ATSSAssigner(topK: 9, octaveBaseScale: 4))
    /// Weight of the classification term.
    public var classWeight: Double = 1
    /// Weight of the box term (nil: `boxLoss.defaultWeight`).
    public var boxWeight: Double? = nil

    public init(boxLoss: DetectorBoxLoss, classification: DetectorClassificationLoss = .qualityFocal,
                assigner: LabelAssigner = .atss(ATSSAssigner(topK: 9, octaveBaseScale: 4)),
                classWeight: Double = 1, boxWeight: Double? = nil) {
        self.boxLoss = boxLoss
        self.classification = classification
        self.assigner = assigner
        self.classWeight = classWeight
        self.boxWeight = boxWeight
    }
}

/// The ground truth of one image: boxes `[G, 4|5]` float64 and class labels.
public struct DetectorGroundTruth {
    public var boxes: Tensor
    public var labels: [Int]

    public init(boxes: Tensor, labels: [Int]) {
        self.boxes = boxes
        self.labels = labels
    }

    /// A dataset image's objects: le90 `[G, 5]` boxes when `rotated`, else their enclosing xyxy.
    public init(_ objects: [ShapesDetectionObject], rotated: Bool) {
        let rotatedBoxes = Tensor(objects.flatMap(\.box), shape: [objects.count, 5], dtype: .float64)
        boxes = rotated ? rotatedBoxes : (objects.isEmpty ? Tensor([Double](), shape: [0, 4], dtype: .float64) : rotatedBoxToXYXY(rotatedBoxes))
        labels = objects.map(\.classIndex)
    }
}

/// The terms of one batch's loss.
public struct DetectorLossTerms {
    /// Weighted sum of the terms (differentiable).
    public let total: Tensor
    /// Classification term, unweighted (differentiable).
    public let classification: Tensor
    /// Box term, unweighted (differentiable).
    public let box: Tensor
    /// Positive priors in the batch.
    public let positives: Int
    /// Mean IoU of the positives' decoded boxes with their objects.
    public let meanIoU: Double
}

/// The prior points of a `[P, 3]` (cx, cy, stride) tensor as `PriorPoint`s (level = index of
/// the stride among the sorted distinct strides).
public func priorPoints(_ priors: Tensor) -> [PriorPoint] {
    let v = priors.contiguous().doubles
    let strides = Array(Set(stride(from: 2, to: v.count, by: 3).map { v[$0] })).sorted()
    return (0..<(v.count / 3)).map { i in
        PriorPoint(cx: v[3 * i], cy: v[3 * i + 1], stride: v[3 * i + 2], level: strides.firstIndex(of: v[3 * i + 2])!)
    }
}

/// The per-batch targets: which priors are positive, for which object, with which soft score.
public struct DetectorTargets {
    /// Flat indices b·P + p of the positive priors, ascending.
    public var positiveIndices: [Int]
    /// The assigned object's box per positive, `[N, 4|5]` float64.
    public var boxes: Tensor
    /// The assigned object's label per positive.
    public var labels: [Int]
    /// The assignment of each image.
    public var assignments: [AssignmentResult]
}

/// Assigns every image of a batch (`output` may be the live one: only detached values are read).
public func buildDetectorTargets(_ output: DetectorOutput, priors: [PriorPoint], groundTruth: [DetectorGroundTruth],
                                 assigner: LabelAssigner) -> DetectorTargets {
    let (b, p) = (output.classLogits.shape[0], output.classLogits.shape[1])
    precondition(groundTruth.count == b && priors.count == p,
                 "Fathom.buildDetectorTargets: \(groundTruth.count) ground truths and \(priors.count) priors for a batch of \(b) images with \(p) priors")
    var indices: [Int] = [], rows: [Double] = [], labels: [Int] = [], assignments: [AssignmentResult] = []
    let width = output.boxes.shape[2]
    for image in 0..<b {
        let gt = groundTruth[image]
        guard !gt.labels.isEmpty else {
            assignments.append(AssignmentResult(priorCount: p))
            continue
        }
        let result = noGrad {
            assigner.assign(priors: priors, classLogits: output.classLogits[image].detach(),
                            predictedBoxes: output.boxes[image].detach(), gtBoxes: gt.boxes, gtLabels: gt.labels)
        }
        let gtValues = gt.boxes.contiguous().doubles
        for prior in result.positiveIndices {
            let g = result.gtIndices[prior]
            indices.append(image * p + prior)
            rows += gtValues[(g * width)..<((g + 1) * width)]
            labels.append(gt.labels[g])
        }
        assignments.append(result)
    }
    return DetectorTargets(positiveIndices: indices, boxes: Tensor(rows, shape: [indices.count, width], dtype: .float64),
                           labels: labels, assignments: assignments)
}

/// The detector's training loss on one batch (see the file comment for the conventions).
public func detectorLoss(_ output: DetectorOutput, priors: Tensor, groundTruth: [DetectorGroundTruth],
                         options: DetectorLossOptions) -> DetectorLossTerms {
    let (b, p, c) = (output.classLogits.shape[0], output.classLogits.shape[1], output.classLogits.shape[2])
    let width = output.boxes.shape[2], rotated = width == 5
    guard options.boxLoss.isRotated == rotated else {
        fatalError(TensorError(op: "detectorLoss", "box loss \(options.boxLoss.rawValue) is for \(options.boxLoss.isRotated ? "rotated" : "horizontal") boxes but the detector predicts \(rotated ? "rotated [B, P, 5]" : "horizontal [B, P, 4]") boxes").description)
    }
    let points = priorPoints(priors)
    let targets = buildDetectorTargets(output, priors: points, groundTruth: groundTruth, assigner: options.assigner)
    let n = targets.positiveIndices.count
    let normaliser = Double(Swift.max(1, n))
    let dtype = output.boxes.dtype

    var box: Tensor
    var ious = [Double](repeating: 0, count: n)
    if n > 0 {
        let index = Tensor(targets.positiveIndices.map { Int64($0) }, shape: [n])
        let predicted = output.boxes.reshaped([b * p, width]).indexSelect(axis: 0, index: index)
        let target = targets.boxes.to(dtype)
        ious = noGrad {
            (rotated ? alignedRotatedBoxIoU(predicted.detach(), target) : alignedBoxIoU(predicted.detach(), target)).contiguous().doubles
        }
        let priorRows = priors.indexSelect(axis: 0, index: Tensor(targets.positiveIndices.map { Int64($0 % p) }, shape: [n]))
        let stride = priorRows[.all, 2..<3].to(dtype)
        switch options.boxLoss {
        case .smoothL1:
            let raw = output.regression.reshaped([b * p, width]).indexSelect(axis: 0, index: index)
            let parts = raw.split([2, 2, 1], axis: -1)
            let pred = Tensor.cat([parts[0], parts[1].clamp(min: -10, max: 10), predicted[.all, 4..<5]], axis: -1)
            let t = target.split([2, 2, 1], axis: -1)
            let encoded = Tensor.cat([(t[0] - priorRows[.all, 0..<2].to(dtype)) / stride, (t[1] / stride).log(), t[2]], axis: -1)
            box = smoothL1Loss(pred, encoded, beta: 1.0 / 9.0, reduction: .sum)
        case .kld:
            box = kldLoss(predicted, target, reduction: .sum)
        case .gwd:
            box = gwdLoss(predicted, target, options: GWDLossOptions(), reduction: .sum)
        case .kfiou:
            let centre = priorRows[.all, 0..<2].to(dtype)
            box = kfiouLoss(predicted, target, predDeltas: (predicted[.all, 0..<2] - centre) / stride,
                            targetDeltas: (target[.all, 0..<2] - centre) / stride, reduction: .sum)
        case .giou:
            box = giouLoss(predicted, target, reduction: .sum)
        }
        box = box / normaliser
    } else {
        box = output.regression.sum() * 0.0
    }

    // Classification targets: IoU (soft) or 1 (hard) at each positive's class.
    var soft = [Float](repeating: 0, count: b * p * c)
    for (k, flat) in targets.positiveIndices.enumerated() {
        soft[flat * c + targets.labels[k]] = options.classification == .focal ? 1 : Float(Swift.max(ious[k], 0))
    }
    let classTarget = Tensor(soft, shape: [b, p, c]).to(output.classLogits.dtype)
    let classification: Tensor
    switch options.classification {
    case .qualityFocal: classification = qualityFocalLoss(output.classLogits, classTarget, reduction: .sum) / normaliser
    case .varifocal: classification = varifocalLoss(output.classLogits, classTarget, reduction: .sum) / normaliser
    case .focal: classification = sigmoidFocalLoss(output.classLogits, classTarget, reduction: .sum) / normaliser
    }
    let total = classification * options.classWeight + box * (options.boxWeight ?? options.boxLoss.defaultWeight)
    return DetectorLossTerms(total: total, classification: classification, box: box, positives: n,
                             meanIoU: n > 0 ? ious.reduce(0, +) / Double(n) : 0)
}
