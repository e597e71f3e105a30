// Sums over any set of axes, the reduction other reductions and every broadcast gradient use.

/// Which axes a reduction removes, validated and sorted.
func reductionAxes(_ axes: [Int]?, rank: Int, op: String) -> [Int] {
    guard let axes else { return Array(0..<rank) }
    let normalized = axes.map { normalizeAxis($0, rank: rank, op: op) }
    guard Set(normalized).count == normalized.count else {
        fatalError(TensorError(op: op, "axes \(axes) repeat an axis; list each axis once").description)
    }
    return normalized.sorted()
}

/// The shape after reducing `axes` (kept as size 1 with `keepDims`).
func reducedShape(_ shape: [Int], axes: [Int], keepDims: Bool) -> [Int] {
    var result: [Int] = []
    for (axis, size) in shape.enumerated() {
        if !axes.contains(axis) { result.append(size) } else if keepDims { result.append(1) }
    }
    return result
}

extension Tensor {
    /// The sum over `axes` (all axes when nil), keeping them as size 1 with `keepDims`.
    ///
    /// The order of additions depends only on the shape, never on the thread count, so
    /// the result is bitwise reproducible.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, rank: rank, op: "sum")
        let out: Tensor
        switch dtype {
        case .float32: out = sumKernel(Float.self, axes: axes, keepDims: keepDims)
        case .float64: out = sumKernel(Double.self, axes: axes, keepDims: keepDims)
        case .int64: out = sumKernel(Int64.self, axes: axes, keepDims: keepDims)
        case .bool: return to(.int64).sum(axes: axes, keepDims: keepDims)
        }
        if needsGrad(self) {
            let keptShape = reducedShape(shape, axes: axes, keepDims: true), inputShape = shape
            out.recorded("sum", [self]) { g, _ in [g.reshaped(keptShape).expanded(to: inputShape)] }
        }
        return out
    }

    /// The sum over one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// The mean over `axes` (all axes when nil). Integer tensors give float32.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, rank: rank, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        let source = dtype.isFloatingPoint ? self : to(.float32)
        return source.sum(axes: axes, keepDims: keepDims) / Double(n)
    }

    /// The mean over one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    private func sumKernel<T: TensorScalar & AdditiveArithmetic>(_: T.Type, axes: [Int], keepDims: Bool) -> Tensor {
        let out = Tensor(uninitializedShape: reducedShape(shape, axes: axes, keepDims: keepDims), dtype: dtype)
        let po = out.pointer(as: T.self)
        po.initialize(repeating: .zero, count: out.count)
        // Iterate the input; the output is read with stride 0 along reduced axes.
        var outStrides = [Int](repeating: 0, count: rank)
        var running = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) where !axes.contains(axis) {
            outStrides[axis] = running
            running *= shape[axis]
        }
        let plan = StridedPlan(shape: shape, operandStrides: [outStrides, strides])
        let pi = UnsafePointer(pointer(as: T.self))
        let so = plan.innerStrides[0], si = plan.innerStrides[1]
        plan.forEachSegment(0..<count) { offsets, n in
            let o = po + offsets[0], x = pi + offsets[1]
            if so == 0 {
                o[0] += blockedSum(x, stride: si, count: n)
            } else if si == 1 {
                for i in 0..<n { o[i] += x[i] }
            } else {
                for i in 0..<n { o[i * so] += x[i * si] }
            }
        }
        return out
    }
}

/// Sum of `count` elements with eight independent accumulators (vectorizable, and more
/// accurate than one running sum), combined in a fixed order.
@inline(__always)
func blockedSum<T: AdditiveArithmetic>(_ x: UnsafePointer<T>, stride: Int, count: Int) -> T {
    var acc = (T.zero, T.zero, T.zero, T.zero, T.zero, T.zero, T.zero, T.zero)
    var i = 0
    if stride == 1 {
        while i + 8 <= count {
            acc.0 += x[i]; acc.1 += x[i + 1]; acc.2 += x[i + 2]; acc.3 += x[i + 3]
            acc.4 += x[i + 4]; acc.5 += x[i + 5]; acc.6 += x[i + 6]; acc.7 += x[i + 7]
            i += 8
        }
    }
    var tail = T.zero
    while i < count { tail += x[i * stride]; i += 1 }
    return ((acc.0 + acc.4) + (acc.1 + acc.5)) + ((acc.2 + acc.6) + (acc.3 + acc.7)) + tail
}
