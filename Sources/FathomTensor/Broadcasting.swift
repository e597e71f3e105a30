// NumPy broadcasting rules and the reduction that undoes a broadcast in backward passes.

/// The shape two shapes broadcast to, aligning trailing axes; sizes must match or be 1.
func broadcastShapes(_ a: [Int], _ b: [Int], op: String) throws(TensorError) -> [Int] {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 {
            result[i] = da
        } else if da == 1 {
            result[i] = db
        } else {
            throw TensorError(op: op, "shapes \(describe(a)) and \(describe(b)) cannot be broadcast: axis \(i - rank) has sizes \(da) and \(db); sizes must be equal or 1 (reshape or unsqueeze one operand)")
        }
    }
    return result
}

extension Tensor {
    /// The strides that read this tensor as if it had `shape` (0 on broadcast axes).
    /// `shape` must be a valid broadcast target of `self.shape`.
    func broadcastStrides(to target: [Int]) -> [Int] {
        let lead = target.count - rank
        var result = [Int](repeating: 0, count: target.count)
        for axis in 0..<rank where shape[axis] != 1 || target[axis + lead] == 1 {
            result[axis + lead] = strides[axis]
        }
        return result
    }

    /// Sums this gradient over the axes a broadcast from `target` added or stretched, so it
    /// has `target`'s shape again. A no-op when the shapes already match.
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "Fathom.sumToShape: cannot reduce shape \(describe(shape)) to the larger rank of \(describe(target))")
        var axes = Array(0..<lead)
        for axis in 0..<target.count where target[axis] == 1 && shape[axis + lead] != 1 {
            axes.append(axis + lead)
        }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }
}
