// Exact IoU of rotated boxes: the intersection of two rectangles is a convex polygon, found by
// clipping one rectangle against the other's four edges (Sutherland–Hodgman) and measured with
// the shoelace formula, all in float64. Coordinates are taken relative to the first box's
// centre so large offsets do not cost precision on small boxes.

import Foundation
import FathomTensor

/// Intersection area of rotated boxes `a` and `b` (each 5 doubles: cx, cy, w, h, θ), float64.
func rotatedIntersectionArea(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>) -> Double {
    let (aw, ah, bw, bh) = (a[2], a[3], b[2], b[3])
    if !(aw > 0 && ah > 0 && bw > 0 && bh > 0) { return 0 }
    let dx = b[0] - a[0], dy = b[1] - a[1]
    // Disjoint circumcircles: no overlap (cheap early exit for most pairs in a dense matrix).
    let reach = 0.5 * ((aw * aw + ah * ah).squareRoot() + (bw * bw + bh * bh).squareRoot())
    if dx * dx + dy * dy > reach * reach * (1 + 1e-12) { return 0 }
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: 72) { buffer in
        let base = buffer.baseAddress!
        let cx = base, cy = base + 4                    // clipper: a's corners, counter-clockwise
        var sx = base + 8, sy = base + 24               // subject polygon (ping)
        var tx = base + 40, ty = base + 56              // clipped result (pong)
        let ca = Foundation.cos(a[4]), sa = Foundation.sin(a[4]), cb = Foundation.cos(b[4]), sb = Foundation.sin(b[4])
        for k in 0..<4 {
            // Corner k's unit offsets: (−½, −½), (½, −½), (½, ½), (−½, ½).
            let ux = k == 1 || k == 2 ? 0.5 : -0.5, uy = k >= 2 ? 0.5 : -0.5
            let ox = ux * aw, oy = uy * ah
            cx[k] = ca * ox - sa * oy; cy[k] = sa * ox + ca * oy
            let px = ux * bw, py = uy * bh
            sx[k] = dx + cb * px - sb * py; sy[k] = dy + sb * px + cb * py
        }
        var count = 4
        for e in 0..<4 {
            let px = cx[e], py = cy[e], qx = cx[(e + 1) % 4] - px, qy = cy[(e + 1) % 4] - py
            var out = 0
            for i in 0..<count {
                let j = (i + 1) % count
                let si = qx * (sy[i] - py) - qy * (sx[i] - px)   // ≥ 0: inside (left of the edge)
                let sj = qx * (sy[j] - py) - qy * (sx[j] - px)
                if si >= 0 { tx[out] = sx[i]; ty[out] = sy[i]; out += 1 }
                if (si >= 0) != (sj >= 0) && si != sj {
                    let t = si / (si - sj)
                    tx[out] = sx[i] + t * (sx[j] - sx[i]); ty[out] = sy[i] + t * (sy[j] - sy[i]); out += 1
                }
            }
            swap(&sx, &tx); swap(&sy, &ty)
            count = out
            if count < 3 { return 0 }
        }
        var twice = 0.0
        for i in 0..<count {
            let j = (i + 1) % count
            twice += sx[i] * sy[j] - sx[j] * sy[i]
        }
        return Swift.min(Swift.max(0, 0.5 * Swift.abs(twice)), Swift.min(aw * ah, bw * bh))
    }
}

/// IoU of two rotated boxes in float64; 0 when the union is empty.
@inline(__always)
func rotatedIoUValue(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>) -> Double {
    let inter = rotatedIntersectionArea(a, b)
    let union = a[2] * a[3] + b[2] * b[3] - inter
    return union > 0 ? inter / union : 0
}

/// Pairwise exact IoU `[N, M]` of `[N, 5]` and `[M, 5]` rotated boxes (cx, cy, w, h, θ), any
/// angle convention; computed in float64, returned in `a`'s dtype. Not differentiable (the
/// Gaussian losses are the differentiable stand-ins).
public func rotatedBoxIoU(_ a: Tensor, _ b: Tensor) -> Tensor {
    requireBoxes(a, width: 5, op: "rotatedBoxIoU", name: "the first boxes")
    requireBoxes(b, width: 5, op: "rotatedBoxIoU", name: "the second boxes")
    return pairwiseBoxMatrix(a, b, width: 5, grain: 2_048) { rotatedIoUValue($0, $1) }
}

/// Elementwise exact IoU `[N]` of aligned `[N, 5]` rotated boxes (`a[i]` with `b[i]`).
public func alignedRotatedBoxIoU(_ a: Tensor, _ b: Tensor) -> Tensor {
    requireAlignedBoxes(a, b, width: 5, op: "alignedRotatedBoxIoU")
    let n = a.shape[0]
    let da = a.contiguous().doubles, db = b.contiguous().doubles
    var out = [Double](repeating: 0, count: n)
    da.withUnsafeBufferPointer { pa in
        db.withUnsafeBufferPointer { pb in
            for i in 0..<n { out[i] = rotatedIoUValue(pa.baseAddress! + 5 * i, pb.baseAddress! + 5 * i) }
        }
    }
    return Tensor(out, shape: [n], dtype: a.dtype)
}
