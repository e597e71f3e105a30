// Direct access to a tensor's memory for kernels written outside this module
// (optimizers, data loaders). Writes through these pointers are not recorded for autodiff.

extension Tensor {
    /// Calls `body` with the elements in row-major order. The tensor must be contiguous
    /// and `T` must match its dtype.
    public func withUnsafeBufferPointer<T: TensorScalar, R>(as _: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        checkRawAccess(T.self, op: "withUnsafeBufferPointer")
        return try body(UnsafeBufferPointer(start: pointer(as: T.self), count: count))
    }

    /// Calls `body` with mutable access to the elements, for in-place updates (an optimizer
    /// step). The tensor must be contiguous, `T` must match its dtype, and a tensor that
    /// requires grad may only be written inside `noGrad`.
    public func withUnsafeMutableBufferPointer<T: TensorScalar, R>(as _: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R) rethrows -> R {
        checkRawAccess(T.self, op: "withUnsafeMutableBufferPointer")
        precondition(!(requiresGrad && GradMode.isEnabled),
                     "Fathom.withUnsafeMutableBufferPointer: cannot write a tensor that requires grad while grad is recorded; wrap the update in noGrad { ... }")
        return try body(UnsafeMutableBufferPointer(start: pointer(as: T.self), count: count))
    }

    private func checkRawAccess<T: TensorScalar>(_: T.Type, op: String) {
        precondition(T.dtype == dtype, "Fathom.\(op): the tensor is \(dtype) but \(T.self) was requested")
        precondition(isContiguous, "Fathom.\(op): the tensor of shape \(describe(shape)) is not contiguous; call contiguous() first")
    }
}
