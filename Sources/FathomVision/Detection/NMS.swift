// Greedy non-maximum suppression for horizontal and rotated boxes, plain and class-aware.
// Order is deterministic: boxes are visited by decreasing score, equal scores by increasing
// index; a box is suppressed when its IoU with a kept box is strictly greater than the
// threshold (torchvision.ops.nms). Results are the kept indices (int64) in that visiting order.

import FathomTensor

/// Indices 0..<n sorted by decreasing score, ties by increasing index (NaN scores last).
func scoreOrder(_ scores: [Double]) -> [Int] {
    Array(scores.indices).sorted { i, j in
        let (a, b) = (scores[i], scores[j])
        if a.isNaN != b.isNaN { return b.isNaN }
        if !a.isNaN && a != b { return a > b }
        return i < j
    }
}

/// Validates boxes/scores (and classes) and returns them as float64 arrays.
func nmsInputs(_ boxes: Tensor, _ scores: Tensor, _ classes: Tensor?, width: Int, op: String) -> ([Double], [Double], [Int64]?) {
    requireBoxes(boxes, width: width, op: op)
    guard scores.rank == 1, scores.shape[0] == boxes.shape[0], scores.dtype.isFloatingPoint else {
        fatalError(TensorError(op: op, "scores have shape \(boxShapeText(scores.shape)) and dtype \(scores.dtype); expected floating-point [\(boxes.shape[0])], one per box").description)
    }
    var labels: [Int64]?
    if let classes {
        guard classes.rank == 1, classes.shape[0] == boxes.shape[0], classes.dtype == .int64 else {
            fatalError(TensorError(op: op, "classes have shape \(boxShapeText(classes.shape)) and dtype \(classes.dtype); expected int64 [\(boxes.shape[0])], one label per box").description)
        }
        labels = classes.contiguous().scalars(as: Int64.self)
    }
    return (boxes.contiguous().doubles, scores.contiguous().doubles, labels)
}

/// The greedy loop shared by every variant: `overlap(i, j)` is the IoU of boxes i and j;
/// boxes of different classes never suppress each other (the per-class form of batched NMS,
/// exact where a coordinate offset can lose precision).
func greedyNMS(count: Int, scores: [Double], classes: [Int64]?, threshold: Double,
               maxOutput: Int?, _ overlap: (Int, Int) -> Double) -> Tensor {
    let order = scoreOrder(scores)
    var suppressed = [Bool](repeating: false, count: count)
    var keep: [Int64] = []
    let limit = maxOutput ?? Int.max
    for (rank, i) in order.enumerated() where !suppressed[i] {
        keep.append(Int64(i))
        if keep.count >= limit { break }
        for j in order[(rank + 1)...] where !suppressed[j] {
            if let classes, classes[i] != classes[j] { continue }
            if overlap(i, j) > threshold { suppressed[j] = true }
        }
    }
    return Tensor(keep, shape: [keep.count])
}

/// Non-maximum suppression of `[N, 4]` xyxy boxes with `[N]` scores: the int64 indices kept,
/// by decreasing score (ties: lower index first). `maxOutput` stops after that many.
public func nms(_ boxes: Tensor, scores: Tensor, iouThreshold: Double, maxOutput: Int? = nil) -> Tensor {
    let (b, s, _) = nmsInputs(boxes, scores, nil, width: 4, op: "nms")
    return b.withUnsafeBufferPointer { p in
        greedyNMS(count: s.count, scores: s, classes: nil, threshold: iouThreshold, maxOutput: maxOutput) {
            boxOverlap(p.baseAddress! + 4 * $0, p.baseAddress! + 4 * $1, .iou)
        }
    }
}

/// Class-aware NMS (`torchvision.ops.batched_nms`): boxes only suppress boxes of the same class
/// (`classes`: int64 `[N]`). Returns kept indices by decreasing score, ties by index.
public func batchedNMS(_ boxes: Tensor, scores: Tensor, classes: Tensor, iouThreshold: Double, maxOutput: Int? = nil) -> Tensor {
    let (b, s, c) = nmsInputs(boxes, scores, classes, width: 4, op: "batchedNMS")
    return b.withUnsafeBufferPointer { p in
        greedyNMS(count: s.count, scores: s, classes: c, threshold: iouThreshold, maxOutput: maxOutput) {
            boxOverlap(p.baseAddress! + 4 * $0, p.baseAddress! + 4 * $1, .iou)
        }
    }
}

/// Non-maximum suppression of `[N, 5]` rotated boxes by exact rotated IoU
/// (`mmcv.ops.nms_rotated` semantics, deterministic order as `nms`).
public func rotatedNMS(_ boxes: Tensor, scores: Tensor, iouThreshold: Double, maxOutput: Int? = nil) -> Tensor {
    let (b, s, _) = nmsInputs(boxes, scores, nil, width: 5, op: "rotatedNMS")
    return b.withUnsafeBufferPointer { p in
        greedyNMS(count: s.count, scores: s, classes: nil, threshold: iouThreshold, maxOutput: maxOutput) {
            rotatedIoUValue(p.baseAddress! + 5 * $0, p.baseAddress! + 5 * $1)
        }
    }
}

/// Class-aware rotated NMS: rotated boxes only suppress boxes of the same class.
public func batchedRotatedNMS(_ boxes: Tensor, scores: Tensor, classes: Tensor, iouThreshold: Double, maxOutput: Int? = nil) -> Tensor {
    let (b, s, c) = nmsInputs(boxes, scores, classes, width: 5, op: "batchedRotatedNMS")
    return b.withUnsafeBufferPointer { p in
        greedyNMS(count: s.count, scores: s, classes: c, threshold: iouThreshold, maxOutput: maxOutput) {
            rotatedIoUValue(p.baseAddress! + 5 * $0, p.baseAddress! + 5 * $1)
        }
    }
}
