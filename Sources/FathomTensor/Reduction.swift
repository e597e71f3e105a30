// Sums over any set of axes, the reduction other reductions and every broadcast gradient
// use, and the parallel, deterministic driver that every reduction kernel runs on.

/// Which axes a reduction removes, validated and sorted.
func reductionAxes(_ axes: [Int]?, rank: Int, op: String) -> [Int] {
    orStop { () throws(TensorError) in try validatedReductionAxes(axes, rank: rank, op: op) }
}

/// The throwing form of `reductionAxes`, for axes that come from user input.
func validatedReductionAxes(_ axes: [Int]?, rank: Int, op: String) throws(TensorError) -> [Int] {
    guard let axes else { return Array(0..<rank) }
    var normalized: [Int] = []
    for axis in axes {
        let a = axis < 0 ? axis + rank : axis
        // A rank-0 tensor accepts axis 0 / -1, as PyTorch does.
        guard a >= 0, a < max(rank, 1) else {
            throw TensorError(op: op, "axis \(axis) is out of range for a tensor of rank \(rank); use an axis in \(-max(rank, 1))..<\(max(rank, 1))")
        }
        normalized.append(a)
    }
    guard Set(normalized).count == normalized.count else {
        throw TensorError(op: op, "axes \(axes) repeat an axis; list each axis once")
    }
    return normalized.filter { $0 < rank }.sorted()
}

/// The shape after reducing `axes` (kept as size 1 with `keepDims`).
func reducedShape(_ shape: [Int], axes: [Int], keepDims: Bool) -> [Int] {
    var result: [Int] = []
    for (axis, size) in shape.enumerated() {
        if !axes.contains(axis) { result.append(size) } else if keepDims { result.append(1) }
    }
    return result
}

/// Elements of the reduced extent summed by one work item of the row strategy. Fixed, so
/// the order of additions depends only on the shape, never on the thread count.
let reductionBlock = 16_384
/// Reduced positions (rows) folded by one work item of the column strategy.
let columnReductionBlock = 4_096
/// Output columns one work item of the column strategy accumulates at once.
let columnChunk = 256

/// How a reduction reads its input: the kept axes in output order and the reduced axes in
/// memory order (largest stride first), each with size-1 axes dropped and mergeable axes
/// merged.
struct ReductionLayout {
    var keptSizes: [Int] = [], keptStrides: [Int] = []
    var reducedSizes: [Int] = [], reducedStrides: [Int] = []
    /// Number of outputs and number of elements folded into each.
    let outputs: Int, extent: Int

    init(shape: [Int], strides: [Int], axes: [Int]) {
        var kept: [(Int, Int)] = [], reduced: [(Int, Int)] = []
        for axis in shape.indices where shape[axis] != 1 {
            if axes.contains(axis) { reduced.append((shape[axis], strides[axis])) } else { kept.append((shape[axis], strides[axis])) }
        }
        // Reading the reduced elements in memory order is fastest; any fixed order is deterministic.
        reduced = reduced.enumerated().sorted { a, b in
            a.element.1 != b.element.1 ? a.element.1 > b.element.1 : a.offset < b.offset
        }.map(\.element)
        func merged(_ axes: [(Int, Int)]) -> ([Int], [Int]) {
            var sizes: [Int] = [], strides: [Int] = []
            for (size, stride) in axes {
                if let last = sizes.indices.last, strides[last] == stride * size {
                    sizes[last] *= size
                    strides[last] = stride
                } else {
                    sizes.append(size)
                    strides.append(stride)
                }
            }
            return (sizes, strides)
        }
        (keptSizes, keptStrides) = merged(kept)
        (reducedSizes, reducedStrides) = merged(reduced)
        outputs = keptSizes.reduce(1, *)
        extent = reducedSizes.reduce(1, *)
    }

    /// Input offset of output `index` (row-major over the kept axes).
    @inline(__always)
    func keptOffset(_ index: Int) -> Int {
        if keptSizes.count == 1 { return index * keptStrides[0] }
        var remainder = index, offset = 0
        for axis in stride(from: keptSizes.count - 1, through: 0, by: -1) {
            offset += (remainder % keptSizes[axis]) * keptStrides[axis]
            remainder /= keptSizes[axis]
        }
        return offset
    }

    /// The walk over the reduced elements (offsets relative to an output's base).
    var reducedPlan: StridedPlan {
        StridedPlan(shape: reducedSizes.isEmpty ? [1] : reducedSizes,
                    operandStrides: [reducedStrides.isEmpty ? [0] : reducedStrides])
    }
}

/// Folds `map(x)` over the reduced axes of `input` with `combine` (associative, starting
/// from `identity`) into `output`, a contiguous buffer of `layout.outputs` elements.
///
/// Work is split into fixed blocks of the reduced extent and partial results are combined
/// in block order, so the result is bitwise identical for any thread count. When the
/// reduced elements are strided but the outputs are contiguous in memory (a reduction over
/// a leading axis), rows are accumulated into a vector of outputs instead (vectorizes).
@inline(__always)
func reduceInto<R: Reducer>(_ input: UnsafePointer<R.Input>, layout: ReductionLayout,
                            output: UnsafeMutablePointer<R.Output>, identity: R.Output, reducer: R) {
    typealias U = R.Output
    let m = layout.outputs, n = layout.extent
    guard m > 0 else { return }
    guard n > 0 else {
        output.initialize(repeating: identity, count: m)
        return
    }
    let plan = layout.reducedPlan
    let innerStride = plan.innerStrides[0]
    let keptInnerStride = layout.keptStrides.last ?? 0
    let useColumns = m > 1 && keptInnerStride == 1 && innerStride != 1

    if useColumns {
        let width = layout.keptSizes.last!
        let outerCount = m / width
        let chunks = (width + columnChunk - 1) / columnChunk
        let blocks = (n + columnReductionBlock - 1) / columnReductionBlock
        // partial[b] holds block b's fold of every output; combined in block order below.
        let partial = blocks == 1 ? output : UnsafeMutablePointer<U>.allocate(capacity: m * blocks)
        defer { if blocks > 1 { partial.deallocate() } }
        let items = outerCount * chunks * blocks
        let perItem = min(n, columnReductionBlock) * min(width, columnChunk)
        ThreadPool.shared.parallelFor(items, grain: max(1, ThreadPool.minParallelElements / perItem)) { range in
            for item in range {
                let block = item % blocks, chunk = (item / blocks) % chunks, outer = item / (blocks * chunks)
                let c0 = chunk * columnChunk, w = min(columnChunk, width - c0)
                let outIndex = outer * width + c0
                let base = input + layout.keptOffset(outIndex)
                let acc = partial + block * m + outIndex
                acc.initialize(repeating: identity, count: w)
                let r0 = block * columnReductionBlock
                plan.forEachSegment(r0..<min(r0 + columnReductionBlock, n)) { offsets, count in
                    for t in 0..<count {
                        let row = base + offsets[0] + t * innerStride
                        for j in 0..<w { acc[j] = reducer.combine(acc[j], reducer.map(row[j])) }
                    }
                }
            }
        }
        if blocks > 1 {
            ThreadPool.shared.parallelFor(m, grain: max(1, ThreadPool.minParallelElements / blocks)) { range in
                for o in range {
                    var total = partial[o]
                    for b in 1..<blocks { total = reducer.combine(total, partial[b * m + o]) }
                    (output + o).initialize(to: total)
                }
            }
        }
        return
    }

    let blocks = (n + reductionBlock - 1) / reductionBlock
    let partial = blocks == 1 ? output : UnsafeMutablePointer<U>.allocate(capacity: m * blocks)
    defer { if blocks > 1 { partial.deallocate() } }
    let perItem = min(n, reductionBlock)
    ThreadPool.shared.parallelFor(m * blocks, grain: max(1, ThreadPool.minParallelElements / perItem)) { range in
        for item in range {
            let o = item / blocks, block = item % blocks
            let base = input + layout.keptOffset(o)
            var acc = identity
            let e0 = block * reductionBlock
            plan.forEachSegment(e0..<min(e0 + reductionBlock, n)) { offsets, count in
                acc = reducer.combine(acc, blockedFold(base + offsets[0], stride: innerStride, count: count,
                                                       identity: identity, reducer: reducer))
            }
            (partial + item).initialize(to: acc)
        }
    }
    if blocks > 1 {
        for o in 0..<m {
            // Fold the block partials of output o with eight accumulators, in a fixed order.
            let total = blockedFold(UnsafePointer(partial + o * blocks), stride: 1, count: blocks,
                                    identity: identity, reducer: reducer.combining)
            (output + o).initialize(to: total)
        }
    }
}

/// Folds `count` elements with eight independent accumulators (vectorizable, and more
/// accurate than one running sum), combined in a fixed order.
@inline(__always)
func blockedFold<R: Reducer>(_ x: UnsafePointer<R.Input>, stride: Int, count: Int, identity: R.Output,
                             reducer: R) -> R.Output {
    var a0 = identity, a1 = identity, a2 = identity, a3 = identity
    var a4 = identity, a5 = identity, a6 = identity, a7 = identity
    var i = 0
    if stride == 1 {
        while i + 8 <= count {
            a0 = reducer.combine(a0, reducer.map(x[i])); a1 = reducer.combine(a1, reducer.map(x[i + 1]))
            a2 = reducer.combine(a2, reducer.map(x[i + 2])); a3 = reducer.combine(a3, reducer.map(x[i + 3]))
            a4 = reducer.combine(a4, reducer.map(x[i + 4])); a5 = reducer.combine(a5, reducer.map(x[i + 5]))
            a6 = reducer.combine(a6, reducer.map(x[i + 6])); a7 = reducer.combine(a7, reducer.map(x[i + 7]))
            i += 8
        }
    }
    var tail = identity
    while i < count { tail = reducer.combine(tail, reducer.map(x[i * stride])); i += 1 }
    let c = reducer
    return c.combine(c.combine(c.combine(c.combine(a0, a4), c.combine(a1, a5)), c.combine(c.combine(a2, a6), c.combine(a3, a7))), tail)
}

/// Sum of `count` elements (the fold with `+`), kept for kernels that sum a run.
@inline(__always)
func blockedSum<T: AdditiveArithmetic>(_ x: UnsafePointer<T>, stride: Int, count: Int) -> T {
    blockedFold(x, stride: stride, count: count, identity: T.zero, reducer: SumReducer<T>())
}

extension Tensor {
    /// Runs `reduceInto` over `axes` of this tensor, giving a new tensor of `dtype`.
    @inline(__always)
    func reduced<R: Reducer>(axes: [Int], keepDims: Bool, to dtype: DType, identity: R.Output, _ reducer: R) -> Tensor {
        precondition(MemoryLayout<R.Output>.size == dtype.byteSize && MemoryLayout<R.Input>.size == self.dtype.byteSize,
                     "Fathom internal error: reduction element types \(R.Input.self) -> \(R.Output.self) do not match \(self.dtype) -> \(dtype)")
        let out = Tensor(uninitializedShape: reducedShape(shape, axes: axes, keepDims: keepDims), dtype: dtype)
        let layout = ReductionLayout(shape: shape, strides: strides, axes: axes)
        reduceInto(UnsafePointer(pointer(as: R.Input.self)), layout: layout, output: out.pointer(as: R.Output.self),
                   identity: identity, reducer: reducer)
        return out
    }

    /// The sum over `axes` (all axes when nil), keeping them as size 1 with `keepDims`.
    /// Bool tensors sum as int64.
    ///
    /// Runs in parallel; the order of additions depends only on the shape and layout,
    /// never on the thread count, so the result is bitwise reproducible.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, rank: rank, op: "sum")
        let out: Tensor
        switch dtype {
        case .float32: out = reduced(axes: axes, keepDims: keepDims, to: .float32, identity: 0, SumReducer<Float>())
        case .float64: out = reduced(axes: axes, keepDims: keepDims, to: .float64, identity: 0, SumReducer<Double>())
        case .int64: out = reduced(axes: axes, keepDims: keepDims, to: .int64, identity: 0, WrappingSumReducer<Int64>())
        case .bool: return reduced(axes: axes, keepDims: keepDims, to: .int64, identity: Int64(0), TrueCountReducer())
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

    /// `g` (the gradient of a reduction's output) broadcast back over the reduced axes.
    func expandedGradient(_ g: Tensor, axes: [Int], inputShape: [Int]) -> Tensor {
        g.reshaped(reducedShape(inputShape, axes: axes, keepDims: true)).expanded(to: inputShape)
    }
}
