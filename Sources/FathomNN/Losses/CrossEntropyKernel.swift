// The fused cross-entropy kernel on rows of classes: one pass per row computes the
// logsumexp and the row's loss; the backward is softmax − target distribution, in tensor
// ops (differentiable again) or, when nothing records the backward, one fused pass.

import FathomTensor

/// Cross-entropy of `[M, C]` logits against class indices or probabilities, reduced.
///
/// Per row i, with w the class weights (1 without), ε the smoothing and lse = logsumexp(xᵢ):
/// class index t: lossᵢ = (1−ε)·w_t·(lse − x_t) + ε/C·Σ_c w_c·(lse − x_c), counted with w_t
/// in the mean (0 for an ignored row); probabilities y: lossᵢ = Σ_c w_c·y'_c·(lse − x_c),
/// y' = (1−ε)y + ε/C, counted 1. Both are aᵢ·lse − qᵢ·xᵢ with the target distribution
/// qᵢ (w_t·(1−ε)·onehot + ε/C·w, or w·y') and aᵢ = Σ_c qᵢ_c, so ∂lossᵢ/∂xᵢ = aᵢ·softmax(xᵢ) − qᵢ.
struct CrossEntropyRows {
    let logits: Tensor
    let indices: [Int64]?
    let probabilities: Tensor?
    let weight: Tensor?
    let ignoreIndex: Int64
    let smoothing: Double
    let reduction: LossReduction

    var rowCount: Int { logits.shape[0] }
    var classes: Int { logits.shape[1] }

    /// The sum of the row weights the mean divides by.
    private func denominator() -> Double {
        guard let indices else { return Double(rowCount) }
        let w = weight?.to(.float64).scalars(as: Double.self)
        var total = 0.0
        for t in indices where t != ignoreIndex { total += w?[Int(t)] ?? 1 }
        return total
    }

    func run() -> Tensor {
        let dtype = logits.dtype
        let x = logits.contiguous().detach()
        let m = rowCount
        let lse = Tensor.uninitialized([m], dtype: dtype), losses = Tensor.uninitialized([m], dtype: dtype)
        let y = probabilities?.contiguous().detach()
        switch dtype {
        case .float32: forward(Float.self, x, y, lse, losses)
        case .float64: forward(Double.self, x, y, lse, losses)
        default: preconditionFailure("validated by ClassLayout")
        }
        let den = denominator()
        let out: Tensor
        switch reduction {
        case .none:
            out = losses
        case .sum, .mean, .batchMean:
            // A fixed serial order in float64: the same bits for any thread count.
            let total = losses.to(.float64).scalars(as: Double.self).reduce(0, +)
            out = Tensor.scalar(reduction == .sum ? total : total / den, dtype: dtype)
        }
        let inputs = [logits] + (probabilities.map { [$0] } ?? [])
        if gradRecordingNeeded(inputs) {
            let this = self
            out.recordingOp("crossEntropy", inputs) { g, _ in
                this.backward(g, logitsData: x, lse: lse, denominator: den)
            }
        }
        return out
    }

    // MARK: forward

    private func forward<T: FloatScalar>(_: T.Type, _ x: Tensor, _ y: Tensor?, _ lse: Tensor, _ losses: Tensor) {
        let m = rowCount, c = classes
        guard m > 0 else { return }
        let px = UnsafePointer(x.elementPointer(as: T.self))
        let py = y.map { UnsafePointer($0.elementPointer(as: T.self)) }
        let pw = weight.map { UnsafePointer($0.elementPointer(as: T.self)) }
        let pz = lse.elementPointer(as: T.self), pl = losses.elementPointer(as: T.self)
        let eps = T(smoothing), keep = 1 - T(smoothing), perClass = T(smoothing) / T(c)
        let ignore = ignoreIndex
        let labels = indices ?? []
        labels.withUnsafeBufferPointer { pt in
            ThreadPool.shared.parallelFor(m, grain: Swift.max(1, ThreadPool.minParallelElements / c)) { range in
                let scratch = UnsafeMutablePointer<T>.allocate(capacity: c)
                defer { scratch.deallocate() }
                for i in range {
                    let row = px + i * c
                    let (shift, logSum) = logSumExpParts(row, c, scratch)
                    pz[i] = shift + logSum
                    if let py {
                        // Σ_c w_c·y'_c·((max − x_c) + log Σ): each term is a non-negative -log p.
                        let yr = py + i * c
                        for k in 0..<c { scratch[k] = (keep * yr[k] + perClass) * ((shift - row[k]) + logSum) }
                        if let pw { for k in 0..<c { scratch[k] *= pw[k] } }
                        pl[i] = rowSum(UnsafePointer(scratch), count: c)
                        continue
                    }
                    let t = pt[i]
                    if t == ignore {
                        pl[i] = 0
                        continue
                    }
                    let wt = pw?[Int(t)] ?? 1
                    var loss = keep * wt * ((shift - row[Int(t)]) + logSum)
                    if eps > 0 {
                        for k in 0..<c { scratch[k] = (shift - row[k]) + logSum }
                        if let pw { for k in 0..<c { scratch[k] *= pw[k] } }
                        loss += perClass * rowSum(UnsafePointer(scratch), count: c)
                    }
                    pl[i] = loss
                }
            }
        }
    }

    // MARK: backward

    /// Gradients for `[logits, probabilities?]` given the output's gradient `g`.
    private func backward(_ g: Tensor, logitsData: Tensor, lse: Tensor, denominator: Double) -> [Tensor?] {
        let m = rowCount, c = classes
        // d(output)/d(lossᵢ): gᵢ, g, or g / Σ weights; differentiable in g.
        let scale: Tensor
        switch reduction {
        case .none: scale = g.reshaped([m, 1])
        case .sum: scale = g
        case .mean, .batchMean: scale = g / denominator
        }
        let eps = smoothing
        let targetGrad: Tensor?
        if let probabilities, probabilities.requiresGrad {
            // ∂lossᵢ/∂y_c = (1−ε)·w_c·(lse − x_c) = −(1−ε)·w_c·logSoftmax(x)_c.
            var d = logits.logSoftmax(axis: -1) * (-(1 - eps))
            if let weight { d = d * weight }
            targetGrad = d * scale
        } else {
            targetGrad = nil
        }
        guard logits.requiresGrad else { return [nil, targetGrad] }

        if !GradMode.isEnabled {
            // Nothing records this backward: one fused pass, no softmax or q materialized.
            let scales: [Double] = reduction == .none ? g.to(.float64).contiguous().scalars(as: Double.self)
                : Array(repeating: scale.to(.float64).item(), count: m)
            let gx = Tensor.uninitialized([m, c], dtype: logits.dtype)
            switch logits.dtype {
            case .float32: fusedBackward(Float.self, logitsData, lse, scales, gx)
            case .float64: fusedBackward(Double.self, logitsData, lse, scales, gx)
            default: preconditionFailure("validated by ClassLayout")
            }
            return [gx, targetGrad]
        }

        let (q, a) = targetDistribution()
        return [(logits.softmax(axis: -1) * a - q) * scale, targetGrad]
    }

    /// qᵢ and aᵢ = Σ_c qᵢ_c (`[M, C]`, `[M, 1]`): differentiable in the probabilities,
    /// constants for class indices.
    private func targetDistribution() -> (q: Tensor, a: Tensor) {
        let m = rowCount, c = classes, eps = smoothing
        if let probabilities {
            var q = probabilities * (1 - eps) + eps / Double(c)
            if let weight { q = q * weight }
            return (q, q.sum(axis: -1, keepDims: true))
        }
        let w = weight?.to(.float64).scalars(as: Double.self)
        let weightTotal = w?.reduce(0, +) ?? Double(c)
        var q = [Double](repeating: 0, count: m * c), a = [Double](repeating: 0, count: m)
        for (i, t) in (indices ?? []).enumerated() where t != ignoreIndex {
            let wt = w?[Int(t)] ?? 1
            if eps > 0 {
                for k in 0..<c { q[i * c + k] = eps / Double(c) * (w?[k] ?? 1) }
            }
            q[i * c + Int(t)] += (1 - eps) * wt
            a[i] = (1 - eps) * wt + eps / Double(c) * weightTotal
        }
        return (Tensor(q, shape: [m, c], dtype: logits.dtype), Tensor(a, shape: [m, 1], dtype: logits.dtype))
    }

    /// gradᵢ = sᵢ·(aᵢ·exp(xᵢ − lseᵢ) − qᵢ) in one pass per row.
    private func fusedBackward<T: FloatScalar>(_: T.Type, _ x: Tensor, _ lse: Tensor, _ scales: [Double], _ gx: Tensor) {
        let m = rowCount, c = classes
        guard m > 0 else { return }
        let px = UnsafePointer(x.elementPointer(as: T.self)), pz = UnsafePointer(lse.elementPointer(as: T.self))
        let pw = weight.map { UnsafePointer($0.elementPointer(as: T.self)) }
        let y = probabilities?.contiguous().detach()
        let py = y.map { UnsafePointer($0.elementPointer(as: T.self)) }
        let po = gx.elementPointer(as: T.self)
        let keep = 1 - T(smoothing), perClass = T(smoothing) / T(c)
        var weightTotal = T(c)
        if let pw { weightTotal = rowSum(pw, count: c) }
        let ignore = ignoreIndex
        let labels = indices ?? []
        labels.withUnsafeBufferPointer { pt in
            scales.withUnsafeBufferPointer { ps in
                ThreadPool.shared.parallelFor(m, grain: Swift.max(1, ThreadPool.minParallelElements / c)) { range in
                    for i in range {
                        let row = px + i * c, o = po + i * c, s = T(ps[i]), z = pz[i]
                        if let py {
                            let yr = py + i * c
                            // q_c = w_c·y'_c into o, a = Σ q, then o = s·(a·p − q) with p in place.
                            for k in 0..<c { o[k] = keep * yr[k] + perClass }
                            if let pw { for k in 0..<c { o[k] *= pw[k] } }
                            let a = rowSum(UnsafePointer(o), count: c)
                            let sa = s * a
                            for k in 0..<c { o[k] = row[k] - z }
                            exponentiate(o, c)
                            for k in 0..<c { o[k] = sa * o[k] - s * (pw.map { $0[k] } ?? 1) * (keep * yr[k] + perClass) }
                            continue
                        }
                        let t = pt[i]
                        if t == ignore {
                            o.update(repeating: 0, count: c)
                            continue
                        }
                        let wt = pw?[Int(t)] ?? 1
                        let sa = s * (keep * wt + perClass * weightTotal)
                        for k in 0..<c { o[k] = row[k] - z }
                        exponentiate(o, c)
                        for k in 0..<c { o[k] *= sa }
                        if perClass > 0 {
                            let sp = s * perClass
                            if let pw {
                                for k in 0..<c { o[k] -= sp * pw[k] }
                            } else {
                                for k in 0..<c { o[k] -= sp }
                            }
                        }
                        o[Int(t)] -= s * keep * wt
                    }
                }
            }
        }
    }
}

/// For one row: its maximum (0 if infinite, as PyTorch) and log Σ exp(x − max); `scratch`
/// holds at least `n` elements and is overwritten.
@inline(__always)
func logSumExpParts<T: FloatScalar>(_ row: UnsafePointer<T>, _ n: Int, _ scratch: UnsafeMutablePointer<T>) -> (shift: T, logSum: T) {
    var m0 = -T.infinity, m1 = -T.infinity, m2 = -T.infinity, m3 = -T.infinity
    var k = 0
    while k + 4 <= n {
        m0 = Swift.max(m0, row[k]); m1 = Swift.max(m1, row[k + 1])
        m2 = Swift.max(m2, row[k + 2]); m3 = Swift.max(m3, row[k + 3])
        k += 4
    }
    while k < n { m0 = Swift.max(m0, row[k]); k += 1 }
    var shift = Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
    if shift.isInfinite { shift = 0 }
    for k in 0..<n { scratch[k] = row[k] - shift }
    exponentiate(scratch, n)
    return (shift, T.log(rowSum(UnsafePointer(scratch), count: n)))
}

/// `values[k] = exp(values[k])`, vectorized for float32.
@inline(__always)
func exponentiate<T: FloatScalar>(_ values: UnsafeMutablePointer<T>, _ n: Int) {
    if T.self == Float.self {
        let p = UnsafeMutableRawPointer(values).assumingMemoryBound(to: Float.self)
        vectorizedExpInPlace(p, count: n)
    } else {
        for k in 0..<n { values[k] = T.exp(values[k]) }
    }
}

/// Sum of `n` contiguous elements with eight interleaved accumulators, so the loop
/// vectorizes; the order is fixed, so results do not depend on threads. (Generic code in
/// this module is specialized here; a generic hook from FathomTensor would not be.)
@inline(__always)
func rowSum<T: FloatScalar>(_ x: UnsafePointer<T>, count n: Int) -> T {
    var a0 = T.zero, a1 = T.zero, a2 = T.zero, a3 = T.zero, a4 = T.zero, a5 = T.zero, a6 = T.zero, a7 = T.zero
    var k = 0
    while k + 8 <= n {
        a0 += x[k]; a1 += x[k + 1]; a2 += x[k + 2]; a3 += x[k + 3]
        a4 += x[k + 4]; a5 += x[k + 5]; a6 += x[k + 6]; a7 += x[k + 7]
        k += 8
    }
    while k < n { a0 += x[k]; k += 1 }
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
}
