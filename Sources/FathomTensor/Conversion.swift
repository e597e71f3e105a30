// Moving data between Swift arrays and tensors, and between dtypes and layouts.

extension Tensor {
    /// A tensor holding `scalars` in row-major order with the given shape.
    /// Stops if the counts disagree; use `init(validating:shape:)` for user data.
    public convenience init<T: TensorScalar>(_ scalars: [T], shape: [Int]) {
        self.init(shape: orStop { () throws(TensorError) in try validatedShape(shape, count: scalars.count, op: "Tensor.init") },
                  copying: scalars)
    }

    /// A 1-d tensor of `scalars`.
    public convenience init<T: TensorScalar>(_ scalars: [T]) {
        self.init(shape: [scalars.count], copying: scalars)
    }

    /// A 0-d (scalar) tensor.
    public convenience init<T: TensorScalar>(_ scalar: T) {
        self.init(shape: [], copying: [scalar])
    }

    /// A tensor of `dtype` from doubles (converted as `to(dtype)` converts: nonzero is true).
    public convenience init(_ scalars: [Double], shape: [Int], dtype: DType) {
        self.init(Tensor(scalars, shape: shape).to(dtype))
    }

    /// Like `init(_:shape:)` but throws, for shapes and data that come from files or flags.
    public convenience init<T: TensorScalar>(validating scalars: [T], shape: [Int]) throws(TensorError) {
        self.init(shape: try validatedShape(shape, count: scalars.count, op: "Tensor.init"), copying: scalars)
    }

    private convenience init<T: TensorScalar>(shape: [Int], copying scalars: [T]) {
        self.init(uninitializedShape: shape, dtype: T.dtype)
        scalars.withUnsafeBufferPointer { source in
            pointer(as: T.self).update(from: source.baseAddress!, count: scalars.count)
        }
    }

    /// A new handle on the same tensor (used by convenience inits that compute their result).
    private convenience init(_ other: Tensor) {
        self.init(storage: other.storage, dtype: other.dtype, shape: other.shape,
                  strides: other.strides, offset: other.offset)
    }

    /// The elements in row-major order. `T` must match the dtype.
    public func scalars<T: TensorScalar>(as _: T.Type = T.self) -> [T] {
        precondition(T.dtype == dtype, "Fathom.scalars: the tensor is \(dtype) but \(T.self) (\(T.dtype)) was requested; convert first with .to(.\(T.dtype))")
        let source = contiguous()
        return Array(UnsafeBufferPointer(start: source.pointer(as: T.self), count: count))
    }

    /// The elements converted to `Double`, whatever the dtype.
    public var doubles: [Double] {
        switch dtype {
        case .float32: scalars(as: Float.self).map(Double.init)
        case .float64: scalars(as: Double.self)
        case .int64: scalars(as: Int64.self).map(Double.init)
        case .bool: scalars(as: Bool.self).map { $0 ? 1 : 0 }
        }
    }

    /// The single element of a one-element tensor, as `Double`.
    public func item() -> Double {
        precondition(count == 1, "Fathom.item: the tensor has shape \(describe(shape)) (\(count) elements); item() needs exactly one")
        return doubles[0]
    }

    /// The single element of a one-element tensor, as `T` (must match the dtype).
    public func item<T: TensorScalar>(as _: T.Type) -> T {
        precondition(count == 1, "Fathom.item: the tensor has shape \(describe(shape)) (\(count) elements); item() needs exactly one")
        return scalars(as: T.self)[0]
    }

    /// This tensor in row-major order without gaps: itself if already so, else a copy.
    /// Gradients flow through the copy.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        copyElements(from: self, into: out)
        if needsGrad(self) { out.recorded("contiguous", [self]) { g, _ in [g] } }
        return out
    }

    /// A copy with its own memory (contiguous), like PyTorch's `clone()`. Gradients flow
    /// through it.
    public func clone() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        copyElements(from: self, into: out)
        if needsGrad(self) { out.recorded("clone", [self]) { g, _ in [g] } }
        return out
    }

    /// This tensor converted to `dtype` (a new tensor; `self` if the dtype already matches).
    /// Float-to-float conversions are differentiable.
    public func to(_ dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        let plan = StridedPlan(shape: shape, operandStrides: [out.strides, strides])
        func convert<S: TensorScalar, D: TensorScalar>(_: S.Type, _: D.Type, _ cast: @escaping (S) -> D) {
            let source = pointer(as: S.self), destination = out.pointer(as: D.self)
            plan.parallelSegments { offsets, n in
                let s = source + offsets[1], d = destination + offsets[0], stride = plan.innerStrides[1]
                for i in 0..<n { d[i] = cast(s[i * stride]) }
            }
        }
        switch (self.dtype, dtype) {
        case (.float32, .float64): convert(Float.self, Double.self) { Double($0) }
        case (.float64, .float32): convert(Double.self, Float.self) { Float($0) }
        case (.float32, .int64): convert(Float.self, Int64.self) { Int64($0) }
        case (.float64, .int64): convert(Double.self, Int64.self) { Int64($0) }
        case (.int64, .float32): convert(Int64.self, Float.self) { Float($0) }
        case (.int64, .float64): convert(Int64.self, Double.self) { Double($0) }
        case (.bool, .float32): convert(Bool.self, Float.self) { $0 ? 1 : 0 }
        case (.bool, .float64): convert(Bool.self, Double.self) { $0 ? 1 : 0 }
        case (.bool, .int64): convert(Bool.self, Int64.self) { $0 ? 1 : 0 }
        case (.float32, .bool): convert(Float.self, Bool.self) { $0 != 0 }
        case (.float64, .bool): convert(Double.self, Bool.self) { $0 != 0 }
        case (.int64, .bool): convert(Int64.self, Bool.self) { $0 != 0 }
        default: fatalError("Fathom.to: unreachable conversion \(self.dtype) -> \(dtype)")
        }
        if dtype.isFloatingPoint && needsGrad(self) {
            let sourceType = self.dtype
            out.recorded("to(\(dtype))", [self]) { g, _ in [g.to(sourceType)] }
        }
        return out
    }
}

/// Copies `source`'s elements into `destination` (any layouts) of the
/// same shape and dtype.
func copyElements(from source: Tensor, into destination: Tensor) {
    precondition(source.shape == destination.shape && source.dtype == destination.dtype)
    let plan = StridedPlan(shape: source.shape, operandStrides: [destination.strides, source.strides])
    func copy<T>(_: T.Type) {
        let s = source.pointer(as: T.self), d = destination.pointer(as: T.self)
        let innerS = plan.innerStrides[1], innerD = plan.innerStrides[0]
        plan.parallelSegments { offsets, n in
            let from = s + offsets[1], to = d + offsets[0]
            if innerS == 1 && innerD == 1 {
                to.update(from: from, count: n)
            } else {
                for i in 0..<n { to[i * innerD] = from[i * innerS] }
            }
        }
    }
    switch source.dtype.byteSize {
    case 1: copy(UInt8.self)
    case 4: copy(UInt32.self)
    default: copy(UInt64.self)
    }
}

/// Checks that `shape` is valid (no negative sizes) and holds `count` elements.
func validatedShape(_ shape: [Int], count: Int, op: String) throws(TensorError) -> [Int] {
    if let bad = shape.first(where: { $0 < 0 }) {
        throw TensorError(op: op, "shape \(describe(shape)) has a negative size \(bad); sizes must be >= 0")
    }
    let needed = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
    guard needed == count else {
        throw TensorError(op: op, "shape \(describe(shape)) needs \(needed) elements but \(count) were given; make the shape's product equal the number of elements")
    }
    return shape
}
