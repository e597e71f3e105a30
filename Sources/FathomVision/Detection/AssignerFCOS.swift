// FCOS target assignment with centre sampling (Tian et al., "FCOS: Fully Convolutional One-Stage
// Object Detection", ICCV 2019; centre sampling from the FCOS "improvements"), following
// MMDetection's `FCOSHead._get_targets_single` (center_sampling=True, center_sample_radius=1.5)
// and, for rotated boxes, MMRotate's `RotatedFCOSHead._get_targets_single`.

import Foundation
import FathomTensor

/// The FCOS assigner. For a prior point (x, y) on a level of stride s and a ground truth g, with
/// (l, t, r, b) the distances from the point to g's sides (in g's rotated frame for rotated gts):
/// - inside: the point lies strictly inside g and, with centre sampling, strictly inside the
///   centre square of half-side `radius · s` around g's centre (MMDetection clips that square to
///   g; MMRotate tests |offset| < radius·s in g's frame — the same for θ = 0);
/// - in range: max(l, t, r, b) lies in the level's regression range [lo, hi] (both ends closed,
///   as MMDetection): this is how FCOS sends large objects to coarse levels;
/// - among the gts passing both, the prior takes the one of smallest area (ties → lower index).
/// `qualities` holds the FCOS centre-ness √(min(l,r)/max(l,r) · min(t,b)/max(t,b)) of the match.
public struct FCOSAssigner: Sendable {
    /// Centre-sampling radius in strides (1.5 in FCOS).
    public var radius: Double
    /// Whether to restrict positives to the centre region (else any point inside the gt).
    public var centerSampling: Bool
    /// Per level, the closed range of max(l, t, r, b) a positive may have; `nil` gives
    /// `defaultRegressRanges(levelCount:)`.
    public var regressRanges: [(lower: Double, upper: Double)]?

    /// An FCOS assigner (radius 1.5, centre sampling on, FCOS's default ranges).
    public init(radius: Double = 1.5, centerSampling: Bool = true, regressRanges: [(lower: Double, upper: Double)]? = nil) {
        self.radius = radius; self.centerSampling = centerSampling; self.regressRanges = regressRanges
    }

    /// FCOS's ranges for strides 8…128 — (−1, 64), (64, 128), (128, 256), (256, 512), (512, ∞) —
    /// cut to `levelCount` levels with the last level's upper end opened to ∞ (so 3 levels of
    /// strides 8, 16, 32 get (−1, 64), (64, 128), (128, ∞)).
    public static func defaultRegressRanges(levelCount: Int) -> [(lower: Double, upper: Double)] {
        var bounds: [Double] = [-1]
        for l in 0..<Swift.max(levelCount, 1) { bounds.append(l == levelCount - 1 ? .infinity : 64 * pow(2, Double(l))) }
        return (0..<levelCount).map { (bounds[$0], bounds[$0 + 1]) }
    }

    /// Assigns `priors` to the `[G, 4]` (horizontal) or `[G, 5]` (rotated) ground-truth boxes.
    public func assign(priors: [PriorPoint], gtBoxes: Tensor) -> AssignmentResult {
        assign(priors: priors, gts: AssignerBoxes(gtBoxes, op: "FCOSAssigner.assign"))
    }

    /// Assigns `priors` to ground-truth boxes given as flat rows of `boxWidth` (4 or 5) values.
    public func assign(priors: [PriorPoint], gtBoxes: [Double], boxWidth: Int) -> AssignmentResult {
        assign(priors: priors, gts: AssignerBoxes(values: gtBoxes, width: boxWidth, op: "FCOSAssigner.assign"))
    }

    func assign(priors: [PriorPoint], gts: AssignerBoxes) -> AssignmentResult {
        var result = AssignmentResult(priorCount: priors.count)
        guard gts.count > 0, !priors.isEmpty else { return result }
        let levelCount = (priors.map(\.level).max() ?? 0) + 1
        let ranges = regressRanges ?? Self.defaultRegressRanges(levelCount: levelCount)
        guard ranges.count >= levelCount else {
            fatalError(TensorError(op: "FCOSAssigner.assign", "the priors span \(levelCount) levels but only \(ranges.count) regression ranges were given; give one (lower, upper) per level").description)
        }
        let areas = (0..<gts.count).map { gts.area($0) }
        let centers = (0..<gts.count).map { gts.center($0) }
        for (p, prior) in priors.enumerated() {
            let range = ranges[prior.level], reach = radius * prior.stride
            var bestArea = Double.infinity
            for g in 0..<gts.count {
                let s = gts.sideDistances(prior.cx, prior.cy, g)
                var inside: Bool
                if centerSampling {
                    if gts.isRotated {
                        let o = gts.localOffset(prior.cx, prior.cy, g)
                        inside = Swift.abs(o.x) < reach && Swift.abs(o.y) < reach && Swift.min(Swift.min(s.l, s.t), Swift.min(s.r, s.b)) > 0
                    } else {
                        // MMDetection: the centre box clipped to the gt, then the point strictly inside.
                        let b = 4 * g, c = centers[g]
                        let x0 = Swift.max(c.x - reach, gts.values[b]), y0 = Swift.max(c.y - reach, gts.values[b + 1])
                        let x1 = Swift.min(c.x + reach, gts.values[b + 2]), y1 = Swift.min(c.y + reach, gts.values[b + 3])
                        inside = Swift.min(Swift.min(prior.cx - x0, prior.cy - y0), Swift.min(x1 - prior.cx, y1 - prior.cy)) > 0
                    }
                } else {
                    inside = Swift.min(Swift.min(s.l, s.t), Swift.min(s.r, s.b)) > 0
                }
                guard inside else { continue }
                let reachNeeded = Swift.max(Swift.max(s.l, s.t), Swift.max(s.r, s.b))
                guard reachNeeded >= range.lower && reachNeeded <= range.upper else { continue }
                if areas[g] < bestArea {
                    bestArea = areas[g]
                    result.gtIndices[p] = g
                    let lr = Swift.min(s.l, s.r) / Swift.max(s.l, s.r), tb = Swift.min(s.t, s.b) / Swift.max(s.t, s.b)
                    result.qualities[p] = (lr * tb).squareRoot()
                }
            }
        }
        return result
    }
}
