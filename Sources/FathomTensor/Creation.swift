// Tensors filled with a constant.

extension Tensor {
    /// A tensor of `shape` with every element `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) -> Tensor {
        let shape = orStop { () throws(TensorError) in try validatedShape(shape, count: shape.reduce(1, *), op: "full") }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        func fill<T: TensorScalar>(_: T.Type) {
            out.pointer(as: T.self).initialize(repeating: T(fromDouble: value), count: out.count)
        }
        switch dtype {
        case .float32: fill(Float.self)
        case .float64: fill(Double.self)
        case .int64: fill(Int64.self)
        case .bool: fill(Bool.self)
        }
        return out
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor { full(shape, 0, dtype: dtype) }
    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor { full(shape, 1, dtype: dtype) }

    /// A tensor of zeros with this tensor's shape and dtype.
    public func zerosLike() -> Tensor { Tensor.zeros(shape, dtype: dtype) }
    /// A tensor of ones with this tensor's shape and dtype.
    public func onesLike() -> Tensor { Tensor.ones(shape, dtype: dtype) }

    /// A 0-d tensor of `dtype` holding `value`.
    public static func scalar(_ value: Double, dtype: DType = .float32) -> Tensor { full([], value, dtype: dtype) }
}
