// The fused kernels behind batchNorm, layerNorm and groupNorm (Normalization.swift).
//
// Statistics are sums in float64 of x − k, where the shift k is the first element of the
// group being normalized: the variance (Σd² − (Σd)²/M)/M then loses nothing to
// cancellation even when the mean is far from zero, in one pass over the data. Every
// group is summed by one thread in a fixed order, so results do not depend on the number
// of threads. Layouts: a contiguous input is seen as `planes` runs of `size` elements (an
// image channel of one sample for batch norm, a row for layer norm); a per-plane
// coefficient is looked up as `plane % coefficients` (per channel for batch norm, per
// sample and channel for group norm).

/// Σ(x − k) and Σ(x − k)² over `count` contiguous elements, in float64.
@inline(__always)
func shiftedMoments<T: FloatScalar>(_ x: UnsafePointer<T>, count: Int, shift k: Double) -> (Double, Double) {
    var s1 = SIMD8<Double>(), s2 = SIMD8<Double>()
    let kv = SIMD8<Double>(repeating: k)
    var i = 0
    while i + 8 <= count {
        let d = SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<T>.self)) - kv
        s1 += d
        s2 += d * d
        i += 8
    }
    var t1 = 0.0, t2 = 0.0
    while i < count {
        let d = Double(x[i]) - k
        t1 += d
        t2 += d * d
        i += 1
    }
    return (s1.sum() + t1, s2.sum() + t2)
}

/// Σg and Σg·(x − m) over `count` contiguous elements, in float64.
@inline(__always)
func centeredGradientSums<T: FloatScalar>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>, count: Int,
                                          center m: Double) -> (Double, Double) {
    var s1 = SIMD8<Double>(), s2 = SIMD8<Double>()
    let mv = SIMD8<Double>(repeating: m)
    var i = 0
    while i + 8 <= count {
        let gv = SIMD8<Double>(UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<T>.self))
        let xv = SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<T>.self))
        s1 += gv
        s2 += gv * (xv - mv)
        i += 8
    }
    var t1 = 0.0, t2 = 0.0
    while i < count {
        let gi = Double(g[i])
        t1 += gi
        t2 += gi * (Double(x[i]) - m)
        i += 1
    }
    return (s1.sum() + t1, s2.sum() + t2)
}

/// Mean and biased variance from shifted sums over `m` elements.
@inline(__always)
func momentsFromShiftedSums(_ s1: Double, _ s2: Double, shift: Double, count m: Int) -> (mean: Double, variance: Double) {
    let n = Double(m)
    return (shift + s1 / n, Swift.max(0, (s2 - s1 * s1 / n) / n))
}

/// Per-plane sums over `x` seen as `[planes, size]`: with `g == nil`, Σ(x − c) and
/// Σ(x − c)²; otherwise Σg and Σg·(x − c). The center of plane p is
/// `centers[(p / divisor) % centers.count]`. Parallel over planes.
func planeSums<T: FloatScalar>(_ x: UnsafePointer<T>, gradient g: UnsafePointer<T>?, planes: Int, size: Int,
                               centers: [Double], divisor: Int) -> (first: [Double], second: [Double]) {
    var first = [Double](repeating: 0, count: planes), second = [Double](repeating: 0, count: planes)
    first.withUnsafeMutableBufferPointer { f in
        second.withUnsafeMutableBufferPointer { s in
            centers.withUnsafeBufferPointer { c in
                let fp = f.baseAddress!, sp = s.baseAddress!, cp = c.baseAddress!, k = c.count
                ThreadPool.shared.parallelFor(planes, grain: Swift.max(1, ThreadPool.minParallelElements / Swift.max(size, 1))) { range in
                    for p in range {
                        let center = cp[(p / divisor) % k]
                        let (a, b) = g.map { centeredGradientSums($0 + p * size, x + p * size, count: size, center: center) }
                            ?? shiftedMoments(x + p * size, count: size, shift: center)
                        fp[p] = a
                        sp[p] = b
                    }
                }
            }
        }
    }
    return (first, second)
}

/// Per-column sums over `x` seen as `[rows, columns]` (batch norm of `[N, C]`): the same
/// two sums as `planeSums`, with column c centered on `centers[c]`. Parallel over fixed
/// chunks of columns; each column is summed over the rows in order.
func columnSums<T: FloatScalar>(_ x: UnsafePointer<T>, gradient g: UnsafePointer<T>?, rows: Int, columns: Int,
                                centers: [Double]) -> (first: [Double], second: [Double]) {
    var first = [Double](repeating: 0, count: columns), second = [Double](repeating: 0, count: columns)
    let chunk = 64
    let chunks = (columns + chunk - 1) / chunk
    first.withUnsafeMutableBufferPointer { f in
        second.withUnsafeMutableBufferPointer { s in
            centers.withUnsafeBufferPointer { c in
                let fp = f.baseAddress!, sp = s.baseAddress!, cp = c.baseAddress!
                ThreadPool.shared.parallelFor(chunks, grain: Swift.max(1, ThreadPool.minParallelElements / Swift.max(1, rows * chunk))) { range in
                    for item in range {
                        let c0 = item * chunk, w = Swift.min(chunk, columns - c0)
                        let a = fp + c0, b = sp + c0, cc = cp + c0
                        for r in 0..<rows {
                            let xr = x + r * columns + c0
                            if let g {
                                let gr = g + r * columns + c0
                                for j in 0..<w {
                                    let gj = Double(gr[j])
                                    a[j] += gj
                                    b[j] += gj * (Double(xr[j]) - cc[j])
                                }
                            } else {
                                for j in 0..<w {
                                    let d = Double(xr[j]) - cc[j]
                                    a[j] += d
                                    b[j] += d * d
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (first, second)
}

/// `y = (x − m)·a + b` over `x` seen as `[planes, size]`, the coefficients of plane p
/// at index `p % m.count`. With `size == 1` the planes are laid out as rows of
/// `m.count` elements and the loop runs along a row (vectorizes).
///
/// The mean is subtracted as two parts, `T(m)` and the remainder `m − T(m)`: x − T(m) is
/// exact when x is near the mean, so float32 keeps its precision even when the mean is
/// large next to the spread (a rounded float32 mean alone would cost ~|m|·2⁻²⁴).
func planeAffine<T: FloatScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, planes: Int, size: Int,
                                 m: [Double], a: [Double], b: [Double]) {
    let k = m.count
    let mt = m.map { T($0) }, ml = m.map { T($0 - Double(T($0))) }, at = a.map { T($0) }, bt = b.map { T($0) }
    mt.withUnsafeBufferPointer { mb in ml.withUnsafeBufferPointer { lb in at.withUnsafeBufferPointer { ab in bt.withUnsafeBufferPointer { bb in
        let mp = mb.baseAddress!, lp = lb.baseAddress!, ap = ab.baseAddress!, bp = bb.baseAddress!
        if size == 1 {
            ThreadPool.shared.parallelFor(planes / k, grain: Swift.max(1, ThreadPool.minParallelElements / k)) { range in
                for row in range {
                    let xr = x + row * k, yr = y + row * k
                    for j in 0..<k { yr[j] = ((xr[j] - mp[j]) - lp[j]) * ap[j] + bp[j] }
                }
            }
            return
        }
        ThreadPool.shared.parallelFor(planes, grain: Swift.max(1, ThreadPool.minParallelElements / size)) { range in
            for p in range {
                let c = p % k, mc = mp[c], lc = lp[c], ac = ap[c], bc = bp[c]
                let xp = x + p * size, yp = y + p * size
                for i in 0..<size { yp[i] = ((xp[i] - mc) - lc) * ac + bc }
            }
        }
    } } } }
}

/// `dx = A·g + B·(x − m) + C` over `[planes, size]`, coefficients indexed as in `planeAffine`.
func planeBackward<T: FloatScalar>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
                                   planes: Int, size: Int, A: [Double], B: [Double], m: [Double], C: [Double]) {
    let k = m.count
    // The mean in two parts, as in planeAffine.
    let At = A.map { T($0) }, Bt = B.map { T($0) }, mt = m.map { T($0) }, Ct = C.map { T($0) }
    let ml = m.map { T($0 - Double(T($0))) }
    At.withUnsafeBufferPointer { Ab in Bt.withUnsafeBufferPointer { Bb in ml.withUnsafeBufferPointer { lb in
    mt.withUnsafeBufferPointer { mb in Ct.withUnsafeBufferPointer { Cb in
        let ap = Ab.baseAddress!, bp = Bb.baseAddress!, mp = mb.baseAddress!, lp = lb.baseAddress!, cp = Cb.baseAddress!
        if size == 1 {
            ThreadPool.shared.parallelFor(planes / k, grain: Swift.max(1, ThreadPool.minParallelElements / k)) { range in
                for row in range {
                    let gr = g + row * k, xr = x + row * k, o = dx + row * k
                    for j in 0..<k { o[j] = ap[j] * gr[j] + bp[j] * ((xr[j] - mp[j]) - lp[j]) + cp[j] }
                }
            }
            return
        }
        ThreadPool.shared.parallelFor(planes, grain: Swift.max(1, ThreadPool.minParallelElements / size)) { range in
            for p in range {
                let c = p % k, ac = ap[c], bc = bp[c], mc = mp[c], lc = lp[c], cc = cp[c]
                let gp = g + p * size, xp = x + p * size, o = dx + p * size
                for i in 0..<size { o[i] = ac * gp[i] + bc * ((xp[i] - mc) - lc) + cc }
            }
        }
    } } } } }
}

// MARK: layer norm rows

/// Layer norm of `x` seen as `[rows, n]`: per row, the moments and then
/// `y = (x − mean)·invstd·w + b` while the row is in cache. Returns mean and invstd per row.
func layerNormRows<T: FloatScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, rows: Int, n: Int,
                                   weight: UnsafePointer<T>?, bias: UnsafePointer<T>?,
                                   eps: Double) -> (mean: [Double], invstd: [Double]) {
    var mean = [Double](repeating: 0, count: rows), invstd = [Double](repeating: 0, count: rows)
    mean.withUnsafeMutableBufferPointer { mb in invstd.withUnsafeMutableBufferPointer { ib in
        let mp = mb.baseAddress!, ip = ib.baseAddress!
        ThreadPool.shared.parallelFor(rows, grain: Swift.max(1, ThreadPool.minParallelElements / n)) { range in
            for r in range {
                let xr = x + r * n, yr = y + r * n
                let shift = Double(xr[0])
                let (s1, s2) = shiftedMoments(xr, count: n, shift: shift)
                let (mu, variance) = momentsFromShiftedSums(s1, s2, shift: shift, count: n)
                let inv = 1 / (variance + eps).squareRoot()
                mp[r] = mu
                ip[r] = inv
                // The mean in two parts, as in planeAffine.
                let m = T(mu), ml = T(mu - Double(m)), s = T(inv)
                switch (weight, bias) {
                case let (w?, b?): for j in 0..<n { yr[j] = ((xr[j] - m) - ml) * s * w[j] + b[j] }
                case let (w?, nil): for j in 0..<n { yr[j] = ((xr[j] - m) - ml) * s * w[j] }
                case let (nil, b?): for j in 0..<n { yr[j] = ((xr[j] - m) - ml) * s + b[j] }
                case (nil, nil): for j in 0..<n { yr[j] = ((xr[j] - m) - ml) * s }
                }
            }
        }
    } }
    return (mean, invstd)
}

/// The first-order layer-norm backward over `[rows, n]`, one pass per row (two reads of a
/// row that is in cache): dx = invstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w. With
/// `weightGrads`, also Σ g·x̂ and Σ g over the rows (the weight's and bias's gradients),
/// accumulated per fixed block of rows and combined in block order.
func layerNormBackwardRows<T: FloatScalar>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>?,
                                           rows: Int, n: Int, weight: UnsafePointer<T>?,
                                           mean: [Double], invstd: [Double],
                                           weightGrads: Bool) -> (weight: [Double], bias: [Double]) {
    // Blocks depend on the sizes only: at most 64 of them, each at least one grain of work.
    let rowsPerBlock = Swift.max(Swift.max(1, ThreadPool.minParallelElements / n), (rows + 63) / 64)
    let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
    // Per block, the weight and bias partial sums interleaved by 8 columns ([w0..w7, b0..b7,
    // w8..]; the n % 8 tail columns last, weights then biases). Two separate arrays would put
    // w[j] and b[j] 4 KiB apart, and the CPU's store-to-load aliasing check then stalls
    // every iteration (4x slower).
    let vectorColumns = n - n % 8, tail = n - vectorColumns
    let partialCount = weightGrads ? blocks * 2 * n : 0
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, partialCount))
    partial.initialize(repeating: 0, count: partialCount)
    defer { partial.deallocate() }
    mean.withUnsafeBufferPointer { mb in invstd.withUnsafeBufferPointer { ib in
        let mp = mb.baseAddress!, ip = ib.baseAddress!
        ThreadPool.shared.parallelFor(blocks, grain: 1) { range in
            let ghat = UnsafeMutablePointer<T>.allocate(capacity: n)
            defer { ghat.deallocate() }
            for block in range {
                let pv = partial + block * 2 * n, pt = pv + 2 * vectorColumns
                for r in block * rowsPerBlock ..< Swift.min(rows, (block + 1) * rowsPerBlock) {
                    let gr = g + r * n, xr = x + r * n
                    let mu = mp[r], inv = ip[r], m = T(mu), ml = T(mu - Double(m)), s = T(inv)
                    if weightGrads {
                        // Explicit vectors: the partial sums could alias g and x as far as
                        // the compiler knows, which keeps a plain loop scalar.
                        let muv = SIMD8<Double>(repeating: mu), invv = SIMD8<Double>(repeating: inv)
                        var j = 0
                        while j < vectorColumns {
                            let gv = SIMD8<Double>(UnsafeRawPointer(gr + j).loadUnaligned(as: SIMD8<T>.self))
                            let xv = SIMD8<Double>(UnsafeRawPointer(xr + j).loadUnaligned(as: SIMD8<T>.self))
                            let pw = pv + 2 * j, pb = pw + 8
                            let wv = UnsafeRawPointer(pw).loadUnaligned(as: SIMD8<Double>.self)
                            let bv = UnsafeRawPointer(pb).loadUnaligned(as: SIMD8<Double>.self)
                            UnsafeMutableRawPointer(pw).storeBytes(of: wv + gv * ((xv - muv) * invv), as: SIMD8<Double>.self)
                            UnsafeMutableRawPointer(pb).storeBytes(of: bv + gv, as: SIMD8<Double>.self)
                            j += 8
                        }
                        for t in 0..<tail {
                            let gj = Double(gr[j + t])
                            pt[t] += gj * ((Double(xr[j + t]) - mu) * inv)
                            pt[tail + t] += gj
                        }
                    }
                    guard let dx else { continue }
                    if let weight {
                        for j in 0..<n { ghat[j] = gr[j] * weight[j] }
                    } else {
                        for j in 0..<n { ghat[j] = gr[j] }
                    }
                    let (s1, s2) = centeredGradientSums(UnsafePointer(ghat), xr, count: n, center: mu)
                    // dx = s·ĝ − s·Σĝ/n − (x − m)·s³·Σĝ(x−m)/n
                    let c0 = T(-inv * s1 / Double(n)), c1 = T(-inv * inv * inv * s2 / Double(n))
                    let o = dx + r * n
                    for j in 0..<n { o[j] = s * ghat[j] + c1 * ((xr[j] - m) - ml) + c0 }
                }
            }
        }
    } }
    guard weightGrads else { return ([], []) }
    var dw = [Double](repeating: 0, count: n), db = [Double](repeating: 0, count: n)
    for block in 0..<blocks {
        let pv = partial + block * 2 * n, pt = pv + 2 * vectorColumns
        for j in 0..<vectorColumns {
            dw[j] += pv[2 * j - j % 8]
            db[j] += pv[2 * j - j % 8 + 8]
        }
        for t in 0..<tail {
            dw[vectorColumns + t] += pt[t]
            db[vectorColumns + t] += pt[tail + t]
        }
    }
    return (dw, db)
}
