// The loops every elementwise operation runs on: they handle layouts, broadcasting and
// threading, so an operation only supplies what happens to one element (or one run).

/// The dtype two operands are computed in: the wider of the two (bool < int64 < float32 < float64).
func promoteTypes(_ a: DType, _ b: DType) -> DType {
    func rank(_ t: DType) -> Int {
        switch t {
        case .bool: 0
        case .int64: 1
        case .float32: 2
        case .float64: 3
        }
    }
    return rank(a) >= rank(b) ? a : b
}

/// Applies `run(input, output, n)` to contiguous runs of `x`'s elements (in any layout),
/// writing a new contiguous tensor of `dtype`. `inputStride` is the run's element stride.
@inline(__always)
func mapRuns<T, U>(_ x: Tensor, _: T.Type, to dtype: DType, _: U.Type,
                   _ run: (_ input: UnsafePointer<T>, _ inputStride: Int, _ output: UnsafeMutablePointer<U>, _ n: Int) -> Void) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape, dtype: dtype)
    let source = UnsafePointer(x.pointer(as: T.self)), destination = out.pointer(as: U.self)
    if x.isContiguous {
        ThreadPool.shared.parallelFor(x.count, grain: ThreadPool.minParallelElements) { range in
            run(source + range.lowerBound, 1, destination + range.lowerBound, range.count)
        }
        return out
    }
    let plan = StridedPlan(shape: x.shape, operandStrides: [out.strides, x.strides])
    let stride = plan.innerStrides[1]
    plan.parallelSegments { offsets, n in
        run(source + offsets[1], stride, destination + offsets[0], n)
    }
    return out
}

/// Applies `f` to every element of `x`, giving a new contiguous tensor of `dtype`.
@inline(__always)
func mapUnary<T, U>(_ x: Tensor, _: T.Type, to dtype: DType, _: U.Type, _ f: (T) -> U) -> Tensor {
    mapRuns(x, T.self, to: dtype, U.self) { input, stride, output, n in
        if stride == 1 {
            for i in 0..<n { output[i] = f(input[i]) }
        } else {
            for i in 0..<n { output[i] = f(input[i * stride]) }
        }
    }
}

/// Applies the function type `F` to every element of `x`: the fast form of `mapUnary`.
@inline(__always)
func mapUnary<F: UnaryFunction>(_ x: Tensor, _: F.Type, to dtype: DType) -> Tensor {
    mapRuns(x, F.Input.self, to: dtype, F.Output.self) { input, stride, output, n in
        if stride == 1 {
            for i in 0..<n { output[i] = F.apply(input[i]) }
        } else {
            for i in 0..<n { output[i] = F.apply(input[i * stride]) }
        }
    }
}

/// Applies `f` to the broadcast pairs of `a` and `b` (both of element type `T`), giving a
/// new contiguous tensor of `dtype`. Stops with the op's name if the shapes do not broadcast.
@inline(__always)
func mapBinary<T, U>(_ a: Tensor, _ b: Tensor, op: String, _: T.Type, to dtype: DType, _: U.Type,
                     _ f: (T, T) -> U) -> Tensor {
    let shape = a.shape == b.shape ? a.shape
        : orStop { () throws(TensorError) in try broadcastShapes(a.shape, b.shape, op: op) }
    let out = Tensor(uninitializedShape: shape, dtype: dtype)
    let pa = UnsafePointer(a.pointer(as: T.self)), pb = UnsafePointer(b.pointer(as: T.self))
    let po = out.pointer(as: U.self)
    if a.shape == b.shape && a.isContiguous && b.isContiguous {
        ThreadPool.shared.parallelFor(out.count, grain: ThreadPool.minParallelElements) { range in
            for i in range { po[i] = f(pa[i], pb[i]) }
        }
        return out
    }
    let plan = StridedPlan(shape: shape, operandStrides: [out.strides, a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)])
    let sa = plan.innerStrides[1], sb = plan.innerStrides[2]
    plan.parallelSegments { offsets, n in
        let o = po + offsets[0], x = pa + offsets[1], y = pb + offsets[2]
        if sa == 1 && sb == 1 {
            for i in 0..<n { o[i] = f(x[i], y[i]) }
        } else if sa == 1 && sb == 0 {
            let yv = y[0]
            for i in 0..<n { o[i] = f(x[i], yv) }
        } else if sa == 0 && sb == 1 {
            let xv = x[0]
            for i in 0..<n { o[i] = f(xv, y[i]) }
        } else {
            for i in 0..<n { o[i] = f(x[i * sa], y[i * sb]) }
        }
    }
    return out
}

/// Applies the function type `F` to the broadcast pairs of `a` and `b`, giving a new
/// contiguous tensor of `dtype`: the fast form of `mapBinary`, with `F.apply` inlined.
@inline(__always)
func mapBinary<F: BinaryFunction>(_ a: Tensor, _ b: Tensor, op: String, _: F.Type, to dtype: DType) -> Tensor {
    typealias T = F.Input
    typealias U = F.Output
    let shape = a.shape == b.shape ? a.shape
        : orStop { () throws(TensorError) in try broadcastShapes(a.shape, b.shape, op: op) }
    let out = Tensor(uninitializedShape: shape, dtype: dtype)
    let pa = UnsafePointer(a.pointer(as: T.self)), pb = UnsafePointer(b.pointer(as: T.self))
    let po = out.pointer(as: U.self)
    if a.shape == b.shape && a.isContiguous && b.isContiguous {
        ThreadPool.shared.parallelFor(out.count, grain: ThreadPool.minParallelElements) { range in
            for i in range { po[i] = F.apply(pa[i], pb[i]) }
        }
        return out
    }
    let plan = StridedPlan(shape: shape, operandStrides: [out.strides, a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)])
    let sa = plan.innerStrides[1], sb = plan.innerStrides[2]
    plan.parallelSegments { offsets, n in
        let o = po + offsets[0], x = pa + offsets[1], y = pb + offsets[2]
        if sa == 1 && sb == 1 {
            for i in 0..<n { o[i] = F.apply(x[i], y[i]) }
        } else if sa == 1 && sb == 0 {
            let yv = y[0]
            for i in 0..<n { o[i] = F.apply(x[i], yv) }
        } else if sa == 0 && sb == 1 {
            let xv = x[0]
            for i in 0..<n { o[i] = F.apply(xv, y[i]) }
        } else {
            for i in 0..<n { o[i] = F.apply(x[i * sa], y[i * sb]) }
        }
    }
    return out
}

/// Applies `f` to broadcast triples (`condition` of element type `C`, `a` and `b` of `T`).
@inline(__always)
func mapTernary<C, T, U>(_ c: Tensor, _ a: Tensor, _ b: Tensor, op: String, _: C.Type, _: T.Type,
                         to dtype: DType, _: U.Type, _ f: (C, T, T) -> U) -> Tensor {
    let shape = orStop { () throws(TensorError) in
        try broadcastShapes(try broadcastShapes(c.shape, a.shape, op: op), b.shape, op: op)
    }
    let out = Tensor(uninitializedShape: shape, dtype: dtype)
    let pc = UnsafePointer(c.pointer(as: C.self))
    let pa = UnsafePointer(a.pointer(as: T.self)), pb = UnsafePointer(b.pointer(as: T.self))
    let po = out.pointer(as: U.self)
    let plan = StridedPlan(shape: shape, operandStrides: [out.strides, c.broadcastStrides(to: shape),
                                                          a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)])
    let s = plan.innerStrides
    plan.parallelSegments { offsets, n in
        let o = po + offsets[0], z = pc + offsets[1], x = pa + offsets[2], y = pb + offsets[3]
        for i in 0..<n { o[i] = f(z[i * s[1]], x[i * s[2]], y[i * s[3]]) }
    }
    return out
}

/// Stops because `op` was given a tensor of a dtype it does not support.
func unsupportedDType(_ dtype: DType, op: String, expected: String = "float32 or float64") -> Never {
    fatalError(TensorError(op: op, "needs a \(expected) tensor, got \(dtype); convert with .to(.float32)").description)
}
