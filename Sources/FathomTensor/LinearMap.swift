// The affine map of a fully connected layer as one op, like torch.nn.functional.linear.

/// `y = x·Wᵀ + b` over the last axis of `input` (`torch.nn.functional.linear`).
///
/// One GEMM reads `weight` ([out, in]) in place as its transpose, and the bias is written
/// into the output first and accumulated into (`beta = 1`), so there is no separate
/// broadcast-add pass. The backward gives `dW = gᵀ·x` directly in `weight`'s layout (no
/// transposed gradient view to copy later) and `db = Σ g`, in differentiable ops.
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    orStop { () throws(TensorError) in try linear(validating: input, weight: weight, bias: bias) }
}

/// Like `linear(_:weight:bias:)` but throws when shapes or dtypes do not fit.
public func linear(validating input: Tensor, weight: Tensor, bias: Tensor? = nil) throws(TensorError) -> Tensor {
    guard weight.rank == 2 else {
        throw TensorError(op: "linear", "weight must be [out, in], got shape \(describe(weight.shape))")
    }
    let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
    guard input.rank >= 1, input.shape[input.rank - 1] == inFeatures else {
        throw TensorError(op: "linear", "input of shape \(describe(input.shape)) does not end in \(inFeatures) features, as weight \(describe(weight.shape)) needs")
    }
    guard input.dtype == weight.dtype, input.dtype.isFloatingPoint, bias.map({ $0.dtype == input.dtype }) ?? true else {
        throw TensorError(op: "linear", "input, weight and bias must share one float dtype; got \(input.dtype), \(weight.dtype)\(bias.map { ", \($0.dtype)" } ?? "")")
    }
    if let bias, bias.shape != [outFeatures] {
        throw TensorError(op: "linear", "bias has shape \(describe(bias.shape)); expected [\(outFeatures)] for weight \(describe(weight.shape))")
    }
    let x = input.reshaped([-1, inFeatures]).contiguous()
    let rows = x.shape[0]
    let out = Tensor(uninitializedShape: [rows, outFeatures], dtype: input.dtype)
    func compute<T: FloatScalar>(_: T.Type) {
        let w = weight.contiguous()
        let c = out.pointer(as: T.self)
        if let bias {
            let b = UnsafePointer(bias.contiguous().pointer(as: T.self))
            for row in 0..<rows { (c + row * outFeatures).update(from: b, count: outFeatures) }
        }
        if rows > 0 && outFeatures > 0 {
            if inFeatures == 0 {
                if bias == nil { c.initialize(repeating: 0, count: rows * outFeatures) }
            } else {
                gemm(T.self, transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
                     a: UnsafePointer(x.pointer(as: T.self)), lda: inFeatures, b: UnsafePointer(w.pointer(as: T.self)),
                     ldb: inFeatures, c: c, ldc: outFeatures, beta: bias == nil ? 0 : 1)
            }
        }
        withExtendedLifetime((w, bias)) {}
    }
    if input.dtype == .float32 { compute(Float.self) } else { compute(Double.self) }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    if needsGrad(inputs) {
        out.recorded("linear", inputs) { g, _ in
            [x.requiresGrad ? g.matmul(weight) : nil,
             weight.requiresGrad ? g.transposed().matmul(x) : nil,
             bias.map { $0.requiresGrad ? g.sum(axis: 0) : nil } ?? nil]
        }
    }
    return out.reshaped(Array(input.shape.dropLast()) + [outFeatures])
}
