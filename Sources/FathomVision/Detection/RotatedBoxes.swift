// Rotated boxes (cx, cy, w, h, θ), θ in radians, counter-clockwise from the x axis to the w side
// in MMRotate's (y-down image) convention: the corner offset (dx, dy) maps to
// (cx + cos θ·dx − sin θ·dy, cy + sin θ·dx + cos θ·dy). Angle conventions and their
// regularisation follow MMRotate 1.x `RotatedBoxes.regularize_boxes`.

import Foundation
import FathomTensor

/// How a rotated box's (w, h, θ) is made unique; each box has one representation per convention.
public enum AngleConvention: String, Sendable, CaseIterable {
    /// Long edge, 90: w ≥ h, θ ∈ [−π/2, π/2).
    case le90
    /// Long edge, 135: w ≥ h, θ ∈ [−π/4, 3π/4).
    case le135
    /// OpenCV: w and h unordered, θ ∈ [−π/2, 0) (MMRotate 1.x; MMRotate 0.x's `poly2obb_np_oc`
    /// used (0, π/2] instead, from OpenCV ≥ 4.5.1's minAreaRect).
    case oc

    /// The half-open range [lower, upper) that θ falls in after `regularizeRotatedBoxes`.
    public var angleRange: (lower: Double, upper: Double) {
        switch self {
        case .le90: return (-Double.pi / 2, Double.pi / 2)
        case .le135: return (-Double.pi / 4, 3 * Double.pi / 4)
        case .oc: return (-Double.pi / 2, 0)
        }
    }
}

/// Python's `a % m` for m > 0, kept strictly below m (rounding can reach m for tiny negative a).
@inline(__always)
func positiveRemainder(_ a: Double, _ m: Double) -> Double {
    var r = a - m * (a / m).rounded(.down)
    if r >= m { r -= m }
    if r < 0 { r += m; if r >= m { r = 0 } }
    return r
}

/// One box (w, h, θ) in `convention`'s unique representation (MMRotate `regularize_boxes`).
public func regularizeRotatedBox(w: Double, h: Double, theta: Double, _ convention: AngleConvention) -> (w: Double, h: Double, theta: Double) {
    let start = convention.angleRange.lower
    switch convention {
    case .le90, .le135:
        // MMRotate swaps unless w > h; keeping w == h as is makes the map idempotent for squares.
        let (w2, h2, t) = w >= h ? (w, h, theta) : (h, w, theta + Double.pi / 2)
        return (w2, h2, positiveRemainder(t - start, Double.pi) + start)
    case .oc:
        let t = positiveRemainder(theta - start, Double.pi)
        return t < Double.pi / 2 ? (w, h, t + start) : (h, w, t - Double.pi / 2 + start)
    }
}

/// `[N, 5]` rotated boxes rewritten in `convention` (centres unchanged, the same rectangles).
/// Converts between conventions too, since every input is mapped to the unique representation.
/// Not differentiable (it only relabels).
public func regularizeRotatedBoxes(_ boxes: Tensor, _ convention: AngleConvention) -> Tensor {
    requireBoxes(boxes, width: 5, op: "regularizeRotatedBoxes")
    var d = boxes.contiguous().doubles
    for i in 0..<boxes.shape[0] {
        let r = regularizeRotatedBox(w: d[5 * i + 2], h: d[5 * i + 3], theta: d[5 * i + 4], convention)
        d[5 * i + 2] = r.w; d[5 * i + 3] = r.h; d[5 * i + 4] = r.theta
    }
    return Tensor(d, shape: boxes.shape, dtype: boxes.dtype)
}

/// Whether every box of `[N, 5]` `boxes` is already in `convention`'s form.
public func isRegular(_ boxes: Tensor, _ convention: AngleConvention) -> Bool {
    requireBoxes(boxes, width: 5, op: "isRegular")
    let d = boxes.contiguous().doubles, range = convention.angleRange
    for i in 0..<boxes.shape[0] {
        let (w, h, t) = (d[5 * i + 2], d[5 * i + 3], d[5 * i + 4])
        if !(t >= range.lower && t < range.upper) { return false }
        if convention != .oc && w < h { return false }
    }
    return true
}

/// The four corners of `[N, 5]` rotated boxes, `[N, 4, 2]`, in MMRotate `obb2poly` order:
/// offsets (−w/2, −h/2), (w/2, −h/2), (w/2, h/2), (−w/2, h/2) rotated by θ. Differentiable.
public func rotatedBoxCorners(_ boxes: Tensor) -> Tensor {
    requireBoxes(boxes, width: 5, op: "rotatedBoxCorners")
    let c = boxes.unbind(axis: 1)
    let cosT = c[4].cos(), sinT = c[4].sin()
    let wx = c[2] * cosT * 0.5, wy = c[2] * sinT * 0.5     // half w side vector
    let hx = -(c[3] * sinT * 0.5), hy = c[3] * cosT * 0.5  // half h side vector
    let xs = [c[0] - wx - hx, c[0] + wx - hx, c[0] + wx + hx, c[0] - wx + hx]
    let ys = [c[1] - wy - hy, c[1] + wy - hy, c[1] + wy + hy, c[1] - wy + hy]
    let points = (0..<4).map { Tensor.stack([xs[$0], ys[$0]], axis: 1) }
    return Tensor.stack(points, axis: 1)
}

/// The smallest xyxy box enclosing each rotated box, `[N, 4]`. Differentiable.
public func rotatedBoxToXYXY(_ boxes: Tensor) -> Tensor {
    requireBoxes(boxes, width: 5, op: "rotatedBoxToXYXY")
    let c = boxes.unbind(axis: 1)
    let cosT = c[4].cos().abs(), sinT = c[4].sin().abs()
    let hw = (c[2] * cosT + c[3] * sinT) * 0.5, hh = (c[2] * sinT + c[3] * cosT) * 0.5
    return Tensor.stack([c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh], axis: 1)
}

/// The minimum-area rectangle around a point set (as `cv2.minAreaRect` and DOTA's polygon →
/// box conversion do): convex hull, then a rotating-calipers scan over hull edges. Returns
/// (cx, cy, w, h, θ) with w along the chosen hull edge, before regularisation.
func minimumAreaRectangle(_ points: [(Double, Double)]) -> (Double, Double, Double, Double, Double) {
    let hull = convexHull(points)
    if hull.count == 1 { return (hull[0].0, hull[0].1, 0, 0, 0) }
    var best = (area: Double.infinity, cx: 0.0, cy: 0.0, w: 0.0, h: 0.0, t: 0.0)
    for i in hull.indices {
        let p = hull[i], q = hull[(i + 1) % hull.count]
        let ex = q.0 - p.0, ey = q.1 - p.1, len = (ex * ex + ey * ey).squareRoot()
        if len == 0 { continue }
        let ux = ex / len, uy = ey / len
        var (lo, hi, nlo, nhi) = (Double.infinity, -Double.infinity, Double.infinity, -Double.infinity)
        for r in hull {
            let s = (r.0 - p.0) * ux + (r.1 - p.1) * uy, n = -(r.0 - p.0) * uy + (r.1 - p.1) * ux
            lo = Swift.min(lo, s); hi = Swift.max(hi, s); nlo = Swift.min(nlo, n); nhi = Swift.max(nhi, n)
        }
        let area = (hi - lo) * (nhi - nlo)
        if area < best.area {
            let sm = (lo + hi) / 2, nm = (nlo + nhi) / 2
            best = (area, p.0 + sm * ux - nm * uy, p.1 + sm * uy + nm * ux, hi - lo, nhi - nlo, atan2(uy, ux))
        }
    }
    return (best.cx, best.cy, best.w, best.h, best.t)
}

/// Andrew's monotone-chain convex hull, counter-clockwise, without collinear points.
func convexHull(_ points: [(Double, Double)]) -> [(Double, Double)] {
    let sorted = points.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    if sorted.count < 3 { return sorted.count == 2 && sorted[0] == sorted[1] ? [sorted[0]] : sorted }
    func cross(_ o: (Double, Double), _ a: (Double, Double), _ b: (Double, Double)) -> Double {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    }
    var lower: [(Double, Double)] = [], upper: [(Double, Double)] = []
    for p in sorted {
        while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], p) <= 0 { lower.removeLast() }
        lower.append(p)
    }
    for p in sorted.reversed() {
        while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], p) <= 0 { upper.removeLast() }
        upper.append(p)
    }
    let hull = Array(lower.dropLast()) + Array(upper.dropLast())
    return hull.isEmpty ? [sorted[0]] : hull
}

/// Polygons `[N, 8]` (x0, y0, …, x3, y3, as DOTA labels them) or `[N, K, 2]` point sets →
/// their minimum-area rotated boxes `[N, 5]` in `convention` (MMRotate `poly2obb` with
/// `cv2.minAreaRect`). Not differentiable.
public func rotatedBoxesFromPolygons(_ polygons: Tensor, _ convention: AngleConvention = .le90) -> Tensor {
    let op = "rotatedBoxesFromPolygons"
    guard polygons.dtype.isFloatingPoint,
          (polygons.rank == 2 && polygons.shape[1] % 2 == 0 && polygons.shape[1] >= 2)
          || (polygons.rank == 3 && polygons.shape[2] == 2) else {
        fatalError(TensorError(op: op, "polygons have shape \(boxShapeText(polygons.shape)) and dtype \(polygons.dtype); expected floating-point [N, 2K] (x0, y0, x1, y1, …) or [N, K, 2]").description)
    }
    let n = polygons.shape[0], k = polygons.count / Swift.max(n, 1) / 2
    let d = polygons.contiguous().doubles
    var out = [Double](repeating: 0, count: n * 5)
    for i in 0..<n {
        let points = (0..<k).map { (d[(i * k + $0) * 2], d[(i * k + $0) * 2 + 1]) }
        let (cx, cy, w, h, t) = minimumAreaRectangle(points)
        let r = regularizeRotatedBox(w: w, h: h, theta: t, convention)
        out.replaceSubrange(5 * i..<5 * i + 5, with: [cx, cy, r.w, r.h, r.theta])
    }
    return Tensor(out, shape: [n, 5], dtype: polygons.dtype)
}
