// Dynamic (prediction-aware) assignment: SimOTA (Ge et al., "YOLOX: Exceeding YOLO Series in
// 2021", following MMDetection's `SimOTAAssigner` in sim_ota_assigner.py) and AlignedOTA
// (Xu et al., "DAMO-YOLO", 2022, following `AlignOTAAssigner` in DAMO-YOLO's
// damo/base_models/core/ota_assigner.py, also MMYOLO's port). Both share the candidate region
// and `dynamic_k_matching`; they differ only in the classification cost.

import Foundation
import FathomTensor

/// SimOTA / AlignedOTA assignment for one image, from the model's current predictions.
///
/// With p_c = sigmoid(logit_c) for the prior's C classes, IoU_pg the IoU of the prior's decoded
/// box with gt g (exact rotated IoU for `[G, 5]` boxes) and y_g gt g's label:
/// 1. candidate region: `inBox` = the prior point lies strictly inside g (in g's rotated frame
///    for rotated boxes, as MMRotate's `RSimOTAAssigner.points_in_rbboxes`); `inCenter` = it lies
///    strictly inside the square of half-side `centerRadius · stride` (2.5 strides) around g's
///    centre, in image axes (also for rotated boxes, as `RSimOTAAssigner`). Priors in no gt's box
///    and no gt's centre square are never positive ("valid" priors are the others);
/// 2. cost_pg = `clsWeight`·cls_pg + `iouWeight`·(−log(IoU_pg + 1e-7)) + 10⁸·[not (inBox and
///    inCenter)], the classification cost being
///    - SimOTA: Σ_c BCE(p_c, onehot(y_g)_c);
///    - AlignedOTA: Σ_c BCE(p_c, s_c)·|s_c − p_c|² with the IoU-aware soft target
///      s = IoU_pg·onehot(y_g) (the quality-focal form DAMO-YOLO's code uses),
///    BCE(p, t) = −(t·log p + (1 − t)·log(1 − p)) with logs clamped at −100 as
///    `F.binary_cross_entropy`, evaluated from the logits (log p = −softplus(−logit));
/// 3. dynamic k_g = max(1, ⌊Σ of the `candidateTopK` (10) largest IoU_pg over valid priors⌋);
///    g takes its k_g valid priors of least cost (ties → lower prior index);
/// 4. a prior taken by several gts keeps argmin_g cost_pg over all gts (ties → lower index).
/// `qualities` holds IoU_pg of each positive with its gt. The scores are plain sigmoids of the
/// class logits (the detector has no objectness branch; YOLOX multiplies by an objectness
/// score and MMRotate's rotated SimOTA takes a square root of that product).
public struct OTAAssigner: Sendable {
    /// Which classification cost the assigner uses.
    public enum Cost: String, Sendable, CaseIterable {
        /// YOLOX SimOTA: BCE against the one-hot label.
        case simOTA
        /// DAMO-YOLO AlignedOTA: focal-weighted BCE against IoU-scaled soft labels.
        case alignedOTA
    }

    /// The classification cost.
    public var cost: Cost
    /// Centre-region half-side in strides (2.5 in YOLOX and DAMO-YOLO).
    public var centerRadius: Double
    /// How many top IoUs make up the dynamic k (10).
    public var candidateTopK: Int
    /// Weight of the −log IoU cost (3).
    public var iouWeight: Double
    /// Weight of the classification cost (1).
    public var clsWeight: Double

    /// Cost added outside a gt's box-and-centre region (a large constant, as the references).
    static let outsideCost = 1e8

    /// An OTA assigner with the YOLOX / DAMO-YOLO defaults.
    public init(cost: Cost = .simOTA, centerRadius: Double = 2.5, candidateTopK: Int = 10, iouWeight: Double = 3, clsWeight: Double = 1) {
        self.cost = cost; self.centerRadius = centerRadius; self.candidateTopK = candidateTopK
        self.iouWeight = iouWeight; self.clsWeight = clsWeight
    }

    /// Assigns `priors` given the model's `[P, C]` class logits and `[P, 4]` / `[P, 5]` decoded
    /// boxes for this image, to `[G, 4]` / `[G, 5]` ground-truth boxes with labels in 0..<C.
    public func assign(priors: [PriorPoint], classLogits: Tensor, predictedBoxes: Tensor, gtBoxes: Tensor, gtLabels: [Int]) -> AssignmentResult {
        let op = "OTAAssigner.assign"
        let gts = AssignerBoxes(gtBoxes, op: op)
        guard classLogits.dtype.isFloatingPoint, classLogits.rank == 2, classLogits.shape[0] == priors.count else {
            fatalError(TensorError(op: op, "class logits have shape \(boxShapeText(classLogits.shape)) and dtype \(classLogits.dtype); expected floating-point [\(priors.count), C] (one row per prior)").description)
        }
        let boxes = assignerPredictedBoxes(predictedBoxes, priorCount: priors.count, width: gts.width, op: op)
        return assign(priors: priors, logits: classLogits.contiguous().doubles, classCount: classLogits.shape[1],
                      predictedBoxes: boxes, gts: gts, gtLabels: gtLabels)
    }

    /// The same on flat arrays: `logits` `P·classCount` row-major, `predictedBoxes` and
    /// `gtBoxes` rows of `boxWidth` (4 or 5) values.
    public func assign(priors: [PriorPoint], logits: [Double], classCount: Int, predictedBoxes: [Double],
                       gtBoxes: [Double], boxWidth: Int, gtLabels: [Int]) -> AssignmentResult {
        let op = "OTAAssigner.assign"
        guard logits.count == priors.count * classCount, predictedBoxes.count == priors.count * boxWidth else {
            fatalError(TensorError(op: op, "\(priors.count) priors need \(priors.count * classCount) logits and \(priors.count * boxWidth) box values; got \(logits.count) and \(predictedBoxes.count)").description)
        }
        return assign(priors: priors, logits: logits, classCount: classCount, predictedBoxes: predictedBoxes,
                      gts: AssignerBoxes(values: gtBoxes, width: boxWidth, op: op), gtLabels: gtLabels)
    }

    func assign(priors: [PriorPoint], logits: [Double], classCount: Int, predictedBoxes: [Double],
                gts: AssignerBoxes, gtLabels: [Int]) -> AssignmentResult {
        let op = "OTAAssigner.assign"
        var result = AssignmentResult(priorCount: priors.count)
        let gtCount = gts.count
        guard gtLabels.count == gtCount else {
            fatalError(TensorError(op: op, "got \(gtCount) ground-truth boxes but \(gtLabels.count) labels").description)
        }
        for (g, label) in gtLabels.enumerated() where label < 0 || label >= classCount {
            fatalError(TensorError(op: op, "gt \(g) has label \(label), outside 0..<\(classCount) (the logits' class count)").description)
        }
        guard gtCount > 0, !priors.isEmpty else { return result }

        // 1. Candidate region; `region[v·G + g]` = inBox && inCenter for valid prior v.
        var valid: [Int] = [], region: [Bool] = []
        let centers = (0..<gtCount).map { gts.center($0) }
        var inBoxRow = [Bool](repeating: false, count: gtCount), inCenterRow = inBoxRow
        for (p, prior) in priors.enumerated() {
            let reach = centerRadius * prior.stride
            var any = false
            for g in 0..<gtCount {
                let s = gts.sideDistances(prior.cx, prior.cy, g), c = centers[g]
                inBoxRow[g] = Swift.min(Swift.min(s.l, s.t), Swift.min(s.r, s.b)) > 0
                inCenterRow[g] = Swift.min(Swift.min(prior.cx - (c.x - reach), prior.cy - (c.y - reach)),
                                           Swift.min((c.x + reach) - prior.cx, (c.y + reach) - prior.cy)) > 0
                any = any || inBoxRow[g] || inCenterRow[g]
            }
            if any {
                valid.append(p)
                for g in 0..<gtCount { region.append(inBoxRow[g] && inCenterRow[g]) }
            }
        }
        let validCount = valid.count
        guard validCount > 0 else { return result }

        // 2. IoU and cost matrices [V, G].
        var ious = [Double](repeating: 0, count: validCount * gtCount)
        var costs = [Double](repeating: 0, count: validCount * gtCount)
        predictedBoxes.withUnsafeBufferPointer { predBuffer in
            gts.values.withUnsafeBufferPointer { gtBuffer in
                let pred = predBuffer.baseAddress!, gtPointer = gtBuffer.baseAddress!
                for (v, p) in valid.enumerated() {
                    let row = p * classCount
                    // Per-prior sum of the background terms, so each gt costs O(1).
                    var background = 0.0
                    for c in 0..<classCount {
                        let x = logits[row + c], negLogOneMinus = Swift.min(assignerSoftplus(x), 100)
                        if cost == .simOTA {
                            background += negLogOneMinus
                        } else {
                            let prob = 1 / (1 + Foundation.exp(-x))
                            background += negLogOneMinus * prob * prob
                        }
                    }
                    for g in 0..<gtCount {
                        let iou = assignerIoU(pred + gts.width * p, gtPointer, g, width: gts.width)
                        ious[v * gtCount + g] = iou
                        let x = logits[row + gtLabels[g]]
                        let negLogP = Swift.min(assignerSoftplus(-x), 100), negLogOneMinus = Swift.min(assignerSoftplus(x), 100)
                        var cls: Double
                        if cost == .simOTA {
                            cls = background - negLogOneMinus + negLogP
                        } else {
                            let prob = 1 / (1 + Foundation.exp(-x)), gap = iou - prob
                            cls = background - negLogOneMinus * prob * prob
                                + (iou * negLogP + (1 - iou) * negLogOneMinus) * gap * gap
                        }
                        costs[v * gtCount + g] = clsWeight * cls + iouWeight * -Foundation.log(iou + 1e-7)
                            + (region[v * gtCount + g] ? 0 : Self.outsideCost)
                    }
                }
            }
        }

        // 3. Dynamic k and each gt's k cheapest valid priors.
        let topCount = Swift.min(candidateTopK, validCount)
        var matchCount = [Int](repeating: 0, count: validCount)
        var matchedGT = [Int](repeating: -1, count: validCount)
        var keys = [Double](repeating: 0, count: Swift.max(topCount, 1)), slots = [Int](repeating: 0, count: Swift.max(topCount, 1))
        for g in 0..<gtCount {
            // Sum of the topCount largest IoUs (selection by insertion; order does not matter for
            // the sum beyond rounding, so it is summed largest first as torch.topk returns them).
            var filled = 0
            if topCount > 0 {
                for v in 0..<validCount {
                    let value = -ious[v * gtCount + g]
                    insertSmallest(value, v, &keys, &slots, &filled, capacity: topCount)
                }
            }
            var iouSum = 0.0
            for i in 0..<filled { iouSum += -keys[i] }
            let k = Swift.min(validCount, Swift.max(1, Int(iouSum)))
            var chosenKeys = [Double](repeating: 0, count: k), chosen = [Int](repeating: 0, count: k)
            filled = 0
            for v in 0..<validCount { insertSmallest(costs[v * gtCount + g], v, &chosenKeys, &chosen, &filled, capacity: k) }
            for i in 0..<filled {
                matchCount[chosen[i]] += 1
                matchedGT[chosen[i]] = g
            }
        }

        // 4. Conflicts go to the cheapest gt; then write the result.
        for v in 0..<validCount where matchCount[v] > 0 {
            var g = matchedGT[v]
            if matchCount[v] > 1 {
                g = 0
                for h in 1..<gtCount where costs[v * gtCount + h] < costs[v * gtCount + g] { g = h }
            }
            result.gtIndices[valid[v]] = g
            result.qualities[valid[v]] = ious[v * gtCount + g]
        }
        return result
    }
}

/// Keeps the `capacity` smallest keys seen so far in ascending order (equal keys keep arrival
/// order, so the lower index wins ties).
@inline(__always)
private func insertSmallest(_ key: Double, _ index: Int, _ keys: inout [Double], _ indices: inout [Int], _ filled: inout Int, capacity: Int) {
    if filled == capacity && key >= keys[filled - 1] { return }
    var slot = filled < capacity ? filled : capacity - 1
    if filled < capacity { filled += 1 }
    while slot > 0 && keys[slot - 1] > key {
        keys[slot] = keys[slot - 1]; indices[slot] = indices[slot - 1]
        slot -= 1
    }
    keys[slot] = key; indices[slot] = index
}
