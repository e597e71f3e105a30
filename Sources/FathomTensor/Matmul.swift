import CBLAS

// Matrix products with PyTorch's `matmul` semantics, on OpenBLAS GEMM.

extension Tensor {
    /// The matrix product, like `torch.matmul`:
    /// - 1-d · 1-d: the dot product (a 0-d tensor);
    /// - 2-d · 2-d: the matrix product `[n, k] · [k, m] -> [n, m]`;
    /// - a 1-d operand is treated as a row (left) or column (right) vector and that axis is
    ///   removed from the result;
    /// - higher ranks: batches of matrices over the leading axes, which broadcast
    ///   (`[b, n, k] · [k, m]`, `[1, b, n, k] · [a, 1, k, m]`).
    ///
    /// Both operands must have the same floating dtype. Transposed views (`x.T`) are read
    /// in place, without a copy.
    public func matmul(_ other: Tensor) -> Tensor {
        orStop { () throws(TensorError) in try matmul(validating: other) }
    }

    /// Like `matmul(_:)` but throws when the shapes or dtypes do not fit, for shapes that
    /// come from user input.
    public func matmul(validating other: Tensor) throws(TensorError) -> Tensor {
        _ = try matmulResultShape(shape, other.shape)
        try matmulCheckDTypes(dtype, other.dtype)
        let a = rank == 1 ? reshaped([1, shape[0]]) : self
        let b = other.rank == 1 ? other.reshaped([other.shape[0], 1]) : other
        let product = matmulMatrices(a, b)
        switch (rank, other.rank) {
        case (1, 1): return product.reshaped([])
        case (1, _): return product.squeezed(axis: -2)
        case (_, 1): return product.squeezed(axis: -1)
        default: return product
        }
    }
}

/// The matrix product `a · b` (see `Tensor.matmul`).
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor { a.matmul(b) }

/// The shape of `matmul` of operands with these shapes, or the error that names both.
func matmulResultShape(_ a: [Int], _ b: [Int]) throws(TensorError) -> [Int] {
    guard !a.isEmpty, !b.isEmpty else {
        throw TensorError(op: "matmul", "both operands need at least one axis, got shapes \(describe(a)) and \(describe(b)); use * to multiply by a scalar")
    }
    let k1 = a[a.count - 1]
    let k2 = b.count == 1 ? b[0] : b[b.count - 2]
    guard k1 == k2 else {
        let what = a.count == 1 && b.count == 1 ? "vectors have different lengths"
            : "the inner sizes differ (\(k1) columns on the left, \(k2) rows on the right)"
        throw TensorError(op: "matmul", "shapes \(describe(a)) and \(describe(b)) cannot be multiplied: \(what); transpose or reshape an operand so that they match")
    }
    let batchA = a.count > 2 ? Array(a[..<(a.count - 2)]) : []
    let batchB = b.count > 2 ? Array(b[..<(b.count - 2)]) : []
    let batch: [Int]
    do {
        batch = try broadcastShapes(batchA, batchB, op: "matmul")
    } catch {
        throw TensorError(op: "matmul", "shapes \(describe(a)) and \(describe(b)) have batch axes \(describe(batchA)) and \(describe(batchB)) that cannot be broadcast; batch sizes must be equal or 1")
    }
    var result = batch
    if a.count >= 2 { result.append(a[a.count - 2]) }
    if b.count >= 2 { result.append(b[b.count - 1]) }
    return result
}

func matmulCheckDTypes(_ a: DType, _ b: DType) throws(TensorError) {
    guard a == b else {
        throw TensorError(op: "matmul", "operands have dtypes \(a) and \(b); convert one with .to(.\(a.isFloatingPoint ? a : b)) so both match")
    }
    guard a.isFloatingPoint else {
        throw TensorError(op: "matmul", "needs float32 or float64 operands, got \(a); convert with .to(.float32)")
    }
}

/// The product of two tensors of rank ≥ 2 with broadcast batch axes, recorded for autodiff.
private func matmulMatrices(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out: Tensor
    switch a.dtype {
    case .float32: out = gemmBatched(a, b, Float.self)
    case .float64: out = gemmBatched(a, b, Double.self)
    default: unsupportedDType(a.dtype, op: "matmul")
    }
    if needsGrad(a, b) {
        out.recorded("matmul", [a, b]) { g, _ in
            [a.requiresGrad ? g.matmul(b.transposed()).sumToShape(a.shape) : nil,
             b.requiresGrad ? a.transposed().matmul(g).sumToShape(b.shape) : nil]
        }
    }
    return out
}

/// How BLAS can read one matrix of an operand in place: transposed or not, and the leading
/// dimension. Nil when the layout needs a copy (e.g. a non-unit stride on both axes).
private func blasLayout(rows: Int, columns: Int, rowStride: Int, columnStride: Int) -> (transposed: Bool, ld: Int)? {
    // Row-major: unit column stride, rows at least `columns` apart.
    if columnStride == 1 || columns <= 1 {
        if rows <= 1 { return (false, max(columns, 1)) }
        if rowStride >= max(columns, 1) { return (false, rowStride) }
    }
    // Column-major (a transposed row-major matrix): unit row stride.
    if rowStride == 1 || rows <= 1 {
        if columns <= 1 { return (true, max(rows, 1)) }
        if columnStride >= max(rows, 1) { return (true, columnStride) }
    }
    return nil
}

/// One operand prepared for GEMM: a base pointer, its BLAS layout, and per-batch offsets.
private struct GemmOperand<T> {
    let base: UnsafePointer<T>
    let transposed: Bool
    let ld: Int
    let batchStrides: [Int]
    /// Keeps a copy alive when one was needed.
    let owner: Tensor
}

private func prepare<T>(_ x: Tensor, batch: [Int], _: T.Type) -> GemmOperand<T> {
    let r = x.rank
    let rows = x.shape[r - 2], columns = x.shape[r - 1]
    var source = x
    var layout = blasLayout(rows: rows, columns: columns, rowStride: x.strides[r - 2], columnStride: x.strides[r - 1])
    if layout == nil {
        source = x.detach().contiguous()
        layout = (false, max(columns, 1))
    }
    // Strides of the batch axes, aligned to the full batch shape (0 where broadcast).
    let batchShape = Array(source.shape[..<(r - 2)])
    var batchStrides = [Int](repeating: 0, count: batch.count)
    let lead = batch.count - batchShape.count
    for axis in batchShape.indices where batchShape[axis] != 1 {
        batchStrides[axis + lead] = source.strides[axis]
    }
    return GemmOperand(base: UnsafePointer(source.pointer(as: T.self)), transposed: layout!.transposed,
                       ld: layout!.ld, batchStrides: batchStrides, owner: source)
}

/// `a · b` for rank ≥ 2 operands of element type `T`, into a new contiguous tensor.
private func gemmBatched<T: FloatScalar>(_ a: Tensor, _ b: Tensor, _: T.Type) -> Tensor {
    let shape = orStop { () throws(TensorError) in try matmulResultShape(a.shape, b.shape) }
    let out = Tensor(uninitializedShape: shape, dtype: a.dtype)
    let n = a.shape[a.rank - 2], k = a.shape[a.rank - 1], m = b.shape[b.rank - 1]
    let batch = Array(shape[..<(shape.count - 2)])
    let batchCount = batch.reduce(1, *)
    let c = out.pointer(as: T.self)
    if out.count == 0 { return out }
    if k == 0 {
        c.initialize(repeating: 0, count: out.count)
        return out
    }
    // A batch of rows times one shared matrix is a single GEMM with the batch folded into rows.
    let bIsShared = b.rank == 2 || b.shape[..<(b.rank - 2)].allSatisfy { $0 == 1 }
    if bIsShared && batchCount > 1 && a.isContiguous && a.rank == shape.count {
        let bm = b.rank == 2 ? b : b.view(shape: [k, m], strides: Array(b.strides.suffix(2)), offset: b.offset)
        let pb = prepare(bm, batch: [], T.self)
        let pa = UnsafePointer(a.pointer(as: T.self))
        gemm(T.self, transA: false, transB: pb.transposed, m: batchCount * n, n: m, k: k,
             a: pa, lda: max(k, 1), b: pb.base, ldb: pb.ld, c: c, ldc: m)
        withExtendedLifetime(pb.owner) {}
        return out
    }
    let pa = prepare(a, batch: batch, T.self), pb = prepare(b, batch: batch, T.self)
    var index = [Int](repeating: 0, count: batch.count)
    var offsetA = 0, offsetB = 0
    for item in 0..<batchCount {
        gemm(T.self, transA: pa.transposed, transB: pb.transposed, m: n, n: m, k: k,
             a: pa.base + offsetA, lda: pa.ld, b: pb.base + offsetB, ldb: pb.ld, c: c + item * n * m, ldc: m)
        // Odometer over the batch axes.
        var axis = batch.count - 1
        while axis >= 0 {
            index[axis] += 1
            offsetA += pa.batchStrides[axis]
            offsetB += pb.batchStrides[axis]
            if index[axis] < batch[axis] { break }
            offsetA -= pa.batchStrides[axis] * batch[axis]
            offsetB -= pb.batchStrides[axis] * batch[axis]
            index[axis] = 0
            axis -= 1
        }
    }
    withExtendedLifetime((pa.owner, pb.owner)) {}
    return out
}

/// Row-major `C = op(A) · op(B) + beta·C` through OpenBLAS (`sgemm` for Float, `dgemm`
/// for Double), bitwise identical for any thread count. With `beta = 0`, `C` need not be
/// initialized.
///
/// OpenBLAS blocks a long inner dimension differently when it runs threaded (level3_thread.c
/// halves a remainder between GEMM_Q and 2·GEMM_Q with another rounding than level3.c;
/// measured: K = 1000 differs in the last bit between 1 and 2 threads), so K is cut here
/// into equal slices no longer than any core's GEMM_Q, accumulated in a fixed order.
@inline(__always)
func gemm<T: FloatScalar>(_: T.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                          a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                          c: UnsafeMutablePointer<T>, ldc: Int, beta: Double = 0) {
    BLAS.ensureConfigured()
    guard BLAS.threading == .pool else {
        gemmDepthSliced(T.self, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                        c: c, ldc: ldc, beta: beta)
        return
    }
    let tiling = GemmTiling(m: m, n: n, k: k)
    if tiling.count == 1 {
        if m == 0 || n == 0 { return }
        gemmSlice(T.self, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                        c: c, ldc: ldc, beta: beta)
        return
    }
    // Each tile is a whole single-threaded GEMM on a block of C; the blocks depend only on
    // the sizes, so the bits do not depend on how many threads take them. Single-threaded
    // OpenBLAS blocks K the same way every time, so K needs no slicing here.
    ThreadPool.shared.parallelFor(tiling.count, grain: 1) { tiles in
        for tile in tiles {
            let (rows, columns) = tiling.block(tile)
            gemmSlice(T.self, transA: transA, transB: transB, m: rows.count, n: columns.count, k: k,
                            a: a + (transA ? rows.lowerBound : rows.lowerBound * lda), lda: lda,
                            b: b + (transB ? columns.lowerBound * ldb : columns.lowerBound), ldb: ldb,
                            c: c + rows.lowerBound * ldc + columns.lowerBound, ldc: ldc, beta: beta)
        }
    }
}

/// How a GEMM's output is cut into blocks that the pool runs side by side: a grid of
/// `rowParts × columnParts` blocks whose edges are multiples of 16 (OpenBLAS's register
/// tile), from the sizes alone — about one block per million multiply-adds, at most 8,
/// always halving the longer side.
struct GemmTiling {
    let m: Int, n: Int
    private(set) var rowParts = 1, columnParts = 1
    var count: Int { rowParts * columnParts }

    static let multiplyAddsPerBlock = 1 << 20
    static let maxBlocks = 8

    init(m: Int, n: Int, k: Int) {
        self.m = m
        self.n = n
        let work = m * n * k
        while rowParts * columnParts * 2 <= GemmTiling.maxBlocks,
              work >= rowParts * columnParts * 2 * GemmTiling.multiplyAddsPerBlock {
            let rowSide = m / rowParts, columnSide = n / columnParts
            if columnSide >= rowSide && columnSide >= 64 {
                columnParts *= 2
            } else if rowSide >= 64 {
                rowParts *= 2
            } else {
                break
            }
        }
    }

    /// Rows and columns of C in block `index` (row-major over the grid).
    func block(_ index: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        func edge(_ i: Int, _ parts: Int, _ length: Int) -> Int {
            i == parts ? length : Swift.min(length, (length * i / parts + 8) / 16 * 16)
        }
        let r = index / columnParts, c = index % columnParts
        return (edge(r, rowParts, m) ..< edge(r + 1, rowParts, m), edge(c, columnParts, n) ..< edge(c + 1, columnParts, n))
    }
}

/// `gemm` on one thread's share: K cut into equal slices no longer than `gemmDepthSlice`.
@inline(__always)
private func gemmDepthSliced<T: FloatScalar>(_: T.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                             a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                             c: UnsafeMutablePointer<T>, ldc: Int, beta: Double) {
    if m == 0 || n == 0 { return }
    let slices = Swift.max(1, (k + gemmDepthSlice - 1) / gemmDepthSlice)
    let depth = (k + slices - 1) / slices
    var k0 = 0
    repeat {
        let d = Swift.min(depth, k - k0)
        gemmSlice(T.self, transA: transA, transB: transB, m: m, n: n, k: d,
                  a: a + (transA ? k0 * lda : k0), lda: lda, b: b + (transB ? k0 : k0 * ldb), ldb: ldb,
                  c: c, ldc: ldc, beta: k0 > 0 ? 1 : beta)
        k0 += d
    } while k0 < k
}

/// The longest inner dimension handed to OpenBLAS in one call: at most the GEMM_Q of the
/// cores it selects here (SkylakeX/Cooperlake/Haswell use 256–384), so it never splits K.
let gemmDepthSlice = 256

/// One OpenBLAS call.
@inline(__always)
private func gemmSlice<T: FloatScalar>(_: T.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                          a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                          c: UnsafeMutablePointer<T>, ldc: Int, beta: Double = 0) {
    // OpenBLAS brings its own threads: idle pool workers must not spin against them.
    if BLAS.threading == .openBLAS { ThreadPool.shared.parkWorkers() }
    let ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans
    if T.self == Float.self {
        cblas_sgemm(CblasRowMajor, ta, tb, blasint(m), blasint(n), blasint(k), 1,
                    UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), blasint(lda),
                    UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), blasint(ldb), Float(beta),
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), blasint(ldc))
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, blasint(m), blasint(n), blasint(k), 1,
                    UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), blasint(lda),
                    UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), blasint(ldb), beta,
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), blasint(ldc))
    }
}
