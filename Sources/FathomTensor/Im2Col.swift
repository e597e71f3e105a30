// The lowering shared by conv2d and convTranspose2d: the geometry of a 2-d convolution
// and the three kernels every convolution gradient is made of (forward, input gradient,
// weight gradient), each as im2col/col2im plus one OpenBLAS GEMM per image and group (direct
// loops for depthwise convolutions, in Depthwise.swift).

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

    /// Multiply-adds of one image's GEMM for one group.
    var groupImageMultiplyAdds: Int { groupOutChannels * outPlane * columnRows }

    /// Images are lowered one at a time: measured on a 2-core Cooperlake, one image per GEMM
    /// beats batching several side by side (the columns and the product stay in cache).
    /// The pool runs images in parallel, each with its own workspace and a single-threaded
    /// GEMM: per-image GEMMs of ResNet-sized layers (16–64 output channels) are too short
    /// and flat for OpenBLAS to split across cores well (measured: the ResNet-20 step at
    /// batch 128 went from ~780 to ~580 ms, and it no longer collapses when another process
    /// takes a core, as OpenBLAS's threaded GEMMs do).
    var runsImagesInParallel: Bool { batch > 1 }

    /// Per-image GEMMs below OpenBLAS's own threading threshold.
    var hasSmallImageGemms: Bool { groupImageMultiplyAdds * groups < ConvGeometry.smallGemm }

    static let smallGemm = 1 << 18
}

/// Work items of `size` elements per parallel chunk, so each chunk is worth forking for.
@inline(__always)
func grain(itemSize: Int) -> Int { max(1, ThreadPool.minParallelElements / max(itemSize, 1)) }

// MARK: - lowering helpers (one image, one group)

/// Writes the column matrix of image `n`, group `group`: row `(c·kH + kh)·kW + kw`, column
/// `oh·OW + ow` holds `x[n, group·Cg + c, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW]` (zero
/// outside the image). Channels run in parallel (serially when called inside a pool job).
func im2col<T: FloatScalar>(_ x: UnsafePointer<T>, _ geo: ConvGeometry, n: Int, group: Int,
                            cols: UnsafeMutablePointer<T>) {
    let cg = geo.groupInChannels, plane = geo.inPlane, L = geo.outPlane
    let (H, W, OH, OW) = (geo.inH, geo.inW, geo.outH, geo.outW)
    let (kH, kW) = (geo.kH, geo.kW)
    let (sH, sW) = (geo.stride.height, geo.stride.width)
    let (pH, pW) = (geo.padding.height, geo.padding.width)
    let (dH, dW) = (geo.dilation.height, geo.dilation.width)
    ThreadPool.shared.parallelFor(cg, grain: grain(itemSize: kH * kW * L)) { range in
        for c in range {
            let source = x + (n * geo.inChannels + group * cg + c) * plane
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let destination = cols + ((c * kH + kh) * kW + kw) * L
                    let (owLo, owHi) = validRange(offset: kw * dW - pW, stride: sW, input: W, output: OW)
                    let wOffset = kw * dW - pW
                    for oh in 0..<OH {
                        let ih = oh &* sH &- pH &+ kh &* dH
                        let row = destination + oh &* OW
                        if ih < 0 || ih >= H {
                            RowCopy.zero(row, count: OW)
                        } else if sW == 1 {
                            RowCopy.copy(row, from: source + (ih &* W &+ wOffset), lo: owLo, hi: owHi, count: OW)
                        } else {
                            let sourceRow = source + (ih &* W &+ wOffset)
                            RowCopy.zero(row, count: owLo)
                            for ow in owLo..<owHi { row[ow] = sourceRow[ow &* sW] }
                            RowCopy.zero(row + owHi, count: OW &- owHi)
                        }
                    }
                }
            }
        }
    }
}

/// The inverse scatter of `im2col`: adds every column entry into the input position it
/// was read from. Each (image, channel) plane is owned by one task and summed in a fixed
/// order, so the result does not depend on the thread count. Overwrites image `n`'s planes
/// of group `group`.
func col2im<T: FloatScalar>(_ cols: UnsafePointer<T>, _ geo: ConvGeometry, n: Int, group: Int,
                            x: UnsafeMutablePointer<T>) {
    let cg = geo.groupInChannels, plane = geo.inPlane, L = geo.outPlane
    let (H, W, OH, OW) = (geo.inH, geo.inW, geo.outH, geo.outW)
    let (kH, kW) = (geo.kH, geo.kW)
    let (sH, sW) = (geo.stride.height, geo.stride.width)
    let (pH, pW) = (geo.padding.height, geo.padding.width)
    let (dH, dW) = (geo.dilation.height, geo.dilation.width)
    ThreadPool.shared.parallelFor(cg, grain: grain(itemSize: kH * kW * L)) { range in
        for c in range {
            let destination = x + (n * geo.inChannels + group * cg + c) * plane
            destination.initialize(repeating: 0, count: plane)
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let source = cols + ((c * kH + kh) * kW + kw) * L
                    let (owLo, owHi) = validRange(offset: kw * dW - pW, stride: sW, input: W, output: OW)
                    let wOffset = kw * dW - pW
                    for oh in 0..<OH {
                        let ih = oh &* sH &- pH &+ kh &* dH
                        if ih < 0 || ih >= H { continue }
                        let row = source + oh &* OW
                        let target = destination + (ih &* W &+ wOffset)
                        if sW == 1 {
                            RowCopy.add(target, from: row, lo: owLo, hi: owHi)
                        } else {
                            for ow in owLo..<owHi { target[ow &* sW] += row[ow] }
                        }
                    }
                }
            }
        }
    }
}

/// Short-row moves for im2col/col2im: rows are 8–64 elements long, so per-row overhead
/// (calls, overflow checks, 4-wide loops) costs more than the bytes; these use 16-wide
/// vectors and wrapping index arithmetic.
enum RowCopy {
    /// `row[0..<count] = 0`.
    @inline(__always)
    static func zero<T: FloatScalar>(_ row: UnsafeMutablePointer<T>, count: Int) {
        var i = 0
        while i &+ 16 <= count {
            UnsafeMutableRawPointer(row + i).storeBytes(of: SIMD16<T>(), as: SIMD16<T>.self)
            i &+= 16
        }
        while i < count { row[i] = 0; i &+= 1 }
    }

    /// `row[lo..<hi] = source[lo..<hi]`, zeros elsewhere in `row[0..<count]`.
    @inline(__always)
    static func copy<T: FloatScalar>(_ row: UnsafeMutablePointer<T>, from source: UnsafePointer<T>,
                                     lo: Int, hi: Int, count: Int) {
        var i = 0
        while i < lo { row[i] = 0; i &+= 1 }
        if hi &- lo >= 16 {
            while i &+ 16 <= hi { move(SIMD16<T>.self, row, source, i); i &+= 16 }
            // The tail as one vector that overlaps the last one: copying twice is harmless.
            if i < hi { move(SIMD16<T>.self, row, source, hi &- 16) }
        } else if hi &- lo >= 8 {
            move(SIMD8<T>.self, row, source, lo)
            move(SIMD8<T>.self, row, source, hi &- 8)
        } else if hi &- lo >= 4 {
            move(SIMD4<T>.self, row, source, lo)
            move(SIMD4<T>.self, row, source, hi &- 4)
        } else {
            while i < hi { row[i] = source[i]; i &+= 1 }
        }
        i = Swift.max(hi, lo)
        while i < count { row[i] = 0; i &+= 1 }
    }

    @inline(__always)
    private static func move<V: SIMD>(_: V.Type, _ row: UnsafeMutablePointer<V.Scalar>, _ source: UnsafePointer<V.Scalar>,
                                      _ i: Int) {
        UnsafeMutableRawPointer(row + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: V.self), as: V.self)
    }

    /// `target[lo..<hi] += row[lo..<hi]`.
    @inline(__always)
    static func add<T: FloatScalar>(_ target: UnsafeMutablePointer<T>, from row: UnsafePointer<T>, lo: Int, hi: Int) {
        var i = lo
        while i &+ 16 <= hi {
            let sum = UnsafeRawPointer(target + i).loadUnaligned(as: SIMD16<T>.self)
                + UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<T>.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: sum, as: SIMD16<T>.self)
            i &+= 16
        }
        if i &+ 8 <= hi {
            let sum = UnsafeRawPointer(target + i).loadUnaligned(as: SIMD8<T>.self)
                + UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<T>.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: sum, as: SIMD8<T>.self)
            i &+= 8
        }
        while i < hi { target[i] += row[i]; i &+= 1 }
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

// MARK: - the three kernels (contiguous operands; results are new contiguous tensors)

/// Scratch memory, freed by `free()`.
struct Workspace<T> {
    let pointer: UnsafeMutablePointer<T>
    init(_ count: Int) { pointer = .allocate(capacity: max(count, 1)) }
    func free() { pointer.deallocate() }
}

/// Runs `body(images, columns workspace)` over the batch: image by image on this thread
/// (each GEMM and im2col parallel inside), or, for small GEMMs, chunks of images in
/// parallel. Chunk boundaries depend only on the sizes.
func forEachImageChunk<T>(_ geo: ConvGeometry, workspace: Int, grain: Int, _: T.Type,
                          _ body: (_ chunk: Int, _ images: Range<Int>, _ cols: UnsafeMutablePointer<T>) -> Void) {
    if geo.runsImagesInParallel {
        let (chunks, size) = ThreadPool.chunking(count: geo.batch, grain: grain)
        func run() {
            ThreadPool.shared.parallelFor(chunks, grain: 1) { range in
                let cols = Workspace<T>(workspace)
                for chunk in range { body(chunk, (chunk * size)..<min(geo.batch, (chunk + 1) * size), cols.pointer) }
                cols.free()
            }
        }
        // Small GEMMs run single-threaded inside OpenBLAS anyway: no need to switch it.
        if geo.hasSmallImageGemms { run() } else { BLAS.withSingleThread(run) }
    } else {
        let cols = Workspace<T>(workspace)
        body(0, 0..<geo.batch, cols.pointer)
        cols.free()
    }
}

/// Images per parallel chunk: enough work per chunk to be worth a fork.
func imageGrain(_ geo: ConvGeometry) -> Int {
    max(1, (1 << 16) / max(geo.groupImageMultiplyAdds * geo.groups, 1))
}

/// Images per chunk of the weight gradient: each chunk beyond the first sums into its own
/// copy of the weight gradient, added up at the end, so at most `weightGradChunks` chunks
/// (a fixed count: enough to balance two or more threads, independent of the thread count).
/// Small GEMMs keep `imageGrain`'s finer chunks: their partial sums are small.
func weightGradImageGrain(_ geo: ConvGeometry) -> Int {
    geo.hasSmallImageGemms ? imageGrain(geo) : max(imageGrain(geo), (geo.batch + weightGradChunks - 1) / weightGradChunks)
}

let weightGradChunks = 8

/// y = conv(x, w) (+ bias): [N, C, H, W] ⊛ [O, C/g, kH, kW] -> [N, O, OH, OW].
func convForwardKernel<T: FloatScalar>(_ xt: Tensor, _ wt: Tensor, _ biasTensor: Tensor?, _ geo: ConvGeometry,
                                       _: T.Type) -> Tensor {
    let out = Tensor(uninitializedShape: geo.outShape, dtype: xt.dtype)
    let y = out.pointer(as: T.self)
    if out.count == 0 { return out }
    let x = UnsafePointer(xt.pointer(as: T.self)), w = UnsafePointer(wt.pointer(as: T.self))
    let bias = biasTensor.map { UnsafePointer($0.pointer(as: T.self)) }
    if geo.isDepthwise {
        depthwiseForward(x, w, bias, y, geo)
        return out
    }
    if T.self == Float.self && geo.usesSmallChannelKernel {
        smallChannelForward(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                            UnsafeRawPointer(w).assumingMemoryBound(to: Float.self),
                            bias.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) },
                            UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), geo)
        return out
    }
    if geo.usesShiftedGemms {
        shiftedForward(x, w, bias, y, geo)
        return out
    }
    let og = geo.groupOutChannels, K = geo.columnRows, L = geo.outPlane
    if K == 0 {
        y.initialize(repeating: 0, count: out.count)
    } else {
        forEachImageChunk(geo, workspace: geo.isPointwise ? 0 : K * L, grain: imageGrain(geo), T.self) { _, images, cols in
            for n in images {
                for g in 0..<geo.groups {
                    let columns: UnsafePointer<T>
                    if geo.isPointwise {
                        columns = x + (n * geo.inChannels + g * geo.groupInChannels) * geo.inPlane
                    } else {
                        im2col(x, geo, n: n, group: g, cols: cols)
                        columns = UnsafePointer(cols)
                    }
                    gemm(T.self, transA: false, transB: false, m: og, n: L, k: K,
                         a: w + g * og * K, lda: K, b: columns, ldb: L,
                         c: y + (n * geo.outChannels + g * og) * L, ldc: L)
                }
            }
        }
    }
    if let bias { addChannelBias(y, bias, batch: geo.batch, channels: geo.outChannels, plane: L) }
    return out
}

/// x = convᵀ(y, w) (+ bias per input channel): the adjoint of `convForwardKernel` in `x`,
/// i.e. conv2d's input gradient and convTranspose2d's forward. [N, O, OH, OW] -> [N, C, H, W].
func convInputGradKernel<T: FloatScalar>(_ yt: Tensor, _ wt: Tensor, _ biasTensor: Tensor?, _ geo: ConvGeometry,
                                         _: T.Type) -> Tensor {
    let out = Tensor(uninitializedShape: geo.inShape, dtype: yt.dtype)
    let x = out.pointer(as: T.self)
    if out.count == 0 { return out }
    let y = UnsafePointer(yt.pointer(as: T.self)), w = UnsafePointer(wt.pointer(as: T.self))
    let bias = biasTensor.map { UnsafePointer($0.pointer(as: T.self)) }
    if geo.isDepthwise {
        depthwiseInputGrad(y, w, bias, x, geo)
        return out
    }
    let og = geo.groupOutChannels, cg = geo.groupInChannels, K = geo.columnRows, L = geo.outPlane
    if og == 0 || L == 0 || K == 0 {
        x.initialize(repeating: 0, count: out.count)
    } else if geo.usesShiftedGemms {
        shiftedInputGrad(y, w, bias, x, geo)
        return out
    } else {
        forEachImageChunk(geo, workspace: geo.isPointwise ? 0 : K * L, grain: imageGrain(geo), T.self) { _, images, cols in
            for n in images {
                for g in 0..<geo.groups {
                    // columns [K, L] = W_gᵀ [K, Og] · y_g [Og, L]; for 1×1 the columns are the planes.
                    let target = geo.isPointwise ? x + (n * geo.inChannels + g * cg) * geo.inPlane : cols
                    gemm(T.self, transA: true, transB: false, m: K, n: L, k: og,
                         a: w + g * og * K, lda: K, b: y + (n * geo.outChannels + g * og) * L, ldb: L,
                         c: target, ldc: L)
                    if !geo.isPointwise { col2im(UnsafePointer(cols), geo, n: n, group: g, x: x) }
                }
            }
        }
    }
    if let bias { addChannelBias(x, bias, batch: geo.batch, channels: geo.inChannels, plane: geo.inPlane) }
    return out
}

/// dw = Σₙ y[n] · columns(x[n])ᵀ: the weight gradient of conv2d with output gradient `y`.
/// Images are accumulated in order within fixed chunks, and chunk sums are added in chunk
/// order. -> [O, C/g, kH, kW].
func convWeightGradKernel<T: FloatScalar>(_ xt: Tensor, _ yt: Tensor, _ geo: ConvGeometry, _: T.Type) -> Tensor {
    let out = Tensor(uninitializedShape: geo.weightShape, dtype: xt.dtype)
    let dw = out.pointer(as: T.self)
    if out.count == 0 { return out }
    let x = UnsafePointer(xt.pointer(as: T.self)), y = UnsafePointer(yt.pointer(as: T.self))
    let og = geo.groupOutChannels, K = geo.columnRows, L = geo.outPlane
    if geo.batch == 0 || L == 0 {
        dw.initialize(repeating: 0, count: out.count)
        return out
    }
    if geo.isDepthwise {
        depthwiseWeightGrad(x, y, dw, geo)
        return out
    }
    if T.self == Float.self && geo.usesSmallChannelKernel {
        smallChannelWeightGrad(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                               UnsafeRawPointer(y).assumingMemoryBound(to: Float.self),
                               UnsafeMutableRawPointer(dw).assumingMemoryBound(to: Float.self), geo)
        return out
    }
    let parallel = geo.runsImagesInParallel
    let grain = weightGradImageGrain(geo)
    let chunks = parallel ? ThreadPool.chunking(count: geo.batch, grain: grain).chunks : 1
    // Chunk 0 accumulates into `dw`, the others into their own partial sums.
    let partials = Workspace<T>(parallel ? (chunks - 1) * out.count : 0)
    forEachImageChunk(geo, workspace: geo.isPointwise ? 0 : K * L, grain: grain, T.self) { chunk, images, cols in
        let target = chunk == 0 ? dw : partials.pointer + (chunk - 1) * out.count
        for n in images {
            for g in 0..<geo.groups {
                let columns: UnsafePointer<T>
                if geo.isPointwise {
                    columns = x + (n * geo.inChannels + g * geo.groupInChannels) * geo.inPlane
                } else {
                    im2col(x, geo, n: n, group: g, cols: cols)
                    columns = UnsafePointer(cols)
                }
                // dw_g [Og, K] (+)= y_g [Og, L] · columnsᵀ [L, K]
                gemm(T.self, transA: false, transB: true, m: og, n: K, k: L,
                     a: y + (n * geo.outChannels + g * og) * L, lda: L, b: columns, ldb: L,
                     c: target + g * og * K, ldc: K, beta: (n > images.lowerBound) ? 1 : 0)
            }
        }
    }
    for chunk in 1..<max(chunks, 1) {
        let partial = partials.pointer + (chunk - 1) * out.count
        for i in 0..<out.count { dw[i] += partial[i] }
    }
    partials.free()
    return out
}
