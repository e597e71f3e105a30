// Sorting along an axis: sort (stable), argsort and topk. Positions are computed on the
// data; values are then read with `gather`, so they are differentiable.

extension Tensor {
    /// The elements sorted along `axis`, and the int64 positions they came from
    /// (`torch.sort` with `stable=True`): equal elements keep their order, NaN sorts as
    /// the largest value (last ascending, first descending).
    public func sort(axis: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
        let a = normalizeAxis(axis, rank: Swift.max(rank, 1), op: "sort")
        let indices = sortedPositions(axis: a, descending: descending, keep: rank == 0 ? 1 : shape[a], op: "sort")
        return (gatheredValues(axis: a, indices), indices)
    }

    /// The int64 positions that sort `self` along `axis` (stable; NaN largest).
    public func argsort(axis: Int = -1, descending: Bool = false) -> Tensor {
        let a = normalizeAxis(axis, rank: Swift.max(rank, 1), op: "argsort")
        return sortedPositions(axis: a, descending: descending, keep: rank == 0 ? 1 : shape[a], op: "argsort")
    }

    /// The `k` largest (or smallest) elements along `axis` and their int64 positions,
    /// largest first (smallest first when `largest` is false). Ties keep the lower
    /// position first. The result is always sorted; `sorted: false` is accepted for
    /// PyTorch compatibility.
    public func topk(_ k: Int, axis: Int = -1, largest: Bool = true, sorted: Bool = true) -> (values: Tensor, indices: Tensor) {
        let a = orStop { () throws(TensorError) in try validateTopK(k, axis: axis) }
        let indices = sortedPositions(axis: a, descending: largest, keep: k, op: "topk")
        return (gatheredValues(axis: a, indices), indices)
    }

    /// Throws unless `k` and `axis` fit this tensor (for `k` from user input).
    func validateTopK(_ k: Int, axis: Int) throws(TensorError) -> Int {
        let r = Swift.max(rank, 1)
        let a = axis < 0 ? axis + r : axis
        guard a >= 0, a < r else {
            throw TensorError(op: "topk", "axis \(axis) is out of range for a tensor of shape \(describe(shape)); use an axis in \(-r)..<\(r)")
        }
        let n = rank == 0 ? 1 : shape[a]
        guard k >= 0, k <= n else {
            throw TensorError(op: "topk", "k = \(k) is out of range for axis \(a) of size \(n) (shape \(describe(shape))); k must be in 0...\(n)")
        }
        return a
    }

    /// `self.gather(axis, indices)`, handling 0-d tensors.
    private func gatheredValues(axis: Int, _ indices: Tensor) -> Tensor {
        rank == 0 ? reshaped([1]).gather(axis: 0, index: indices.reshaped([1])).reshaped([]) : gather(axis: axis, index: indices)
    }

    /// For every line along `axis`, the positions of its first `keep` elements in sorted
    /// order, as an int64 tensor with `keep` entries on `axis`.
    private func sortedPositions(axis: Int, descending: Bool, keep: Int, op: String) -> Tensor {
        if rank == 0 { return Tensor.zeros([], dtype: .int64) }
        if dtype == .bool { return to(.int64).sortedPositions(axis: axis, descending: descending, keep: keep, op: op) }
        var outShape = shape
        outShape[axis] = keep
        let out = Tensor(uninitializedShape: outShape, dtype: .int64)
        let source = contiguous().detach()
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        guard outer * inner * keep > 0 else { return out }
        let po = out.pointer(as: Int64.self)
        func kernel<T: Comparable>(_: T.Type) {
            let px = UnsafePointer(source.pointer(as: T.self))
            ThreadPool.shared.parallelFor(outer * inner, grain: Swift.max(1, 4096 / n)) { range in
                var values = [T](), order = [Int]()
                values.reserveCapacity(n)
                order.reserveCapacity(n)
                for line in range {
                    let o = line / inner, c = line % inner
                    let x = px + o * n * inner + c
                    values.removeAll(keepingCapacity: true)
                    for i in 0..<n { values.append(x[i * inner]) }
                    values.withUnsafeBufferPointer { v in
                        // A total order (NaN largest, ties by position) makes the result
                        // stable whatever algorithm the standard library uses.
                        func before(_ i: Int, _ j: Int) -> Bool {
                            let a = v[i], b = v[j]
                            let an = a != a, bn = b != b  // NaN is the only value unequal to itself
                            let comparison = an || bn ? (an == bn ? 0 : (an ? 1 : -1)) : (a < b ? -1 : (a > b ? 1 : 0))
                            if comparison == 0 { return i < j }
                            return descending ? comparison > 0 : comparison < 0
                        }
                        order.removeAll(keepingCapacity: true)
                        if keep <= 16 && keep * 4 < n {
                            // Few wanted: keep a sorted buffer of the best `keep` so far (O(n·k)
                            // worst case, O(n) typical), the same result as a full sort.
                            for i in 0..<n {
                                if order.count == keep {
                                    if !before(i, order[keep - 1]) { continue }
                                    order.removeLast()
                                }
                                var j = order.count
                                order.append(i)
                                while j > 0 && before(i, order[j - 1]) { order[j] = order[j - 1]; j -= 1 }
                                order[j] = i
                            }
                        } else {
                            order.append(contentsOf: 0..<n)
                            order.sort(by: before)
                        }
                    }
                    let y = po + o * keep * inner + c
                    for j in 0..<keep { y[j * inner] = Int64(order[j]) }
                }
            }
        }
        switch dtype {
        case .float32: kernel(Float.self)
        case .float64: kernel(Double.self)
        case .int64: kernel(Int64.self)
        case .bool: preconditionFailure("converted above")
        }
        return out
    }
}
