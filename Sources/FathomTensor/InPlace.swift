// Operations that overwrite a tensor's memory, for optimizer updates and buffers.
// They are not recorded for autodiff: on a tensor that requires grad they must run
// inside `noGrad`, exactly as PyTorch requires for `p.add_()` on a parameter.

extension Tensor {
    /// Overwrites every element with `value`, broadcast to this shape (PyTorch `copy_`).
    public func assign(_ value: Tensor) {
        checkWritable(op: "assign")
        let source = noGrad { value.to(dtype) }
        guard broadcastShapesMatch(source.shape) else {
            fatalError(TensorError(op: "assign", "a value of shape \(describe(value.shape)) cannot be broadcast to the target shape \(describe(shape))").description)
        }
        copyElements(from: source.view(shape: shape, strides: source.broadcastStrides(to: shape), offset: source.offset), into: self)
    }

    /// `self += alpha * other` in place, `other` broadcast to this shape (PyTorch `add_`).
    public func addInPlace(_ other: Tensor, alpha: Double = 1) {
        checkWritable(op: "addInPlace")
        guard broadcastShapesMatch(other.shape) else {
            fatalError(TensorError(op: "addInPlace", "a tensor of shape \(describe(other.shape)) cannot be broadcast to the target shape \(describe(shape))").description)
        }
        let source = noGrad { other.to(dtype) }
        let plan = StridedPlan(shape: shape, operandStrides: [strides, source.broadcastStrides(to: shape)])
        func update<T: FloatScalar>(_: T.Type) {
            let o = pointer(as: T.self), x = UnsafePointer(source.pointer(as: T.self)), a = T(alpha)
            let so = plan.innerStrides[0], sx = plan.innerStrides[1]
            plan.parallelSegments { offsets, n in
                let po = o + offsets[0], px = x + offsets[1]
                if so == 1 && sx == 1 {
                    for i in 0..<n { po[i] += a * px[i] }
                } else {
                    for i in 0..<n { po[i * so] += a * px[i * sx] }
                }
            }
        }
        switch dtype {
        case .float32: update(Float.self)
        case .float64: update(Double.self)
        default: unsupportedDType(dtype, op: "addInPlace")
        }
    }

    /// Multiplies every element by `factor` in place (PyTorch `mul_`).
    public func mulInPlace(_ factor: Double) {
        checkWritable(op: "mulInPlace")
        assign(noGrad { self * factor })
    }

    /// Sets every element to `value` in place (PyTorch `fill_`; `fill(0)` is `zero_`).
    public func fill(_ value: Double) {
        checkWritable(op: "fill")
        assign(Tensor.scalar(value, dtype: dtype))
    }

    private func broadcastShapesMatch(_ other: [Int]) -> Bool {
        (try? broadcastShapes(shape, other, op: "")) == shape
    }

    /// In-place writes would corrupt the tape or write one element through many aliases.
    private func checkWritable(op: String) {
        if requiresGrad && GradMode.isEnabled {
            fatalError(TensorError(op: op, "cannot modify a tensor that requires grad (shape \(describe(shape))) while grad is recorded; wrap the update in noGrad { ... }").description)
        }
        for (size, stride) in zip(shape, strides) where size > 1 && stride == 0 {
            fatalError(TensorError(op: op, "cannot write into a broadcast view of shape \(describe(shape)): several elements share memory; call contiguous() first").description)
        }
    }
}
