// Cumulative sums along an axis.

extension Tensor {
    /// Running sums along `axis`: `out[i] = x[0] + … + x[i]` (`torch.cumsum`). Bool and
    /// int64 tensors give int64.
    ///
    /// Gradient: the reversed cumulative sum of `g`, written as
    /// `sum(g) - cumsum(g) + g` so that it is differentiable again.
    public func cumsum(axis: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: Swift.max(rank, 1), op: "cumsum")
        if dtype == .bool { return to(.int64).cumsum(axis: a) }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        let source = contiguous().detach()
        let outer = rank == 0 ? 1 : shape[..<a].reduce(1, *)
        let n = rank == 0 ? 1 : shape[a]
        let inner = rank == 0 ? 1 : shape[(a + 1)...].reduce(1, *)
        func kernel<T: AdditiveArithmetic>(_: T.Type) {
            let px = UnsafePointer(source.pointer(as: T.self)), po = out.pointer(as: T.self)
            guard outer * n * inner > 0 else { return }
            ThreadPool.shared.parallelFor(outer, grain: Swift.max(1, ThreadPool.minParallelElements / (n * inner))) { range in
                for o in range {
                    let x = px + o * n * inner, y = po + o * n * inner
                    if inner == 1 {
                        var running = T.zero
                        for i in 0..<n { running += x[i]; y[i] = running }
                    } else {
                        // Row r = row r-1 + x's row r, vectorized across the row.
                        y.update(from: x, count: inner)
                        for r in 1..<Swift.max(n, 1) {
                            let previous = y + (r - 1) * inner, row = x + r * inner, target = y + r * inner
                            for j in 0..<inner { target[j] = previous[j] + row[j] }
                        }
                    }
                }
            }
        }
        switch dtype {
        case .float32: kernel(Float.self)
        case .float64: kernel(Double.self)
        case .int64: kernel(Int64.self)
        case .bool: preconditionFailure("converted above")
        }
        if needsGrad(self) {
            out.recorded("cumsum", [self]) { g, _ in
                [g.sum(axis: a, keepDims: true) - g.cumsum(axis: a) + g]
            }
        }
        return out
    }
}
