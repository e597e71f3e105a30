// Joining tensors along an axis and cutting them apart: cat, stack, split, chunk, unbind.
//
// Mixed dtypes are promoted to the widest one (bool < int64 < float32 < float64), as
// `torch.cat` does; the conversion is differentiable, so gradients reach every input in
// its own dtype.

extension Tensor {
    /// The tensors joined along an existing `axis`, like `torch.cat`. All must have the
    /// same rank and the same sizes on every other axis.
    public static func cat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        let (shape, axis) = orStop { () throws(TensorError) in try catShape(tensors.map(\.shape), axis: axis) }
        let dtype = tensors.dropFirst().reduce(tensors[0].dtype) { promoteTypes($0, $1.dtype) }
        let inputs = tensors.map { $0.to(dtype) }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        var start = 0
        for input in inputs {
            // Each input lands in a view of the output: same strides, shifted along `axis`.
            copyElements(from: input, into: out.view(shape: input.shape, strides: out.strides,
                                                     offset: start * out.strides[axis]))
            start += input.shape[axis]
        }
        if needsGrad(inputs) {
            let sizes = inputs.map { $0.shape[axis] }
            let rank = shape.count
            out.recorded("cat", inputs) { g, _ in
                var offset = 0
                return sizes.enumerated().map { i, size in
                    defer { offset += size }
                    guard inputs[i].requiresGrad else { return nil }
                    return g.select(axisRange(axis, rank: rank, offset, offset + size))
                }
            }
        }
        return out
    }

    /// The tensors joined along a new `axis` (which may be `rank`, or negative from the
    /// end), like `torch.stack`. All must have the same shape.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        let (shape, axis) = orStop { () throws(TensorError) in try stackShape(tensors.map(\.shape), axis: axis) }
        let dtype = tensors.dropFirst().reduce(tensors[0].dtype) { promoteTypes($0, $1.dtype) }
        let inputs = tensors.map { $0.to(dtype) }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        var viewStrides = out.strides
        viewStrides.remove(at: axis)
        for (i, input) in inputs.enumerated() {
            copyElements(from: input, into: out.view(shape: input.shape, strides: viewStrides,
                                                     offset: i * out.strides[axis]))
        }
        if needsGrad(inputs) {
            let rank = shape.count
            out.recorded("stack", inputs) { g, _ in
                inputs.indices.map { i in
                    guard inputs[i].requiresGrad else { return nil }
                    var index = [TensorIndex](repeating: .all, count: rank)
                    index[axis] = .at(i)
                    return g.select(index)
                }
            }
        }
        return out
    }

    /// Views of consecutive pieces of `size` along `axis` (the last may be shorter), like
    /// `torch.split(size, dim)`. Gradients flow through each piece.
    public func split(_ size: Int, axis: Int = 0) -> [Tensor] {
        let a = normalizeAxis(axis, rank: rank, op: "split")
        guard size > 0 else {
            fatalError(TensorError(op: "split", "piece size \(size) must be positive (splitting shape \(describe(shape)) along axis \(axis))").description)
        }
        let total = shape[a]
        let sizes = total == 0 ? [0] : stride(from: 0, to: total, by: size).map { Swift.min(size, total - $0) }
        return split(sizes, axis: axis)
    }

    /// Views of consecutive pieces with the given sizes along `axis`, which must add up to
    /// the axis' size, like `torch.split([sizes], dim)`.
    public func split(_ sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = normalizeAxis(axis, rank: rank, op: "split")
        orStop { () throws(TensorError) in try validateSplit(sizes, axis: a) }
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return select(axisRange(a, rank: rank, start, start + size))
        }
    }

    /// `n` views of nearly equal size along `axis`, like `torch.chunk`: each has
    /// ⌈size / n⌉ elements along the axis except the last, so fewer than `n` pieces come
    /// back when the size does not allow `n`.
    public func chunk(_ n: Int, axis: Int = 0) -> [Tensor] {
        let a = normalizeAxis(axis, rank: rank, op: "chunk")
        guard n > 0 else {
            fatalError(TensorError(op: "chunk", "the number of chunks \(n) must be positive (shape \(describe(shape)))").description)
        }
        let size = shape[a]
        return split(Swift.max(1, (size + n - 1) / n), axis: a)
    }

    /// The slices along `axis`, each with that axis removed, like `torch.unbind`.
    public func unbind(axis: Int = 0) -> [Tensor] {
        let a = normalizeAxis(axis, rank: rank, op: "unbind")
        return (0..<shape[a]).map { i in
            var index = [TensorIndex](repeating: .all, count: rank)
            index[a] = .at(i)
            return select(index)
        }
    }

    /// Checks split sizes against the axis.
    func validateSplit(_ sizes: [Int], axis: Int) throws(TensorError) {
        guard !sizes.contains(where: { $0 < 0 }), sizes.reduce(0, +) == shape[axis] else {
            throw TensorError(op: "split", "sizes \(sizes) must be >= 0 and add up to \(shape[axis]), the size of axis \(axis) of shape \(describe(shape))")
        }
    }
}

/// The index selecting `start..<end` on `axis` and everything elsewhere.
private func axisRange(_ axis: Int, rank: Int, _ start: Int, _ end: Int) -> [TensorIndex] {
    var index = [TensorIndex](repeating: .all, count: rank)
    index[axis] = .range(start: start, end: end)
    return index
}

/// The shape of `cat` and its normalized axis, or an error naming the mismatch.
func catShape(_ shapes: [[Int]], axis: Int) throws(TensorError) -> ([Int], Int) {
    guard let first = shapes.first else {
        throw TensorError(op: "cat", "needs at least one tensor")
    }
    let rank = first.count
    guard rank > 0 else {
        throw TensorError(op: "cat", "cannot join 0-d tensors along an axis; use stack, or unsqueeze them first")
    }
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else {
        throw TensorError(op: "cat", "axis \(axis) is out of range for tensors of rank \(rank); use an axis in \(-rank)..<\(rank)")
    }
    var result = first
    for (i, shape) in shapes.enumerated().dropFirst() {
        guard shape.count == rank else {
            throw TensorError(op: "cat", "tensor 0 has shape \(describe(first)) but tensor \(i) has shape \(describe(shape)); all tensors need the same rank")
        }
        for d in 0..<rank where d != a && shape[d] != first[d] {
            throw TensorError(op: "cat", "tensor 0 has shape \(describe(first)) but tensor \(i) has shape \(describe(shape)); sizes must match on every axis except axis \(a), and axis \(d) differs")
        }
        result[a] += shape[a]
    }
    return (result, a)
}

/// The shape of `stack` and its normalized (new) axis, or an error naming the mismatch.
func stackShape(_ shapes: [[Int]], axis: Int) throws(TensorError) -> ([Int], Int) {
    guard let first = shapes.first else {
        throw TensorError(op: "stack", "needs at least one tensor")
    }
    let rank = first.count + 1
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else {
        throw TensorError(op: "stack", "axis \(axis) is out of range for the result of rank \(rank); use an axis in \(-rank)..<\(rank)")
    }
    for (i, shape) in shapes.enumerated().dropFirst() where shape != first {
        throw TensorError(op: "stack", "tensor 0 has shape \(describe(first)) but tensor \(i) has shape \(describe(shape)); stacked tensors must have equal shapes")
    }
    var result = first
    result.insert(shapes.count, at: a)
    return (result, a)
}
