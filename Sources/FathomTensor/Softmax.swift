// softmax and logSoftmax along an axis: fused, numerically stable kernels (the maximum is
// subtracted before exponentiating) with gradients written in tensor ops.

import RealModule

/// The one place the softmax family exponentiates: `values[i] = exp(values[i])`.
@inline(__always)
func exponentiateInPlace<T: FloatScalar>(_ values: UnsafeMutablePointer<T>, count: Int) {
    if T.self == Float.self {
        // The vectorized float32 exp (VectorMath) is ~8x faster than libm per element.
        let p = UnsafeMutableRawPointer(values).assumingMemoryBound(to: Float.self)
        VectorMath.exp(p, 1, p, count)
    } else {
        for i in 0..<count { values[i] = T.exp(values[i]) }
    }
}

extension Tensor {
    /// `exp(x) / sum(exp(x))` along `axis`, computed stably.
    ///
    /// Gradient: `y * (g - sum(g * y))`, differentiable again.
    public func softmax(axis: Int = -1) -> Tensor {
        let a = normalizeAxis(axis, rank: Swift.max(rank, 1), op: "softmax")
        let out = softmaxKernel(axis: a, log: false)
        if needsGrad(self) {
            out.recorded("softmax", [self]) { g, y in
                if !GradMode.isEnabled, let fused = softmaxBackwardFused(g, y, axis: a, log: false) { return [fused] }
                return [y * (g - (g * y).sum(axis: a, keepDims: true))]
            }
        }
        return out
    }

    /// `x - logsumexp(x)` along `axis`, computed stably (better than `log(softmax(x))`).
    ///
    /// Gradient: `g - softmax(x) * sum(g)`, differentiable again.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = normalizeAxis(axis, rank: Swift.max(rank, 1), op: "logSoftmax")
        let out = softmaxKernel(axis: a, log: true)
        if needsGrad(self) {
            out.recorded("logSoftmax", [self]) { g, y in
                if !GradMode.isEnabled, let fused = softmaxBackwardFused(g, y, axis: a, log: true) { return [fused] }
                return [g - self.softmax(axis: a) * g.sum(axis: a, keepDims: true)]
            }
        }
        return out
    }

    /// Softmax over several axes at once (as if they were flattened into one); used by the
    /// gradient of `logsumexp`. Differentiable.
    func softmax(axes: [Int]) -> Tensor {
        if axes.isEmpty { return Tensor.ones(shape, dtype: dtype) }
        if axes.count == 1 { return softmax(axis: axes[0]) }
        let kept = (0..<rank).filter { !axes.contains($0) }
        let order = kept + axes
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        let moved = permuted(order)
        let flat = moved.reshaped(kept.map { shape[$0] } + [axes.reduce(1) { $0 * shape[$1] }])
        return flat.softmax(axis: -1).reshaped(moved.shape).permuted(inverse)
    }

    /// The forward pass of softmax / logSoftmax along `axis` (already normalized).
    private func softmaxKernel(axis: Int, log: Bool) -> Tensor {
        let op = log ? "logSoftmax" : "softmax"
        guard dtype.isFloatingPoint else { unsupportedDType(dtype, op: op) }
        let source = contiguous().detach()
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        guard rank > 0 else {
            // One element: softmax is 1, logSoftmax 0 (NaN stays NaN).
            let value = source.item()
            return Tensor.scalar(value.isNaN ? .nan : (log ? 0 : 1), dtype: dtype)
        }
        let n = shape[axis]
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        switch dtype {
        case .float32: softmaxRows(source.pointer(as: Float.self), out.pointer(as: Float.self), outer: outer, n: n, inner: inner, log: log)
        case .float64: softmaxRows(source.pointer(as: Double.self), out.pointer(as: Double.self), outer: outer, n: n, inner: inner, log: log)
        default: unsupportedDType(dtype, op: op)
        }
        return out
    }
}

/// Elements of shifted rows `logSumExpAlong` exponentiates per call.
let logSumExpBatch = 2_048

extension Tensor {
    /// log(sum(exp(x))) along one axis, fused (not recorded): the result keeps the axis as
    /// size 1. An infinite maximum is not subtracted, as in PyTorch.
    func logSumExpAlong(axis: Int) -> Tensor {
        let source = contiguous().detach()
        let n = rank == 0 ? 1 : shape[axis]
        let outer = rank == 0 ? 1 : shape[..<axis].reduce(1, *), inner = rank == 0 ? 1 : shape[(axis + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: reducedShape(shape, axes: rank == 0 ? [] : [axis], keepDims: true), dtype: dtype)
        func kernel<T: FloatScalar>(_: T.Type) {
            let x = UnsafePointer(source.pointer(as: T.self)), y = out.pointer(as: T.self)
            guard outer * inner > 0 else { return }
            if n == 0 { return y.initialize(repeating: -T.infinity, count: outer * inner) }
            let chunk = inner == 1 ? 1 : 256
            let chunks = (inner + chunk - 1) / chunk
            ThreadPool.shared.parallelFor(outer * chunks, grain: Swift.max(1, ThreadPool.minParallelElements / (n * Swift.min(inner, chunk)))) { range in
                let width = Swift.min(inner, chunk)
                // Rows of a chunk exponentiated per call (one vector-exp call per short row is slow).
                let batchRows = Swift.max(1, Swift.min(n, logSumExpBatch / width))
                let scratch = UnsafeMutablePointer<T>.allocate(capacity: inner == 1 ? n : width * batchRows)
                let shift = UnsafeMutablePointer<T>.allocate(capacity: width), sums = UnsafeMutablePointer<T>.allocate(capacity: width)
                defer { scratch.deallocate(); shift.deallocate(); sums.deallocate() }
                for item in range {
                    let o = item / chunks, c0 = (item % chunks) * chunk, w = Swift.min(chunk, inner - c0)
                    let xb = x + o * n * inner + c0
                    if inner == 1 {
                        let m = blockedFold(xb, stride: 1, count: n, identity: -T.infinity,
                                            reducer: ExtremumReducer<T>(largest: true))
                        let c = m.isInfinite ? 0 : m
                        for i in 0..<n { scratch[i] = xb[i] - c }
                        exponentiateInPlace(scratch, count: n)
                        y[o] = T.log(blockedSum(UnsafePointer(scratch), stride: 1, count: n)) + c
                        continue
                    }
                    shift.initialize(repeating: -T.infinity, count: w)
                    sums.initialize(repeating: 0, count: w)
                    for r in 0..<n {
                        let xr = xb + r * inner
                        for j in 0..<w { shift[j] = xr[j].isNaN ? xr[j] : (xr[j] > shift[j] ? xr[j] : shift[j]) }
                    }
                    for j in 0..<w where shift[j].isInfinite { shift[j] = 0 }
                    var r0 = 0
                    while r0 < n {
                        let k = Swift.min(batchRows, n - r0)
                        for t in 0..<k {
                            let xr = xb + (r0 + t) * inner, sr = scratch + t * w
                            for j in 0..<w { sr[j] = xr[j] - shift[j] }
                        }
                        exponentiateInPlace(scratch, count: k * w)
                        for t in 0..<k {
                            let sr = scratch + t * w
                            for j in 0..<w { sums[j] += sr[j] }
                        }
                        r0 += k
                    }
                    let yb = y + o * inner + c0
                    for j in 0..<w { yb[j] = T.log(sums[j]) + shift[j] }
                }
            }
        }
        switch dtype {
        case .float32: kernel(Float.self)
        case .float64: kernel(Double.self)
        default: unsupportedDType(dtype, op: "logsumexp")
        }
        return out
    }
}

/// The first-order gradient of softmax / logSoftmax along the last axis in one pass per
/// row, used when the backward pass is not itself recorded (then nothing needs the graph
/// of the tensor-op formula). `y` is the op's output. Returns nil for other layouts.
private func softmaxBackwardFused(_ g: Tensor, _ y: Tensor, axis: Int, log: Bool) -> Tensor? {
    guard y.rank > 0, y.isContiguous, g.dtype == y.dtype, g.shape == y.shape else { return nil }
    let gc = g.contiguous()
    let n = y.shape[axis], rows = y.count / Swift.max(n, 1)
    let inner = y.shape[(axis + 1)...].reduce(1, *)
    let out = Tensor(uninitializedShape: y.shape, dtype: y.dtype)
    guard y.count > 0 else { return out }
    func kernel<T: FloatScalar>(_: T.Type) {
        let pg = UnsafePointer(gc.pointer(as: T.self)), py = UnsafePointer(y.pointer(as: T.self))
        let po = out.pointer(as: T.self)
        if inner > 1 {
            softmaxBackwardColumns(pg, py, po, outer: rows / inner, n: n, inner: inner, log: log)
            return
        }
        ThreadPool.shared.parallelFor(rows, grain: Swift.max(1, ThreadPool.minParallelElements / n)) { range in
            for row in range {
                let gr = pg + row * n, yr = py + row * n, o = po + row * n
                if log {
                    // g - softmax * sum(g), softmax = exp(logSoftmax).
                    let total = blockedSum(gr, stride: 1, count: n)
                    for i in 0..<n { o[i] = yr[i] }
                    exponentiateInPlace(o, count: n)
                    for i in 0..<n { o[i] = gr[i] - o[i] * total }
                } else {
                    // y * (g - sum(g * y)).
                    for i in 0..<n { o[i] = gr[i] * yr[i] }
                    let dot = blockedSum(UnsafePointer(o), stride: 1, count: n)
                    for i in 0..<n { o[i] = yr[i] * (gr[i] - dot) }
                }
            }
        }
    }
    switch y.dtype {
    case .float32: kernel(Float.self)
    case .float64: kernel(Double.self)
    default: return nil
    }
    return out
}

/// `softmaxBackwardFused` along the middle axis of contiguous `[outer, n, inner]` blocks:
/// the sums over the axis run down columns (chunks of up to 256, vectorized across them),
/// row by row in order, so the result does not depend on the thread count.
private func softmaxBackwardColumns<T: FloatScalar>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                                                    outer: Int, n: Int, inner: Int, log: Bool) {
    let chunk = 256
    let chunks = (inner + chunk - 1) / chunk
    ThreadPool.shared.parallelFor(outer * chunks, grain: Swift.max(1, ThreadPool.minParallelElements / (n * Swift.min(inner, chunk)))) { range in
        let acc = UnsafeMutablePointer<T>.allocate(capacity: chunk)
        defer { acc.deallocate() }
        for item in range {
            let o = item / chunks, c0 = (item % chunks) * chunk, w = Swift.min(chunk, inner - c0)
            let base = o * n * inner + c0
            let gb = g + base, yb = y + base, ob = out + base
            acc.initialize(repeating: 0, count: w)
            if log {
                // g - softmax * sum(g), softmax = exp(logSoftmax).
                for r in 0..<n {
                    let gr = gb + r * inner
                    for j in 0..<w { acc[j] += gr[j] }
                }
                for r in 0..<n {
                    let yr = yb + r * inner, orow = ob + r * inner
                    for j in 0..<w { orow[j] = yr[j] }
                    if w != inner { exponentiateInPlace(orow, count: w) }
                }
                if w == inner { exponentiateInPlace(ob, count: n * inner) }
                for r in 0..<n {
                    let gr = gb + r * inner, orow = ob + r * inner
                    for j in 0..<w { orow[j] = gr[j] - orow[j] * acc[j] }
                }
            } else {
                // y * (g - sum(g * y)).
                for r in 0..<n {
                    let gr = gb + r * inner, yr = yb + r * inner
                    for j in 0..<w { acc[j] += gr[j] * yr[j] }
                }
                for r in 0..<n {
                    let gr = gb + r * inner, yr = yb + r * inner, orow = ob + r * inner
                    for j in 0..<w { orow[j] = yr[j] * (gr[j] - acc[j]) }
                }
            }
        }
    }
}

/// Softmax of a contiguous `[outer, n, inner]` block along the middle axis.
/// Rows (inner == 1) run as three passes over each row: max, exp and sum, scale. With
/// inner > 1 the same passes run over chunks of columns, vectorized across the columns.
private func softmaxRows<T: FloatScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>,
                                         outer: Int, n: Int, inner: Int, log: Bool) {
    guard outer * n * inner > 0 else { return }
    if inner == 1 {
        ThreadPool.shared.parallelFor(outer, grain: Swift.max(1, ThreadPool.minParallelElements / n)) { range in
            for row in range {
                let xr = UnsafePointer(x + row * n), yr = y + row * n
                let m = blockedFold(xr, stride: 1, count: n, identity: -T.infinity,
                                    reducer: ExtremumReducer<T>(largest: true))
                for i in 0..<n { yr[i] = xr[i] - m }
                exponentiateInPlace(yr, count: n)
                let s = blockedSum(UnsafePointer(yr), stride: 1, count: n)
                if log {
                    // (x - max) - log(sum): subtracting the large max first keeps precision.
                    let logSum = T.log(s)
                    for i in 0..<n { yr[i] = (xr[i] - m) - logSum }
                } else {
                    let scale = 1 / s
                    for i in 0..<n { yr[i] *= scale }
                }
            }
        }
        return
    }
    let chunk = 256
    let chunks = (inner + chunk - 1) / chunk
    ThreadPool.shared.parallelFor(outer * chunks, grain: Swift.max(1, ThreadPool.minParallelElements / (n * Swift.min(inner, chunk)))) { range in
        let m = UnsafeMutablePointer<T>.allocate(capacity: chunk), s = UnsafeMutablePointer<T>.allocate(capacity: chunk)
        defer { m.deallocate(); s.deallocate() }
        for item in range {
            let o = item / chunks, c0 = (item % chunks) * chunk, w = Swift.min(chunk, inner - c0)
            let xb = x + o * n * inner + c0, yb = y + o * n * inner + c0
            m.initialize(repeating: -T.infinity, count: w)
            s.initialize(repeating: 0, count: w)
            for r in 0..<n {
                let xr = xb + r * inner
                for j in 0..<w { m[j] = xr[j].isNaN ? xr[j] : (xr[j] > m[j] ? xr[j] : m[j]) }
            }
            for r in 0..<n {
                let xr = xb + r * inner, yr = yb + r * inner
                for j in 0..<w { yr[j] = xr[j] - m[j] }
                if w != inner { exponentiateInPlace(yr, count: w) }
            }
            // A chunk spanning all of `inner` is one contiguous block: one exp call for it.
            if w == inner { exponentiateInPlace(yb, count: n * inner) }
            for r in 0..<n {
                let yr = yb + r * inner
                for j in 0..<w { s[j] += yr[j] }
            }
            if log {
                for j in 0..<w { s[j] = T.log(s[j]) }
                for r in 0..<n {
                    let xr = xb + r * inner, yr = yb + r * inner
                    for j in 0..<w { yr[j] = (xr[j] - m[j]) - s[j] }
                }
            } else {
                for j in 0..<w { s[j] = 1 / s[j] }
                for r in 0..<n {
                    let yr = yb + r * inner
                    for j in 0..<w { yr[j] *= s[j] }
                }
            }
        }
    }
}
