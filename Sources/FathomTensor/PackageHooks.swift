// Hooks for fused kernels that live in other Fathom modules (losses, normalization
// layers): raw memory, a way to record a hand-written op on the autodiff tape, and the
// vectorized float32 exp. They have `package` access: visible to every target of this
// package, invisible to its clients, so the public API stays small.

extension Tensor {
    /// A new contiguous tensor whose memory the caller fills before reading it.
    package static func uninitialized(_ shape: [Int], dtype: DType) -> Tensor {
        Tensor(uninitializedShape: shape, dtype: dtype)
    }

    /// Pointer to the first element, typed (`T` must match the dtype). The caller must
    /// respect `strides`, or call `contiguous()` first. Writes are not recorded.
    package func elementPointer<T>(as _: T.Type) -> UnsafeMutablePointer<T> {
        pointer(as: T.self)
    }

    /// Records `self` as the output of the op `name` computed from `inputs`, as the
    /// built-in ops do. Call only when `gradRecordingNeeded(inputs)`. `backward` must be
    /// written with differentiable tensor ops and must not capture `self` (it receives it).
    @discardableResult
    package func recordingOp(_ name: String, _ inputs: [Tensor],
                             backward: @escaping (_ gradOutput: Tensor, _ output: Tensor) -> [Tensor?]) -> Tensor {
        recorded(name, inputs, backward: backward)
    }
}

/// True when an op reading `inputs` must be recorded (grad mode on and one requires grad).
package func gradRecordingNeeded(_ inputs: [Tensor]) -> Bool { needsGrad(inputs) }

/// `values[i] = exp(values[i])` for a contiguous float32 buffer, vectorized (~8x libm).
/// In place on purpose: the loop then needs no aliasing checks to vectorize.
package func vectorizedExpInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
    exponentiateInPlace(values, count: count)
}
