// Label assignment for dense (anchor-free, point-prior) detectors: which prior point learns
// which ground-truth object. Shared pieces live here (prior points, the assignment result, the
// box geometry every assigner needs); the assigners themselves are in AssignerATSS.swift
// (ATSS), AssignerFCOS.swift (FCOS centre sampling) and AssignerOTA.swift (SimOTA, AlignedOTA).
//
// Every assigner works on one image, in float64, on plain arrays, serially (P ≈ 5000 priors and
// G ≈ 20 objects cost well under a millisecond), so results never depend on the thread count.
// Ties are broken by the lowest index (prior index for "the k best priors", gt index for "the
// best gt"), which is what a stable sort gives; the reference PyTorch code leaves ties to
// `torch.topk`, whose order on ties is unspecified.
//
// Boxes: ground truth and predictions are either horizontal `[G, 4]` (x1, y1, x2, y2) or rotated
// `[G, 5]` (cx, cy, w, h, θ) in the RotatedBoxes.swift convention (θ counter-clockwise in the
// y-down image frame; any angle convention works, le90 is what the detector decodes).

import Foundation
import FathomTensor

/// One prior point of a dense detector: the location (cx, cy) in input-image pixels at which a
/// feature-map cell predicts, its level's `stride`, and the pyramid `level` (0 = finest).
public struct PriorPoint: Sendable, Equatable, Hashable {
    /// Point x in image pixels.
    public var cx: Double
    /// Point y in image pixels.
    public var cy: Double
    /// The stride (downsampling factor) of the prior's feature level.
    public var stride: Double
    /// The feature-pyramid level index, 0 for the finest level.
    public var level: Int

    /// A prior point at (cx, cy) on a level of the given stride.
    public init(cx: Double, cy: Double, stride: Double, level: Int) {
        self.cx = cx; self.cy = cy; self.stride = stride; self.level = level
    }

    /// The priors of a feature pyramid, level by level, each level row-major (y outer, x inner):
    /// level `l` of size `sizes[l]` = (height, width) with stride `strides[l]` has points
    /// ((x + offset)·stride, (y + offset)·stride). `offset` 0.5 puts points at cell centres
    /// (MMDetection's FCOS/ATSS point generator uses 0, YOLOX 0, RTMDet 0; any choice works).
    public static func grid(sizes: [(height: Int, width: Int)], strides: [Double], offset: Double = 0.5) -> [PriorPoint] {
        guard sizes.count == strides.count else {
            fatalError(TensorError(op: "PriorPoint.grid", "got \(sizes.count) level sizes but \(strides.count) strides; give one stride per level").description)
        }
        var priors: [PriorPoint] = []
        priors.reserveCapacity(sizes.reduce(0) { $0 + $1.height * $1.width })
        for (level, (size, s)) in zip(sizes, strides).enumerated() {
            for y in 0..<size.height {
                for x in 0..<size.width {
                    priors.append(PriorPoint(cx: (Double(x) + offset) * s, cy: (Double(y) + offset) * s, stride: s, level: level))
                }
            }
        }
        return priors
    }
}

/// The outcome of assigning one image's priors to its ground-truth objects.
public struct AssignmentResult: Sendable, Equatable {
    /// Per prior: the index of its ground-truth object, or −1 for background.
    public var gtIndices: [Int]
    /// Per prior: the quality the assigner attaches to the match, used as the soft
    /// classification target (quality/varifocal losses): the anchor IoU for ATSS, the
    /// centre-ness for FCOS, the predicted box's IoU for SimOTA/AlignedOTA. 0 for background.
    public var qualities: [Double]

    /// All priors background.
    public init(priorCount: Int) {
        gtIndices = [Int](repeating: -1, count: priorCount)
        qualities = [Double](repeating: 0, count: priorCount)
    }

    /// The number of priors.
    public var priorCount: Int { gtIndices.count }

    /// Indices of the positive (non-background) priors, ascending.
    public var positiveIndices: [Int] { gtIndices.indices.filter { gtIndices[$0] >= 0 } }

    /// The number of positive priors.
    public var positiveCount: Int { gtIndices.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// Per prior: the class label of its object (`gtLabels[gtIndex]`), or −1 for background.
    public func labels(gtLabels: [Int]) -> [Int] {
        gtIndices.map { $0 >= 0 ? gtLabels[$0] : -1 }
    }

    /// Classification targets `[P, classCount]`: zero everywhere except `quality` (or 1 when
    /// `soft` is false) at each positive prior's class — the target of quality focal / varifocal
    /// (soft) or focal / BCE (hard) losses.
    public func classTargets(gtLabels: [Int], classCount: Int, soft: Bool = true, dtype: DType = .float32) -> Tensor {
        var out = [Double](repeating: 0, count: priorCount * classCount)
        for (p, g) in gtIndices.enumerated() where g >= 0 {
            let label = gtLabels[g]
            guard label >= 0 && label < classCount else {
                fatalError(TensorError(op: "AssignmentResult.classTargets", "gt \(g) has label \(label), outside 0..<\(classCount)").description)
            }
            out[p * classCount + label] = soft ? qualities[p] : 1
        }
        return Tensor(out, shape: [priorCount, classCount], dtype: dtype)
    }

    /// The positive priors' ground-truth boxes `[numPositives, width]`, rows in `positiveIndices`
    /// order (the regression targets), from the `[G, width]` boxes given to the assigner.
    public func assignedBoxes(_ gtBoxes: Tensor) -> Tensor {
        let positives = positiveIndices.map { gtIndices[$0] }
        let width = gtBoxes.rank == 2 ? gtBoxes.shape[1] : 0
        if positives.isEmpty { return Tensor([Double](), shape: [0, width], dtype: gtBoxes.dtype) }
        return gtBoxes.indexSelect(axis: 0, index: Tensor(positives.map(Double.init), shape: [positives.count], dtype: .int64))
    }
}

/// Ground-truth boxes of one image as flat float64 rows, with the geometry assigners share.
struct AssignerBoxes {
    /// Row-major values, `width` per box.
    let values: [Double]
    /// 4 for horizontal (x1, y1, x2, y2), 5 for rotated (cx, cy, w, h, θ).
    let width: Int
    let count: Int
    /// cos θ and sin θ per rotated box (unused for horizontal).
    let cosines: [Double], sines: [Double]

    var isRotated: Bool { width == 5 }

    init(values: [Double], width: Int, op: String) {
        guard width == 4 || width == 5, values.count % width == 0 else {
            fatalError(TensorError(op: op, "ground-truth boxes need 4 (x1, y1, x2, y2) or 5 (cx, cy, w, h, θ) values per box; got \(values.count) values with width \(width)").description)
        }
        self.values = values; self.width = width; count = values.count / width
        if width == 5 {
            cosines = (0..<count).map { Foundation.cos(values[5 * $0 + 4]) }
            sines = (0..<count).map { Foundation.sin(values[5 * $0 + 4]) }
        } else {
            cosines = []; sines = []
        }
    }

    init(_ boxes: Tensor, op: String) {
        guard boxes.dtype.isFloatingPoint, boxes.rank == 2, boxes.shape[1] == 4 || boxes.shape[1] == 5 else {
            fatalError(TensorError(op: op, "ground-truth boxes have shape \(boxShapeText(boxes.shape)) and dtype \(boxes.dtype); expected floating-point [G, 4] (x1, y1, x2, y2) or [G, 5] (cx, cy, w, h, θ)").description)
        }
        self.init(values: boxes.contiguous().doubles, width: boxes.shape[1], op: op)
    }

    /// Box g's centre.
    @inline(__always)
    func center(_ g: Int) -> (x: Double, y: Double) {
        let b = width * g
        return isRotated ? (values[b], values[b + 1]) : ((values[b] + values[b + 2]) / 2, (values[b + 1] + values[b + 3]) / 2)
    }

    /// Box g's area.
    @inline(__always)
    func area(_ g: Int) -> Double {
        let b = width * g
        return isRotated ? values[b + 2] * values[b + 3] : (values[b + 2] - values[b]) * (values[b + 3] - values[b + 1])
    }

    /// The point's offset from box g's centre in the box's own frame (rotated by −θ); the image
    /// offset for horizontal boxes.
    @inline(__always)
    func localOffset(_ x: Double, _ y: Double, _ g: Int) -> (x: Double, y: Double) {
        let c = center(g), dx = x - c.x, dy = y - c.y
        if !isRotated { return (dx, dy) }
        return (cosines[g] * dx + sines[g] * dy, -sines[g] * dx + cosines[g] * dy)
    }

    /// Distances (left, top, right, bottom) from the point to box g's sides, in the box's frame
    /// (FCOS regression targets; all > 0 exactly when the point is strictly inside).
    @inline(__always)
    func sideDistances(_ x: Double, _ y: Double, _ g: Int) -> (l: Double, t: Double, r: Double, b: Double) {
        let b = width * g
        if !isRotated { return (x - values[b], y - values[b + 1], values[b + 2] - x, values[b + 3] - y) }
        let o = localOffset(x, y, g), hw = values[b + 2] / 2, hh = values[b + 3] / 2
        return (hw + o.x, hh + o.y, hw - o.x, hh - o.y)
    }
}

/// Reads `[P, width]` predicted boxes as flat float64 rows, checking they match the gt format.
func assignerPredictedBoxes(_ boxes: Tensor, priorCount: Int, width: Int, op: String) -> [Double] {
    guard boxes.dtype.isFloatingPoint, boxes.rank == 2, boxes.shape[0] == priorCount, boxes.shape[1] == width else {
        fatalError(TensorError(op: op, "predicted boxes have shape \(boxShapeText(boxes.shape)) and dtype \(boxes.dtype); expected floating-point [\(priorCount), \(width)] (one decoded box per prior, in the ground truth's format)").description)
    }
    return boxes.contiguous().doubles
}

/// IoU of a flat box row `a` with box g of `gts` (horizontal or rotated, exact), float64.
@inline(__always)
func assignerIoU(_ a: UnsafePointer<Double>, _ gts: UnsafePointer<Double>, _ g: Int, width: Int) -> Double {
    width == 5 ? rotatedIoUValue(a, gts + 5 * g) : boxOverlap(a, gts + 4 * g, .iou)
}

/// `log(1 + eˣ)` without overflow: −log(1 − sigmoid x) = softplus(x), −log(sigmoid x) = softplus(−x).
@inline(__always)
func assignerSoftplus(_ x: Double) -> Double {
    x > 0 ? x + Foundation.log1p(Foundation.exp(-x)) : Foundation.log1p(Foundation.exp(x))
}

/// Any of the label assigners behind one call, for trainers that pick one by name.
public enum LabelAssigner: Sendable {
    /// ATSS (static: ignores the predictions).
    case atss(ATSSAssigner)
    /// FCOS centre sampling (static: ignores the predictions).
    case fcos(FCOSAssigner)
    /// SimOTA or AlignedOTA (dynamic: uses the class logits and decoded boxes).
    case ota(OTAAssigner)

    /// The names `named(_:)` accepts: "atss", "fcos", "simota", "alignedota".
    public static let names = ["atss", "fcos", "simota", "alignedota"]

    /// The assigner with its reference defaults for a name in `names` (case-insensitive), or nil.
    public static func named(_ name: String) -> LabelAssigner? {
        switch name.lowercased() {
        case "atss": return .atss(ATSSAssigner())
        case "fcos": return .fcos(FCOSAssigner())
        case "simota": return .ota(OTAAssigner(cost: .simOTA))
        case "alignedota": return .ota(OTAAssigner(cost: .alignedOTA))
        default: return nil
        }
    }

    /// Whether the assignment depends on the model's predictions (so it must be recomputed
    /// every step from detached outputs) rather than on the geometry alone.
    public var usesPredictions: Bool {
        if case .ota = self { return true }
        return false
    }

    /// Assigns one image: `priors` (P), `classLogits` `[P, C]`, `predictedBoxes` `[P, 4|5]`
    /// (read only by the OTA assigners), ground truth `[G, 4|5]` with labels in 0..<C.
    public func assign(priors: [PriorPoint], classLogits: Tensor, predictedBoxes: Tensor, gtBoxes: Tensor, gtLabels: [Int]) -> AssignmentResult {
        switch self {
        case .atss(let a): return a.assign(priors: priors, gtBoxes: gtBoxes)
        case .fcos(let a): return a.assign(priors: priors, gtBoxes: gtBoxes)
        case .ota(let a):
            return a.assign(priors: priors, classLogits: classLogits, predictedBoxes: predictedBoxes, gtBoxes: gtBoxes, gtLabels: gtLabels)
        }
    }
}
