// The lowering shared by conv2d and convTranspose2d: the geometry of a 2-d convolution
// and the three kernels every convolution gradient is made of (forward, input gradient,
// weight gradient), each as im2col/col2im plus one OpenBLAS GEMM per block of images.

/// A pair of sizes for the two spatial axes (height, width), as PyTorch's `_pair`.
/// Write `2` for `(2, 2)` or `[2, 1]` / `Size2(2, 1)` for different sizes.
public struct Size2: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
                     CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// The same size on both axes.
    public init(_ both: Int) { self.init(both, both) }

    public init(integerLiteral value: Int) { self.init(value, value) }

    /// `[height, width]`; exactly two elements.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "Fathom.Size2: an array literal needs exactly two sizes [height, width], got \(elements)")
        self.init(elements[0], elements[1])
    }

    public var description: String { "(\(height), \(width))" }
}

/// The shapes of a 2-d convolution seen from the conv2d side: input `x` [N, C, H, W],
/// weight [O, C/groups, kH, kW], output `y` [N, O, OH, OW]. A transposed convolution uses
/// the same geometry with the roles of `x` and `y` swapped.
struct ConvGeometry: Equatable {
    var batch: Int
    var inChannels: Int, inH: Int, inW: Int
    var outChannels: Int, outH: Int, outW: Int
    var kH: Int, kW: Int
    var stride: Size2, padding: Size2, dilation: Size2
    var groups: Int

    var inShape: [Int] { [batch, inChannels, inH, inW] }
    var outShape: [Int] { [batch, outChannels, outH, outW] }
    var weightShape: [Int] { [outChannels, groupInChannels, kH, kW] }
    var groupInChannels: Int { inChannels / groups }
    var groupOutChannels: Int { outChannels / groups }
    /// Rows of one group's column matrix (and columns of its weight matrix).
    var columnRows: Int { groupInChannels * kH * kW }
    var inPlane: Int { inH * inW }
    var outPlane: Int { outH * outW }
    /// 1×1, stride 1, no padding: the input plane is already the column matrix.
    var isPointwise: Bool {
        kH == 1 && kW == 1 && stride == Size2(1) && padding == Size2(0)
    }

    /// Multiply-adds of the forward pass (backward costs twice as much).
    var multiplyAdds: Int { batch * outChannels * outPlane * columnRows }

    /// The output size along one axis, as PyTorch computes it (may be < 1 for bad inputs).
    static func outputSize(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
        let span = input + 2 * padding - dilation * (kernel - 1) - 1
        return span < 0 ? 0 : span / stride + 1
    }

    /// Images lowered together: their columns sit side by side so that one GEMM covers
    /// them, within a workspace of about `workspaceElements`. Depends only on the shapes.
    var blockImages: Int {
        if isPointwise { return 1 }
        let perImage = max(columnRows * outPlane, 1)
        return max(1, min(batch, ConvGeometry.workspaceElements / perImage))
    }

    static let workspaceElements = 1 << 21
}

/// Work items of `size` elements per parallel chunk, so each chunk is worth forking for.
@inline(__always)
func grain(itemSize: Int) -> Int { max(1, ThreadPool.minParallelElements / max(itemSize, 1)) }

// MARK: - lowering helpers (one block of `nb` images starting at `n0`, one group)

/// Writes the column matrix of images `n0..<n0+nb`, group `group`: row `(c·kH + kh)·kW + kw`,
/// column `b·L + oh·OW + ow` holds `x[n0+b, group·Cg + c, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW]`
/// (zero outside the image). `cols` has leading dimension `nb·L`.
func im2col<T: FloatScalar>(_ x: UnsafePointer<T>, _ geo: ConvGeometry, n0: Int, nb: Int, group: Int,
                            cols: UnsafeMutablePointer<T>) {
    let cg = geo.groupInChannels, plane = geo.inPlane, L = geo.outPlane, ld = nb * L
    let (H, W, OH, OW) = (geo.inH, geo.inW, geo.outH, geo.outW)
    let (kH, kW) = (geo.kH, geo.kW)
    let (sH, sW) = (geo.stride.height, geo.stride.width)
    let (pH, pW) = (geo.padding.height, geo.padding.width)
    let (dH, dW) = (geo.dilation.height, geo.dilation.width)
    ThreadPool.shared.parallelFor(cg * nb, grain: grain(itemSize: kH * kW * L)) { range in
        for item in range {
            let c = item / nb, b = item % nb
            let source = x + ((n0 + b) * geo.inChannels + group * cg + c) * plane
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let destination = cols + ((c * kH + kh) * kW + kw) * ld + b * L
                    let (owLo, owHi) = validRange(offset: kw * dW - pW, stride: sW, input: W, output: OW)
                    let wOffset = kw * dW - pW
                    for oh in 0..<OH {
                        let ih = oh * sH - pH + kh * dH
                        let row = destination + oh * OW
                        if ih < 0 || ih >= H {
                            row.initialize(repeating: 0, count: OW)
                            continue
                        }
                        row.initialize(repeating: 0, count: owLo)
                        let sourceRow = source + ih * W + wOffset
                        if sW == 1 {
                            for ow in owLo..<owHi { row[ow] = sourceRow[ow] }
                        } else {
                            for ow in owLo..<owHi { row[ow] = sourceRow[ow * sW] }
                        }
                        (row + owHi).initialize(repeating: 0, count: OW - owHi)
                    }
                }
            }
        }
    }
}

/// The inverse scatter of `im2col`: adds every column entry into the input position it
/// was read from. Each (image, channel) plane is owned by one task and summed in a fixed
/// order, so the result does not depend on the thread count. Overwrites the planes.
func col2im<T: FloatScalar>(_ cols: UnsafePointer<T>, _ geo: ConvGeometry, n0: Int, nb: Int, group: Int,
                            x: UnsafeMutablePointer<T>) {
    let cg = geo.groupInChannels, plane = geo.inPlane, L = geo.outPlane, ld = nb * L
    let (H, W, OH, OW) = (geo.inH, geo.inW, geo.outH, geo.outW)
    let (kH, kW) = (geo.kH, geo.kW)
    let (sH, sW) = (geo.stride.height, geo.stride.width)
    let (pH, pW) = (geo.padding.height, geo.padding.width)
    let (dH, dW) = (geo.dilation.height, geo.dilation.width)
    ThreadPool.shared.parallelFor(cg * nb, grain: grain(itemSize: kH * kW * L)) { range in
        for item in range {
            let c = item / nb, b = item % nb
            let destination = x + ((n0 + b) * geo.inChannels + group * cg + c) * plane
            destination.initialize(repeating: 0, count: plane)
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let source = cols + ((c * kH + kh) * kW + kw) * ld + b * L
                    let (owLo, owHi) = validRange(offset: kw * dW - pW, stride: sW, input: W, output: OW)
                    let wOffset = kw * dW - pW
                    for oh in 0..<OH {
                        let ih = oh * sH - pH + kh * dH
                        if ih < 0 || ih >= H { continue }
                        let row = source + oh * OW
                        let target = destination + ih * W + wOffset
                        if sW == 1 {
                            for ow in owLo..<owHi { target[ow] += row[ow] }
                        } else {
                            for ow in owLo..<owHi { target[ow * sW] += row[ow] }
                        }
                    }
                }
            }
        }
    }
}

/// The outputs `lo..<hi` whose input position `o·stride + offset` lies in `0..<input`.
@inline(__always)
func validRange(offset: Int, stride: Int, input: Int, output: Int) -> (Int, Int) {
    let lo = offset >= 0 ? 0 : min(output, (-offset + stride - 1) / stride)
    let last = input - 1 - offset
    let hi = last < 0 ? 0 : min(output, last / stride + 1)
    return (lo, max(lo, hi))
}

/// Copies group `group`'s channels of images `n0..<n0+nb` of `y` [N, O, L] into a
/// `[Og, nb·L]` matrix (images side by side), or back with `toTensor`.
func moveOutputBlock<T: FloatScalar>(_ y: UnsafeMutablePointer<T>, _ geo: ConvGeometry, n0: Int, nb: Int, group: Int,
                                     matrix: UnsafeMutablePointer<T>, toTensor: Bool) {
    let og = geo.groupOutChannels, L = geo.outPlane, ld = nb * L
    ThreadPool.shared.parallelFor(og * nb, grain: grain(itemSize: L)) { range in
        for item in range {
            let oc = item / nb, b = item % nb
            let plane = y + ((n0 + b) * geo.outChannels + group * og + oc) * L
            let row = matrix + oc * ld + b * L
            if toTensor { plane.update(from: row, count: L) } else { row.update(from: plane, count: L) }
        }
    }
}

/// Adds `bias[c]` to every element of channel `c` of a contiguous [N, C, plane] tensor.
func addChannelBias<T: FloatScalar>(_ out: UnsafeMutablePointer<T>, _ bias: UnsafePointer<T>,
                                    batch: Int, channels: Int, plane: Int) {
    ThreadPool.shared.parallelFor(batch * channels, grain: grain(itemSize: plane)) { range in
        for item in range {
            let b = bias[item % channels], p = out + item * plane
            for i in 0..<plane { p[i] += b }
        }
    }
}

/// `C (+)= op(A) · op(B)` as a sequence of GEMMs over fixed slices of the inner dimension.
///
/// OpenBLAS blocks the inner dimension differently when it runs threaded (level3_thread.c
/// halves a remainder between GEMM_Q and 2·GEMM_Q with another rounding than level3.c), so
/// one GEMM with a long inner dimension can differ in the last bit between thread counts.
/// Slices no longer than any core's GEMM_Q are summed in one block either way; the slices
/// are then accumulated in a fixed order, which keeps results thread-count independent.
@inline(__always)
func gemmInDepthChunks<T: FloatScalar>(_: T.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                       a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                       c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool = false) {
    var k0 = 0
    repeat {
        let depth = min(gemmDepthSlice, k - k0)
        gemm(T.self, transA: transA, transB: transB, m: m, n: n, k: depth,
             a: a + (transA ? k0 * lda : k0), lda: lda, b: b + (transB ? k0 : k0 * ldb), ldb: ldb,
             c: c, ldc: ldc, beta: accumulate || k0 > 0 ? 1 : 0)
        k0 += depth
    } while k0 < k
}

/// The inner-dimension slice of `gemmInDepthChunks`: at most GEMM_Q of the cores OpenBLAS
/// selects here (SkylakeX/Haswell use 256–384).
let gemmDepthSlice = 256

// MARK: - the three kernels (contiguous operands; results are new contiguous tensors)

/// Scratch memory for one kernel call, freed when the call ends.
struct Workspace<T> {
    let pointer: UnsafeMutablePointer<T>
    init(_ count: Int) { pointer = .allocate(capacity: max(count, 1)) }
    func free() { pointer.deallocate() }
}

/// y = conv(x, w) (+ bias): [N, C, H, W] ⊛ [O, C/g, kH, kW] -> [N, O, OH, OW].
func convForwardKernel<T: FloatScalar>(_ xt: Tensor, _ wt: Tensor, _ biasTensor: Tensor?, _ geo: ConvGeometry,
                                       _: T.Type) -> Tensor {
    let out = Tensor(uninitializedShape: geo.outShape, dtype: xt.dtype)
    let y = out.pointer(as: T.self)
    if out.count == 0 { return out }
    let x = UnsafePointer(xt.pointer(as: T.self)), w = UnsafePointer(wt.pointer(as: T.self))
    let og = geo.groupOutChannels, K = geo.columnRows, L = geo.outPlane
    if K == 0 {
        y.initialize(repeating: 0, count: out.count)
    } else {
        let B = geo.blockImages
        let cols = Workspace<T>(geo.isPointwise ? 0 : K * B * L)
        let matrix = Workspace<T>(B > 1 ? og * B * L : 0)
        for n0 in stride(from: 0, to: geo.batch, by: B) {
            let nb = min(B, geo.batch - n0)
            for g in 0..<geo.groups {
                let columns: UnsafePointer<T>
                if geo.isPointwise {
                    columns = x + (n0 * geo.inChannels + g * geo.groupInChannels) * geo.inPlane
                } else {
                    im2col(x, geo, n0: n0, nb: nb, group: g, cols: cols.pointer)
                    columns = UnsafePointer(cols.pointer)
                }
                let target = nb == 1 ? y + (n0 * geo.outChannels + g * og) * L : matrix.pointer
                gemmInDepthChunks(T.self, transA: false, transB: false, m: og, n: nb * L, k: K,
                                  a: w + g * og * K, lda: K, b: columns, ldb: nb * L, c: target, ldc: nb * L)
                if nb > 1 { moveOutputBlock(y, geo, n0: n0, nb: nb, group: g, matrix: matrix.pointer, toTensor: true) }
            }
        }
        cols.free()
        matrix.free()
    }
    if let biasTensor {
        addChannelBias(y, UnsafePointer(biasTensor.pointer(as: T.self)), batch: geo.batch, channels: geo.outChannels, plane: L)
    }
    return out
}

/// x = convᵀ(y, w) (+ bias per input channel): the adjoint of `convForwardKernel` in `x`,
/// i.e. conv2d's input gradient and convTranspose2d's forward. [N, O, OH, OW] -> [N, C, H, W].
func convInputGradKernel<T: FloatScalar>(_ yt: Tensor, _ wt: Tensor, _ biasTensor: Tensor?, _ geo: ConvGeometry,
                                         _: T.Type) -> Tensor {
    let out = Tensor(uninitializedShape: geo.inShape, dtype: yt.dtype)
    let x = out.pointer(as: T.self)
    if out.count == 0 { return out }
    let y = yt.pointer(as: T.self), w = UnsafePointer(wt.pointer(as: T.self))
    let og = geo.groupOutChannels, cg = geo.groupInChannels, K = geo.columnRows, L = geo.outPlane
    if og == 0 || L == 0 || K == 0 {
        x.initialize(repeating: 0, count: out.count)
    } else {
        let B = geo.blockImages
        let cols = Workspace<T>(geo.isPointwise ? 0 : K * B * L)
        let matrix = Workspace<T>(B > 1 ? og * B * L : 0)
        for n0 in stride(from: 0, to: geo.batch, by: B) {
            let nb = min(B, geo.batch - n0)
            for g in 0..<geo.groups {
                let source: UnsafePointer<T>
                if nb == 1 {
                    source = UnsafePointer(y + (n0 * geo.outChannels + g * og) * L)
                } else {
                    moveOutputBlock(y, geo, n0: n0, nb: nb, group: g, matrix: matrix.pointer, toTensor: false)
                    source = UnsafePointer(matrix.pointer)
                }
                // columns [K, nb·L] = W_gᵀ [K, Og] · y_g [Og, nb·L]
                let target = geo.isPointwise ? x + (n0 * geo.inChannels + g * cg) * geo.inPlane : cols.pointer
                gemmInDepthChunks(T.self, transA: true, transB: false, m: K, n: nb * L, k: og,
                                  a: w + g * og * K, lda: K, b: source, ldb: nb * L, c: target, ldc: nb * L)
                if !geo.isPointwise { col2im(UnsafePointer(cols.pointer), geo, n0: n0, nb: nb, group: g, x: x) }
            }
        }
        cols.free()
        matrix.free()
    }
    if let biasTensor {
        addChannelBias(x, UnsafePointer(biasTensor.pointer(as: T.self)), batch: geo.batch, channels: geo.inChannels, plane: geo.inPlane)
    }
    return out
}

/// dw = Σₙ y[n] · columns(x[n])ᵀ: the weight gradient of conv2d with gradient `y`,
/// accumulated block after block in a fixed order. -> [O, C/g, kH, kW].
func convWeightGradKernel<T: FloatScalar>(_ xt: Tensor, _ yt: Tensor, _ geo: ConvGeometry, _: T.Type) -> Tensor {
    let out = Tensor(uninitializedShape: geo.weightShape, dtype: xt.dtype)
    let dw = out.pointer(as: T.self)
    if out.count == 0 { return out }
    let x = UnsafePointer(xt.pointer(as: T.self)), y = yt.pointer(as: T.self)
    let og = geo.groupOutChannels, K = geo.columnRows, L = geo.outPlane
    if geo.batch == 0 || L == 0 {
        dw.initialize(repeating: 0, count: out.count)
        return out
    }
    let B = geo.blockImages
    let cols = Workspace<T>(geo.isPointwise ? 0 : K * B * L)
    let matrix = Workspace<T>(B > 1 ? og * B * L : 0)
    for n0 in stride(from: 0, to: geo.batch, by: B) {
        let nb = min(B, geo.batch - n0)
        for g in 0..<geo.groups {
            let columns: UnsafePointer<T>
            if geo.isPointwise {
                columns = x + (n0 * geo.inChannels + g * geo.groupInChannels) * geo.inPlane
            } else {
                im2col(x, geo, n0: n0, nb: nb, group: g, cols: cols.pointer)
                columns = UnsafePointer(cols.pointer)
            }
            let source: UnsafePointer<T>
            if nb == 1 {
                source = UnsafePointer(y + (n0 * geo.outChannels + g * og) * L)
            } else {
                moveOutputBlock(y, geo, n0: n0, nb: nb, group: g, matrix: matrix.pointer, toTensor: false)
                source = UnsafePointer(matrix.pointer)
            }
            // dw_g [Og, K] (+)= y_g [Og, nb·L] · columnsᵀ [nb·L, K]
            gemmInDepthChunks(T.self, transA: false, transB: true, m: og, n: K, k: nb * L,
                              a: source, lda: nb * L, b: columns, ldb: nb * L, c: dw + g * og * K, ldc: K,
                              accumulate: n0 > 0)
        }
    }
    cols.free()
    matrix.free()
    return out
}
