// Horizontal boxes: xyxy ↔ cxcywh, areas, and the IoU family (IoU, GIoU, DIoU, CIoU) both as
// fast float64 pairwise matrices and as differentiable elementwise tensor ops for losses.
// Formulas follow torchvision.ops (box_iou, generalized_box_iou, distance_box_iou,
// complete_box_iou and their *_loss twins, eps = 1e-7).

import Foundation
import FathomTensor

/// Which member of the IoU family a box-overlap function computes.
public enum BoxIoUKind: String, Sendable, CaseIterable {
    /// Intersection over union.
    case iou
    /// Generalized IoU (Rezatofighi et al. 2019): IoU − (C − U) / C, C the enclosing box's area.
    case giou
    /// Distance IoU (Zheng et al. 2020): IoU − ρ² / c², ρ the centre distance, c the enclosing diagonal.
    case diou
    /// Complete IoU (Zheng et al. 2020): DIoU − α·v, v = 4/π²·(atan(w_t/h_t) − atan(w/h))²,
    /// α = v / (1 − IoU + v) (treated as a constant in the differentiable form, as torchvision does).
    case ciou
}

/// Stops with a message unless `boxes` is a floating-point `[N, width]` tensor.
func requireBoxes(_ boxes: Tensor, width: Int, op: String, name: String = "boxes") {
    guard boxes.dtype.isFloatingPoint else {
        fatalError(TensorError(op: op, "\(name) must be float32 or float64, got \(boxes.dtype); convert with .to(.float32)").description)
    }
    guard boxes.rank == 2, boxes.shape[1] == width else {
        let layout = width == 4 ? "(x1, y1, x2, y2)" : "(cx, cy, w, h, θ)"
        fatalError(TensorError(op: op, "\(name) has shape \(boxShapeText(boxes.shape)); expected [N, \(width)] with rows \(layout)").description)
    }
}

/// Stops unless `a` and `b` are boxes of the same shape (elementwise ops).
func requireAlignedBoxes(_ a: Tensor, _ b: Tensor, width: Int, op: String) {
    requireBoxes(a, width: width, op: op, name: "the first boxes")
    requireBoxes(b, width: width, op: op, name: "the second boxes")
    guard a.shape == b.shape else {
        fatalError(TensorError(op: op, "the boxes have shapes \(boxShapeText(a.shape)) and \(boxShapeText(b.shape)); elementwise box ops need equal shapes (use the pairwise form for [N, M] matrices)").description)
    }
}

func boxShapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// `[N, 4]` corner boxes (x1, y1, x2, y2) → centre boxes (cx, cy, w, h). Differentiable.
public func xyxyToCXCYWH(_ boxes: Tensor) -> Tensor {
    requireBoxes(boxes, width: 4, op: "xyxyToCXCYWH")
    let c = boxes.unbind(axis: 1)
    return Tensor.stack([(c[0] + c[2]) * 0.5, (c[1] + c[3]) * 0.5, c[2] - c[0], c[3] - c[1]], axis: 1)
}

/// `[N, 4]` centre boxes (cx, cy, w, h) → corner boxes (x1, y1, x2, y2). Differentiable.
public func cxcywhToXYXY(_ boxes: Tensor) -> Tensor {
    requireBoxes(boxes, width: 4, op: "cxcywhToXYXY")
    let c = boxes.unbind(axis: 1)
    let hw = c[2] * 0.5, hh = c[3] * 0.5
    return Tensor.stack([c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh], axis: 1)
}

/// Areas `(x2 − x1)·(y2 − y1)` of `[N, 4]` xyxy boxes, `[N]`. Differentiable.
public func boxArea(_ boxes: Tensor) -> Tensor {
    requireBoxes(boxes, width: 4, op: "boxArea")
    let c = boxes.unbind(axis: 1)
    return (c[2] - c[0]) * (c[3] - c[1])
}

/// The IoU-family value of one pair of xyxy boxes, in float64 (the matrix kernels' core).
@inline(__always)
func boxOverlap(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ kind: BoxIoUKind) -> Double {
    let eps = 1e-7
    let areaA = (a[2] - a[0]) * (a[3] - a[1]), areaB = (b[2] - b[0]) * (b[3] - b[1])
    let iw = Swift.max(0, Swift.min(a[2], b[2]) - Swift.max(a[0], b[0]))
    let ih = Swift.max(0, Swift.min(a[3], b[3]) - Swift.max(a[1], b[1]))
    let inter = iw * ih, union = areaA + areaB - inter
    let iou = union > 0 ? inter / union : 0
    if kind == .iou { return iou }
    let cw = Swift.max(a[2], b[2]) - Swift.min(a[0], b[0]), ch = Swift.max(a[3], b[3]) - Swift.min(a[1], b[1])
    if kind == .giou {
        let enclosing = cw * ch
        return enclosing > 0 ? iou - (enclosing - union) / enclosing : iou
    }
    let dx = (a[0] + a[2] - b[0] - b[2]) * 0.5, dy = (a[1] + a[3] - b[1] - b[3]) * 0.5
    let diou = iou - (dx * dx + dy * dy) / (cw * cw + ch * ch + eps)
    if kind == .diou { return diou }
    let v = 4 / (Double.pi * Double.pi) * pow(atan((b[2] - b[0]) / (b[3] - b[1])) - atan((a[2] - a[0]) / (a[3] - a[1])), 2)
    let alpha = v / (1 - iou + v + eps)
    return diou - alpha * v
}

/// Pairwise IoU-family matrix `[N, M]` between `[N, 4]` and `[M, 4]` xyxy boxes, computed in
/// float64 and returned in `a`'s dtype. Not differentiable (use `alignedBoxIoU` in losses).
/// A pair with zero union has IoU 0.
public func pairwiseBoxIoU(_ a: Tensor, _ b: Tensor, kind: BoxIoUKind = .iou) -> Tensor {
    requireBoxes(a, width: 4, op: "pairwiseBoxIoU", name: "the first boxes")
    requireBoxes(b, width: 4, op: "pairwiseBoxIoU", name: "the second boxes")
    return pairwiseBoxMatrix(a, b, width: 4, grain: 16_384) { boxOverlap($0, $1, kind) }
}

/// The `[N, M]` matrix of `value(a_i, b_j)` over rows of `width` box parameters, computed in
/// float64 on the pool and returned in `a`'s dtype; `grain` is the pairs per parallel chunk.
/// Entries are independent, so the thread split never changes a bit.
func pairwiseBoxMatrix(_ a: Tensor, _ b: Tensor, width: Int, grain: Int,
                       _ value: (UnsafePointer<Double>, UnsafePointer<Double>) -> Double) -> Tensor {
    let n = a.shape[0], m = b.shape[0]
    let da = a.contiguous().doubles, db = b.contiguous().doubles
    var out = [Double](repeating: 0, count: n * m)
    da.withUnsafeBufferPointer { pa in
        db.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { po in
                let (pa, pb, po) = (pa.baseAddress!, pb.baseAddress!, po.baseAddress!)
                ThreadPool.shared.parallelFor(n, grain: Swift.max(1, grain / Swift.max(m, 1))) { rows in
                    for i in rows {
                        for j in 0..<m { po[i * m + j] = value(pa + width * i, pb + width * j) }
                    }
                }
            }
        }
    }
    return Tensor(out, shape: [n, m], dtype: a.dtype)
}

/// Pairwise IoU `[N, M]` of xyxy boxes (`torchvision.ops.box_iou`).
public func boxIoU(_ a: Tensor, _ b: Tensor) -> Tensor { pairwiseBoxIoU(a, b, kind: .iou) }

/// Pairwise generalized IoU `[N, M]` of xyxy boxes (`torchvision.ops.generalized_box_iou`).
public func generalizedBoxIoU(_ a: Tensor, _ b: Tensor) -> Tensor { pairwiseBoxIoU(a, b, kind: .giou) }

/// CIoU's aspect-ratio term v = 4/π²·(atan(w_t/h_t) − atan(w_p/h_p))² from unbound box columns.
func ciouAspectTerm(_ p: [Tensor], _ g: [Tensor]) -> Tensor {
    (((g[2] - g[0]) / (g[3] - g[1])).atan() - ((p[2] - p[0]) / (p[3] - p[1])).atan()).square()
        * (4 / (Double.pi * Double.pi))
}

/// Elementwise IoU-family value of aligned `[N, 4]` xyxy boxes (`pred[i]` with `target[i]`), `[N]`,
/// written in differentiable tensor ops (the same formulas as torchvision's box losses, with
/// `eps` guarding the divisions). For `.ciou`, α is detached as torchvision does.
public func alignedBoxIoU(_ pred: Tensor, _ target: Tensor, kind: BoxIoUKind = .iou, eps: Double = 1e-7) -> Tensor {
    requireAlignedBoxes(pred, target, width: 4, op: "alignedBoxIoU")
    let t = target.dtype == pred.dtype ? target : target.to(pred.dtype)
    let p = pred.unbind(axis: 1), g = t.unbind(axis: 1)
    let iw = (minimum(p[2], g[2]) - maximum(p[0], g[0])).clamp(min: 0)
    let ih = (minimum(p[3], g[3]) - maximum(p[1], g[1])).clamp(min: 0)
    let inter = iw * ih
    let union = (p[2] - p[0]) * (p[3] - p[1]) + (g[2] - g[0]) * (g[3] - g[1]) - inter
    let iou = inter / (union + eps)
    if kind == .iou { return iou }
    let cw = maximum(p[2], g[2]) - minimum(p[0], g[0]), ch = maximum(p[3], g[3]) - minimum(p[1], g[1])
    if kind == .giou {
        let enclosing = cw * ch
        return iou - (enclosing - union) / (enclosing + eps)
    }
    let dx = (p[0] + p[2] - g[0] - g[2]) * 0.5, dy = (p[1] + p[3] - g[1] - g[3]) * 0.5
    let diou = iou - (dx.square() + dy.square()) / (cw.square() + ch.square() + eps)
    if kind == .diou { return diou }
    let v = ciouAspectTerm(p, g)
    let alpha = (v / (1 - iou + v + eps)).detach()
    return diou - alpha * v
}
