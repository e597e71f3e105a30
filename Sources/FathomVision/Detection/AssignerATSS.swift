// ATSS: Adaptive Training Sample Selection (Zhang et al., "Bridging the Gap Between
// Anchor-based and Anchor-free Detection via Adaptive Training Sample Selection", CVPR 2020),
// following MMDetection's `ATSSAssigner.assign` (mmdet/models/task_modules/assigners/
// atss_assigner.py) and, for rotated boxes, MMRotate's `ATSSObbAssigner` (rotated IoU, centre
// inside the rotated gt polygon).

import Foundation
import FathomTensor

/// The ATSS assigner. Each prior point stands for a square anchor of side
/// `octaveBaseScale · stride` centred on the point (MMDetection's ATSS uses 8, one scale, ratio
/// 1; MMRotate's rotated ATSS uses 4). For each ground truth g:
/// 1. on every pyramid level, the `topK` priors whose centres are nearest (Euclidean) to g's
///    centre are candidates (all of the level's priors if it has fewer); ties → lower prior index;
/// 2. the threshold is t_g = mean + std of the candidates' anchor–gt IoUs, std the unbiased
///    (n − 1) sample standard deviation as `torch.std` (taken as 0 when there is one candidate,
///    where torch gives NaN and so no positives);
/// 3. a candidate is positive for g when IoU ≥ t_g and its point lies inside g with a margin:
///    min(l, t, r, b) > `insideMargin` (0.01 px, as MMDetection), the side distances measured in
///    g's own rotated frame for rotated boxes;
/// 4. a prior positive for several gts goes to the one of highest IoU (ties → lower gt index).
///
/// Horizontal gts use the axis-aligned anchor IoU; rotated gts `[G, 5]` use the exact rotated IoU
/// of the anchor (cx, cy, s, s, 0) with the gt. `qualities` holds the anchor IoU of each positive.
public struct ATSSAssigner: Sendable {
    /// Candidates per level per ground truth (9 in the paper).
    public var topK: Int
    /// Anchor side in strides (8 in MMDetection's ATSS).
    public var octaveBaseScale: Double
    /// How far inside the gt a positive's point must be, in pixels (0.01 in MMDetection).
    public var insideMargin: Double

    /// An ATSS assigner with the paper's defaults.
    public init(topK: Int = 9, octaveBaseScale: Double = 8, insideMargin: Double = 0.01) {
        self.topK = topK; self.octaveBaseScale = octaveBaseScale; self.insideMargin = insideMargin
    }

    /// Assigns `priors` to the `[G, 4]` (horizontal) or `[G, 5]` (rotated) ground-truth boxes.
    public func assign(priors: [PriorPoint], gtBoxes: Tensor) -> AssignmentResult {
        assign(priors: priors, gts: AssignerBoxes(gtBoxes, op: "ATSSAssigner.assign"))
    }

    /// Assigns `priors` to ground-truth boxes given as flat rows of `boxWidth` (4 or 5) values.
    public func assign(priors: [PriorPoint], gtBoxes: [Double], boxWidth: Int) -> AssignmentResult {
        assign(priors: priors, gts: AssignerBoxes(values: gtBoxes, width: boxWidth, op: "ATSSAssigner.assign"))
    }

    func assign(priors: [PriorPoint], gts: AssignerBoxes) -> AssignmentResult {
        var result = AssignmentResult(priorCount: priors.count)
        guard gts.count > 0, !priors.isEmpty, topK > 0 else { return result }
        let levels = priorsByLevel(priors)
        // Best (IoU, gt) per prior among the gts it is positive for; IoU −∞ means unclaimed.
        var bestIoU = [Double](repeating: -.infinity, count: priors.count)
        var candidates: [Int] = [], candidateIoUs: [Double] = []
        var heapDistances = [Double](repeating: 0, count: topK), heapIndices = [Int](repeating: 0, count: topK)
        var anchor = [Double](repeating: 0, count: 5)
        gts.values.withUnsafeBufferPointer { gtBuffer in
            let gtPointer = gtBuffer.baseAddress!
            for g in 0..<gts.count {
                let center = gts.center(g)
                candidates.removeAll(keepingCapacity: true)
                for members in levels {
                    // The k nearest of this level by a sorted insertion buffer (k is small).
                    var filled = 0
                    for p in members {
                        let dx = priors[p].cx - center.x, dy = priors[p].cy - center.y
                        let d = (dx * dx + dy * dy).squareRoot()
                        if filled == topK && d >= heapDistances[filled - 1] { continue }
                        var slot = filled < topK ? filled : topK - 1
                        if filled < topK { filled += 1 }
                        while slot > 0 && heapDistances[slot - 1] > d {
                            heapDistances[slot] = heapDistances[slot - 1]; heapIndices[slot] = heapIndices[slot - 1]
                            slot -= 1
                        }
                        heapDistances[slot] = d; heapIndices[slot] = p
                    }
                    candidates.append(contentsOf: heapIndices[0..<filled])
                }
                candidateIoUs.removeAll(keepingCapacity: true)
                for p in candidates {
                    let side = octaveBaseScale * priors[p].stride, prior = priors[p]
                    let iou: Double = anchor.withUnsafeMutableBufferPointer { a in
                        if gts.isRotated {
                            a[0] = prior.cx; a[1] = prior.cy; a[2] = side; a[3] = side; a[4] = 0
                        } else {
                            a[0] = prior.cx - side / 2; a[1] = prior.cy - side / 2
                            a[2] = prior.cx + side / 2; a[3] = prior.cy + side / 2
                        }
                        return assignerIoU(UnsafePointer(a.baseAddress!), gtPointer, g, width: gts.width)
                    }
                    candidateIoUs.append(iou)
                }
                let n = Double(candidateIoUs.count)
                let mean = candidateIoUs.reduce(0, +) / n
                let variance = candidateIoUs.count > 1
                    ? candidateIoUs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
                let threshold = mean + variance.squareRoot()
                for (p, iou) in zip(candidates, candidateIoUs) where iou >= threshold {
                    let s = gts.sideDistances(priors[p].cx, priors[p].cy, g)
                    guard Swift.min(Swift.min(s.l, s.t), Swift.min(s.r, s.b)) > insideMargin else { continue }
                    // Strictly greater: gts are visited in index order, so ties keep the lower index.
                    if iou > bestIoU[p] {
                        bestIoU[p] = iou; result.gtIndices[p] = g; result.qualities[p] = iou
                    }
                }
            }
        }
        return result
    }
}

/// Prior indices grouped by pyramid level, levels ascending, indices ascending within a level.
func priorsByLevel(_ priors: [PriorPoint]) -> [[Int]] {
    let levelCount = (priors.map(\.level).max() ?? -1) + 1
    guard priors.allSatisfy({ $0.level >= 0 }) else {
        fatalError(TensorError(op: "assign", "prior levels must be ≥ 0").description)
    }
    var groups = [[Int]](repeating: [], count: levelCount)
    for (i, p) in priors.enumerated() { groups[p.level].append(i) }
    return groups.filter { !$0.isEmpty }
}
