/// A walk over an n-d index space shared by up to four operands (output first), row by row.
///
/// Axes that can be merged for every operand are merged, so a contiguous tensor is one
/// long row and a broadcast over the leading axis is a short loop of long rows. Kernels
/// get, for each row, every operand's element offset and inner stride and run a flat
/// loop there; the fast cases are inner strides of 1 (contiguous) and 0 (broadcast scalar).
struct StridedPlan {
    /// Sizes of the merged axes; the last is the row length.
    private(set) var shape: [Int]
    /// Per merged axis, the stride of each operand (unused lanes are zero).
    private(set) var strides: [SIMD4<Int>]
    /// Number of elements.
    let count: Int

    /// - Parameters:
    ///   - shape: the shape all operands are iterated in (the output's shape).
    ///   - operandStrides: each operand's strides in that shape (0 on broadcast axes).
    init(shape: [Int], operandStrides: [[Int]]) {
        precondition(operandStrides.count <= 4 && operandStrides.allSatisfy { $0.count == shape.count })
        count = shape.reduce(1, *)
        var mergedShape: [Int] = []
        var mergedStrides: [SIMD4<Int>] = []
        for axis in shape.indices where shape[axis] != 1 {
            var s = SIMD4<Int>(repeating: 0)
            for (k, operand) in operandStrides.enumerated() { s[k] = operand[axis] }
            if let lastSize = mergedShape.last, let lastStrides = mergedStrides.last,
               lastStrides == s &* shape[axis] {
                mergedShape[mergedShape.count - 1] = lastSize * shape[axis]
                mergedStrides[mergedStrides.count - 1] = s
            } else {
                mergedShape.append(shape[axis])
                mergedStrides.append(s)
            }
        }
        if mergedShape.isEmpty {
            mergedShape = [1]
            mergedStrides = [SIMD4<Int>(repeating: 0)]
        }
        self.shape = mergedShape
        self.strides = mergedStrides
    }

    /// Length of one row (the innermost merged axis).
    var rowLength: Int { shape[shape.count - 1] }
    /// Inner (row) stride of each operand.
    var innerStrides: SIMD4<Int> { strides[strides.count - 1] }

    /// Calls `body(offsets, length)` for each contiguous run of the elements `elements`
    /// (in row-major order), in order; `offsets[k]` is operand k's element offset at the
    /// start of the run. Runs never cross a row.
    @inline(__always)
    func forEachSegment(_ elements: Range<Int>, _ body: (SIMD4<Int>, Int) -> Void) {
        guard !elements.isEmpty else { return }
        let outer = shape.count - 1
        let length = rowLength
        let inner = strides[outer]
        if outer == 0 {
            // One row: no index arithmetic (divisions cost more than a short row's work).
            body(inner &* elements.lowerBound, elements.count)
            return
        }
        let row = elements.lowerBound / length
        var column = elements.lowerBound % length
        // Multi-index of the first row, then rows along the last outer axis with one add
        // each (short rows, as in broadcasts of [n, 1, k] against [1, m, k], are common);
        // the odometer over the axes before it runs only when that axis wraps. One call
        // site for `body`, so it is inlined.
        var index = [Int](repeating: 0, count: outer)
        var rowOffsets = SIMD4<Int>(repeating: 0)
        var remainder = row
        for axis in stride(from: outer - 1, through: 0, by: -1) {
            index[axis] = remainder % shape[axis]
            remainder /= shape[axis]
            rowOffsets &+= strides[axis] &* index[axis]
        }
        let rowAxis = outer - 1
        let rowStride = strides[rowAxis], rowsPerBlock = shape[rowAxis]
        var r = index[rowAxis]
        var remaining = elements.count
        while remaining > 0 {
            if r == rowsPerBlock {
                rowOffsets &-= rowStride &* rowsPerBlock
                r = 0
                var axis = rowAxis - 1
                while axis >= 0 {
                    index[axis] += 1
                    rowOffsets &+= strides[axis]
                    if index[axis] < shape[axis] { break }
                    rowOffsets &-= strides[axis] &* shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
            let n = min(length - column, remaining)
            body(rowOffsets &+ inner &* column, n)
            remaining -= n
            column = 0
            r += 1
            rowOffsets &+= rowStride
        }
    }

    /// Runs all elements in parallel chunks on the thread pool. Each element is written by
    /// exactly one thread, so the result does not depend on the number of threads.
    @inline(__always)
    func parallelSegments(_ body: (SIMD4<Int>, Int) -> Void) {
        ThreadPool.shared.parallelFor(count, grain: ThreadPool.minParallelElements) { range in
            forEachSegment(range, body)
        }
    }
}
