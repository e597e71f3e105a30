// Indexing by tensors of int64 indices (gather, scatterAdd, indexSelect, indexAdd),
// masking (maskedFill) and one-hot encoding, with gradients written in tensor ops.
// Scatters run serially in index order, so repeated indices add up deterministically.

extension Tensor {
    // MARK: gather / scatterAdd

    /// `torch.gather`: `out[i][j][k] = self[index[i][j][k]][j][k]` for `axis` 0, and so on.
    ///
    /// `index` is int64 with the same rank as `self` and, on every other axis, a size no
    /// larger than `self`'s; the result has `index`'s shape. Gradient: a scatter-add.
    public func gather(axis: Int, index: Tensor) -> Tensor {
        let a = orStop { () throws(TensorError) in try validateGather(axis: axis, index: index, op: "gather") }
        let out = Tensor(uninitializedShape: index.shape, dtype: dtype)
        let idx = index.contiguous()
        let pi = UnsafePointer(idx.pointer(as: Int64.self))
        // Walk the output with self's strides on every axis but `axis`, which the index supplies.
        var baseStrides = strides
        if rank > 0 { baseStrides[a] = 0 }
        let axisStride = rank > 0 ? strides[a] : 0
        let plan = StridedPlan(shape: index.shape, operandStrides: [out.strides, baseStrides])
        func kernel<T>(_: T.Type) {
            let ps = UnsafePointer(pointer(as: T.self)), po = out.pointer(as: T.self)
            let ss = plan.innerStrides[1]
            plan.parallelSegments { offsets, n in
                let o = po + offsets[0], s = ps + offsets[1], k = pi + offsets[0]
                for i in 0..<n { o[i] = s[i * ss + Int(k[i]) * axisStride] }
            }
        }
        switch dtype.byteSize {
        case 1: kernel(UInt8.self)
        case 4: kernel(UInt32.self)
        default: kernel(UInt64.self)
        }
        if needsGrad(self) {
            let inputShape = shape, dtype = dtype
            out.recorded("gather", [self]) { g, _ in
                [Tensor.zeros(inputShape, dtype: dtype).scatterAdd(axis: a, index: index, source: g)]
            }
        }
        return out
    }

    /// Like `gather(axis:index:)` but throws on a bad axis, shape or index value.
    public func gather(axis: Int, validating index: Tensor) throws(TensorError) -> Tensor {
        _ = try validateGather(axis: axis, index: index, op: "gather")
        return gather(axis: axis, index: index)
    }

    /// `self` with `source` added at the positions `index` names along `axis`
    /// (out-of-place `torch.scatter_add`): `out[index[i][j]][j] += source[i][j]` for `axis` 0.
    ///
    /// `index` (int64) and `source` have the same shape, of `self`'s rank, no larger than
    /// `self` on the other axes. Repeated indices accumulate, in index order.
    /// Gradients: `g` for `self`, `g.gather(axis, index)` for `source`.
    public func scatterAdd(axis: Int, index: Tensor, source: Tensor) -> Tensor {
        let a = orStop { () throws(TensorError) in try validateScatter(axis: axis, index: index, source: source) }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        copyElements(from: self, into: out)
        let idx = index.contiguous(), src = source.contiguous()
        let pi = UnsafePointer(idx.pointer(as: Int64.self))
        var baseStrides = out.strides
        if rank > 0 { baseStrides[a] = 0 }
        let axisStride = rank > 0 ? out.strides[a] : 0
        let plan = StridedPlan(shape: index.shape, operandStrides: [idx.strides, baseStrides])
        func kernel<T: AdditiveArithmetic>(_: T.Type) {
            let ps = UnsafePointer(src.pointer(as: T.self)), po = out.pointer(as: T.self)
            let so = plan.innerStrides[1]
            plan.forEachSegment(0..<index.count) { offsets, n in
                let s = ps + offsets[0], k = pi + offsets[0], o = po + offsets[1]
                for i in 0..<n { o[i * so + Int(k[i]) * axisStride] += s[i] }
            }
        }
        switch dtype {
        case .float32: kernel(Float.self)
        case .float64: kernel(Double.self)
        case .int64: kernel(Int64.self)
        case .bool: unsupportedDType(dtype, op: "scatterAdd", expected: "numeric")
        }
        if needsGrad(self, source) {
            out.recorded("scatterAdd", [self, source]) { g, _ in
                [self.requiresGrad ? g : nil, source.requiresGrad ? g.gather(axis: a, index: index) : nil]
            }
        }
        return out
    }

    // MARK: indexSelect / indexAdd

    /// The slices of `self` at the positions `index` (1-d int64) along `axis`, in that
    /// order (`torch.index_select`); the axis gets `index.count` entries. Gradient: `indexAdd`.
    public func indexSelect(axis: Int, index: Tensor) -> Tensor {
        let a = orStop { () throws(TensorError) in try validateIndexSelect(axis: axis, index: index, op: "indexSelect") }
        var outShape = shape
        outShape[a] = index.count
        let out = Tensor(uninitializedShape: outShape, dtype: dtype)
        let source = contiguous().detach()
        let idx = index.contiguous()
        let pi = UnsafePointer(idx.pointer(as: Int64.self))
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        let k = index.count
        func kernel<T>(_: T.Type) {
            let ps = UnsafePointer(source.pointer(as: T.self)), po = out.pointer(as: T.self)
            ThreadPool.shared.parallelFor(outer * k, grain: Swift.max(1, ThreadPool.minParallelElements / Swift.max(inner, 1))) { range in
                for item in range {
                    let o = item / k, j = item % k
                    (po + item * inner).update(from: ps + (o * n + Int(pi[j])) * inner, count: inner)
                }
            }
        }
        switch dtype.byteSize {
        case 1: kernel(UInt8.self)
        case 4: kernel(UInt32.self)
        default: kernel(UInt64.self)
        }
        if needsGrad(self) {
            let inputShape = shape, dtype = dtype
            out.recorded("indexSelect", [self]) { g, _ in
                [Tensor.zeros(inputShape, dtype: dtype).indexAdd(axis: a, index: index, source: g)]
            }
        }
        return out
    }

    /// Like `indexSelect(axis:index:)` but throws on a bad axis or index value.
    public func indexSelect(axis: Int, validating index: Tensor) throws(TensorError) -> Tensor {
        _ = try validateIndexSelect(axis: axis, index: index, op: "indexSelect")
        return indexSelect(axis: axis, index: index)
    }

    /// `self` with the slices of `source` added at the positions `index` (1-d int64) along
    /// `axis` (out-of-place `torch.index_add`). Repeated indices accumulate in index order.
    /// Gradients: `g` for `self`, `g.indexSelect(axis, index)` for `source`.
    public func indexAdd(axis: Int, index: Tensor, source: Tensor) -> Tensor {
        let a = orStop { () throws(TensorError) in try validateIndexSelect(axis: axis, index: index, op: "indexAdd") }
        var expected = shape
        expected[a] = index.count
        guard source.shape == expected, source.dtype == dtype else {
            fatalError(TensorError(op: "indexAdd", "source has shape \(describe(source.shape)) and dtype \(source.dtype); it must be \(describe(expected)) (self's shape \(describe(shape)) with axis \(a) of size index.count = \(index.count)) and \(dtype)").description)
        }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        copyElements(from: self, into: out)
        let src = source.contiguous().detach(), idx = index.contiguous()
        let pi = UnsafePointer(idx.pointer(as: Int64.self))
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        let k = index.count
        func kernel<T: AdditiveArithmetic>(_: T.Type) {
            let ps = UnsafePointer(src.pointer(as: T.self)), po = out.pointer(as: T.self)
            // Different `o` touch disjoint rows: parallel over `o`, index order within.
            ThreadPool.shared.parallelFor(outer, grain: Swift.max(1, ThreadPool.minParallelElements / Swift.max(k * inner, 1))) { range in
                for o in range {
                    for j in 0..<k {
                        let d = po + (o * n + Int(pi[j])) * inner, s = ps + (o * k + j) * inner
                        for i in 0..<inner { d[i] += s[i] }
                    }
                }
            }
        }
        switch dtype {
        case .float32: kernel(Float.self)
        case .float64: kernel(Double.self)
        case .int64: kernel(Int64.self)
        case .bool: unsupportedDType(dtype, op: "indexAdd", expected: "numeric")
        }
        if needsGrad(self, source) {
            out.recorded("indexAdd", [self, source]) { g, _ in
                [self.requiresGrad ? g : nil, source.requiresGrad ? g.indexSelect(axis: a, index: index) : nil]
            }
        }
        return out
    }

    // MARK: maskedFill / oneHot

    /// `self` with `value` wherever `mask` (bool, broadcastable to `self`'s shape) is true.
    /// Gradient: `g` where the mask is false, zero where it filled.
    public func maskedFill(mask: Tensor, value: Double) -> Tensor {
        orStop { () throws(TensorError) in try validateMask(mask) }
        let fill = Tensor.scalar(value, dtype: dtype)
        let out: Tensor
        switch dtype {
        case .float32: out = mapTernary(mask, self, fill, op: "maskedFill", Bool.self, Float.self, to: .float32, Float.self) { $0 ? $2 : $1 }
        case .float64: out = mapTernary(mask, self, fill, op: "maskedFill", Bool.self, Double.self, to: .float64, Double.self) { $0 ? $2 : $1 }
        case .int64: out = mapTernary(mask, self, fill, op: "maskedFill", Bool.self, Int64.self, to: .int64, Int64.self) { $0 ? $2 : $1 }
        case .bool: out = mapTernary(mask, self, fill, op: "maskedFill", Bool.self, Bool.self, to: .bool, Bool.self) { $0 ? $2 : $1 }
        }
        if needsGrad(self) {
            out.recorded("maskedFill", [self]) { g, _ in [g.maskedFill(mask: mask, value: 0)] }
        }
        return out
    }

    /// One-hot rows for int64 `indices`: shape `indices.shape + [numClasses]`, 1 at each
    /// index and 0 elsewhere. `numClasses` defaults to the largest index + 1 (as PyTorch).
    public static func oneHot(_ indices: Tensor, numClasses: Int? = nil, dtype: DType = .float32) -> Tensor {
        orStop { () throws(TensorError) in try oneHot(validating: indices, numClasses: numClasses, dtype: dtype) }
    }

    /// Like `oneHot(_:numClasses:dtype:)` but throws on indices out of range, for labels from data.
    public static func oneHot(validating indices: Tensor, numClasses: Int? = nil, dtype: DType = .float32) throws(TensorError) -> Tensor {
        try requireInt64(indices, op: "oneHot")
        let idx = indices.contiguous()
        let values = UnsafeBufferPointer(start: idx.pointer(as: Int64.self), count: idx.count)
        let classes = numClasses ?? Int(values.max() ?? -1) + 1
        guard classes >= 0 else {
            throw TensorError(op: "oneHot", "numClasses is \(classes); it must be at least 0")
        }
        try checkIndexValues(idx, size: classes, op: "oneHot", what: "numClasses = \(classes)")
        let out = Tensor.zeros(indices.shape + [classes], dtype: dtype)
        func kernel<T: TensorScalar>(_: T.Type) {
            let po = out.pointer(as: T.self)
            for (i, c) in values.enumerated() { po[i * classes + Int(c)] = T(fromDouble: 1) }
        }
        switch dtype {
        case .float32: kernel(Float.self)
        case .float64: kernel(Double.self)
        case .int64: kernel(Int64.self)
        case .bool: kernel(Bool.self)
        }
        return out
    }

    // MARK: validation

    func validateGather(axis: Int, index: Tensor, op: String) throws(TensorError) -> Int {
        try requireInt64(index, op: op)
        let a = try validatedAxis(axis, op: op)
        guard index.rank == rank else {
            throw TensorError(op: op, "index has shape \(describe(index.shape)) but the input has shape \(describe(shape)); they must have the same number of axes")
        }
        for d in 0..<rank where d != a && index.shape[d] > shape[d] {
            throw TensorError(op: op, "index has shape \(describe(index.shape)), larger than the input's \(describe(shape)) on axis \(d); only axis \(a) may be larger")
        }
        try checkIndexValues(index, size: rank > 0 ? shape[a] : 1, op: op, what: "axis \(a) of size \(rank > 0 ? shape[a] : 1) (input shape \(describe(shape)))")
        return a
    }

    func validateScatter(axis: Int, index: Tensor, source: Tensor) throws(TensorError) -> Int {
        guard source.dtype == dtype else {
            throw TensorError(op: "scatterAdd", "source is \(source.dtype) but self is \(dtype); convert one with .to(_:)")
        }
        guard source.shape == index.shape else {
            throw TensorError(op: "scatterAdd", "source has shape \(describe(source.shape)) but index has shape \(describe(index.shape)); they must match")
        }
        return try validateGather(axis: axis, index: index, op: "scatterAdd")
    }

    func validateIndexSelect(axis: Int, index: Tensor, op: String) throws(TensorError) -> Int {
        try requireInt64(index, op: op)
        guard index.rank <= 1 else {
            throw TensorError(op: op, "index has shape \(describe(index.shape)); it must be 1-d (flatten it, then reshape the result)")
        }
        guard rank > 0 else {
            throw TensorError(op: op, "the input is 0-d; it has no axis to select along")
        }
        let a = try validatedAxis(axis, op: op)
        try checkIndexValues(index, size: shape[a], op: op, what: "axis \(a) of size \(shape[a]) (input shape \(describe(shape)))")
        return a
    }

    func validateMask(_ mask: Tensor) throws(TensorError) {
        guard mask.dtype == .bool else {
            throw TensorError(op: "maskedFill", "mask is \(mask.dtype); it must be bool (compare, or convert with .to(.bool))")
        }
        guard (try? broadcastShapes(mask.shape, shape, op: "maskedFill")) == shape else {
            throw TensorError(op: "maskedFill", "mask of shape \(describe(mask.shape)) does not broadcast to the input's shape \(describe(shape))")
        }
    }

    private func validatedAxis(_ axis: Int, op: String) throws(TensorError) -> Int {
        let r = Swift.max(rank, 1)
        let a = axis < 0 ? axis + r : axis
        guard a >= 0, a < r else {
            throw TensorError(op: op, "axis \(axis) is out of range for a tensor of shape \(describe(shape)); use an axis in \(-r)..<\(r)")
        }
        return a
    }
}

/// Throws unless `index` is int64.
func requireInt64(_ index: Tensor, op: String) throws(TensorError) {
    guard index.dtype == .int64 else {
        throw TensorError(op: op, "indices must be int64, got \(index.dtype); convert with .to(.int64)")
    }
}

/// Throws naming the first index outside `0..<size`.
func checkIndexValues(_ index: Tensor, size: Int, op: String, what: String) throws(TensorError) {
    let idx = index.contiguous()
    let values = UnsafeBufferPointer(start: idx.pointer(as: Int64.self), count: idx.count)
    if let bad = values.first(where: { $0 < 0 || $0 >= size }) {
        throw TensorError(op: op, "index \(bad) is out of range for \(what); indices must be in 0..<\(size)")
    }
}
