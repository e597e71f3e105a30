// Operations that return a new view of the same memory: no data is copied (except by
// `reshaped` when the layout makes a view impossible, as PyTorch's `reshape` does).

extension Tensor {
    /// The same elements with another shape; one size may be -1 and is inferred.
    /// A view when the layout allows, a copy otherwise.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let target = orStop { () throws(TensorError) in try resolvedShape(newShape, op: "reshape") }
        if target == shape { return self }
        let source = contiguous()
        let out = source.view(shape: target, strides: contiguousStrides(target), offset: source.offset)
        if needsGrad(source) {
            let inputShape = shape
            out.recorded("reshape", [source]) { g, _ in [g.reshaped(inputShape)] }
        }
        return out
    }

    /// Like `reshaped` but throws on a shape that does not fit, for shapes from user input.
    public func reshaped(validating newShape: [Int]) throws(TensorError) -> Tensor {
        _ = try resolvedShape(newShape, op: "reshape")
        return reshaped(newShape)
    }

    /// Replaces one -1 by the inferred size and checks the element count.
    private func resolvedShape(_ newShape: [Int], op: String) throws(TensorError) -> [Int] {
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        guard unknown.count <= 1 else {
            throw TensorError(op: op, "shape \(describe(newShape)) has more than one -1; at most one size can be inferred")
        }
        var resolved = newShape
        if let i = unknown.first {
            let known = newShape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else {
                throw TensorError(op: op, "cannot reshape \(describe(shape)) (\(count) elements) to \(describe(newShape)): \(count) is not divisible by \(known)")
            }
            resolved[i] = count / known
        }
        guard !resolved.contains(where: { $0 < 0 }), resolved.reduce(1, *) == count else {
            throw TensorError(op: op, "cannot reshape \(describe(shape)) (\(count) elements) to \(describe(newShape)) (\(resolved.reduce(1, *)) elements); the element counts must match")
        }
        return resolved
    }

    /// Flattens axes `startAxis...endAxis` into one.
    public func flattened(startAxis: Int = 0, endAxis: Int = -1) -> Tensor {
        if rank == 0 { return reshaped([1]) }
        let start = normalizeAxis(startAxis, rank: rank, op: "flatten")
        let end = normalizeAxis(endAxis, rank: rank, op: "flatten")
        precondition(start <= end, "Fathom.flatten: startAxis \(startAxis) comes after endAxis \(endAxis) for shape \(describe(shape))")
        let merged = shape[start...end].reduce(1, *)
        return reshaped(Array(shape[..<start]) + [merged] + Array(shape[(end + 1)...]))
    }

    /// The axes reordered: axis i of the result is axis `axes[i]` of `self`.
    public func permuted(_ axes: [Int]) -> Tensor {
        let normalized = axes.map { normalizeAxis($0, rank: rank, op: "permute") }
        guard normalized.count == rank, Set(normalized).count == rank else {
            fatalError(TensorError(op: "permute", "axes \(axes) are not a permutation of 0..<\(rank) for shape \(describe(shape))").description)
        }
        let out = view(shape: normalized.map { shape[$0] }, strides: normalized.map { strides[$0] }, offset: offset)
        if needsGrad(self) {
            var inverse = [Int](repeating: 0, count: rank)
            for (i, axis) in normalized.enumerated() { inverse[axis] = i }
            out.recorded("permute", [self]) { g, _ in [g.permuted(inverse)] }
        }
        return out
    }

    /// Swaps two axes (by default the last two, the matrix transpose).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        precondition(rank >= 2 || (rank == 1 && axis0 == -2 && axis1 == -1) || rank == 0,
                     "Fathom.transpose: a tensor of shape \(describe(shape)) has no axes \(axis0) and \(axis1)")
        if rank < 2 { return self }
        var axes = Array(0..<rank)
        axes.swapAt(normalizeAxis(axis0, rank: rank, op: "transpose"), normalizeAxis(axis1, rank: rank, op: "transpose"))
        return permuted(axes)
    }

    /// The matrix transpose of a 2-d tensor (`.T` in PyTorch).
    public var T: Tensor { transposed() }

    /// A broadcast view with `shape` (sizes of 1 stretched, new leading axes added); -1 keeps a size.
    public func expanded(to target: [Int]) -> Tensor {
        let lead = target.count - rank
        precondition(lead >= 0, "Fathom.expand: cannot expand shape \(describe(shape)) to fewer axes \(describe(target))")
        var resolved = target
        for axis in 0..<rank {
            if target[axis + lead] == -1 { resolved[axis + lead] = shape[axis] }
            guard shape[axis] == resolved[axis + lead] || shape[axis] == 1 else {
                fatalError(TensorError(op: "expand", "cannot expand shape \(describe(shape)) to \(describe(target)): axis \(axis) has size \(shape[axis]), which is neither \(target[axis + lead]) nor 1").description)
            }
        }
        if resolved == shape { return self }
        let out = view(shape: resolved, strides: broadcastStrides(to: resolved), offset: offset)
        if needsGrad(self) {
            let inputShape = shape
            out.recorded("expand", [self]) { g, _ in [g.sumToShape(inputShape)] }
        }
        return out
    }

    /// Removes size-1 axes: the given one, or all of them when `axis` is nil.
    public func squeezed(axis: Int? = nil) -> Tensor {
        var newShape = shape
        if let axis {
            let a = normalizeAxis(axis, rank: rank, op: "squeeze")
            if shape[a] == 1 { newShape.remove(at: a) }
        } else {
            newShape.removeAll { $0 == 1 }
        }
        return newShape == shape ? self : reshaped(newShape)
    }

    /// Inserts a size-1 axis at `axis` (which may be `rank`, or negative from the end).
    public func unsqueezed(axis: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: rank + 1, op: "unsqueeze")
        var newShape = shape
        newShape.insert(1, at: a)
        return reshaped(newShape)
    }
}
