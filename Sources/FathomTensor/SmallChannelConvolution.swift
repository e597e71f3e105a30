// The forward pass of stride-1 float32 convolutions with few input channels (an image's
// 1 or 3 channels): C·kH·kW ≤ 32 multiply-adds per output, too shallow for a GEMM (im2col
// and OpenBLAS's packing cost more than the math). A register-blocked kernel reads the
// taps straight from a zero-padded copy of the image, as shifted rows (see
// ShiftedConvolution.swift): 8 output channels × 32 positions per step, bias included.

extension ConvGeometry {
    /// Stride 1, no dilation, one group, padding below the kernel, at most 32 taps in all.
    var usesSmallChannelKernel: Bool {
        stride == Size2(1) && dilation == Size2(1) && groups == 1 && columnRows <= 32
            && padding.height < kH && padding.width < kW
    }

    /// Offset of tap k = (c, kh, kw) in `padImage`'s padded planes, in column-row order.
    var paddedTapOffsets: [Int] {
        let plane = paddedH * paddedW
        return (0..<inChannels).flatMap { c in
            (0..<kH).flatMap { kh in (0..<kW).map { kw in c * plane + tapOffset(kh, kw) } }
        }
    }
}

/// y = conv(x, w) (+ bias) for `geo.usesSmallChannelKernel`, float32.
func smallChannelForward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                         _ y: UnsafeMutablePointer<Float>, _ geo: ConvGeometry) {
    let (O, C, K, Wp) = (geo.outChannels, geo.inChannels, geo.columnRows, geo.paddedW)
    let plane = geo.paddedH * Wp
    let blocks = (O + 7) / 8
    // Weights by block of 8 output channels, tap-major: [block][k][8], zero rows past O.
    let packed = Workspace<Float>(blocks * K * 8)
    defer { packed.free() }
    for b in 0..<blocks {
        for k in 0..<K {
            for r in 0..<8 {
                let o = b * 8 + r
                packed.pointer[(b * K + k) * 8 + r] = o < O ? w[o * K + k] : 0
            }
        }
    }
    var biases = [Float](repeating: 0, count: blocks * 8)
    if let bias { for o in 0..<O { biases[o] = bias[o] } }
    let taps = geo.paddedTapOffsets
    let (OH, OW, outPlane) = (geo.outH, geo.outW, geo.outPlane)
    biases.withUnsafeBufferPointer { biasBuffer in
        taps.withUnsafeBufferPointer { tapBuffer in
            let biasPointer = biasBuffer.baseAddress!, tapPointer = tapBuffer.baseAddress!
            // 32 spare zeros: a step's 32 positions may run past the last padded row.
            ThreadPool.shared.parallelFor(geo.batch, grain: Swift.max(1, imageGrain(geo))) { images in
                let padded = Workspace<Float>(C * plane + 32)
                defer { padded.free() }
                (padded.pointer + C * plane).initialize(repeating: 0, count: 32)
                var spill = [Float](repeating: 0, count: 8 * 32)
                for n in images {
                    padImage(x, geo, n: n, into: padded.pointer)
                    for oh in 0..<OH {
                        var ow = 0
                        while ow < OW {
                            let source = UnsafePointer(padded.pointer + (oh * Wp + ow))
                            let position = oh * OW + ow
                            // 32 results fit in this channel's plane: the ones past the row
                            // land on the next rows, which are computed (overwritten) later.
                            let direct = position + 32 <= outPlane
                            for b in 0..<blocks {
                                let rows = Swift.min(8, O - b * 8)
                                if direct {
                                    smallChannelStep(K, source, tapPointer, packed.pointer + b * K * 8, biasPointer + b * 8,
                                                     y + ((n * O + b * 8) * outPlane + position), outPlane, rows)
                                } else {
                                    spill.withUnsafeMutableBufferPointer { s in
                                        smallChannelStep(K, source, tapPointer, packed.pointer + b * K * 8, biasPointer + b * 8,
                                                         s.baseAddress!, 32, rows)
                                        let count = Swift.min(32, OW - ow)
                                        for r in 0..<rows {
                                            (y + ((n * O + b * 8 + r) * outPlane + position)).update(from: s.baseAddress! + r * 32, count: count)
                                        }
                                    }
                                }
                            }
                            ow += 32
                        }
                    }
                }
            }
        }
    }
}

/// 8 output channels × 32 positions: out[r][j] = bias[r] + Σₖ weights[k][r] · source[taps[k] + j],
/// rows `0..<rows` stored at `out + r·rowStride`.
@inline(__always)
private func smallChannelStep(_ K: Int, _ source: UnsafePointer<Float>, _ taps: UnsafePointer<Int>,
                              _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, _ rowStride: Int, _ rows: Int) {
    typealias V = SIMD16<Float>
    var a0 = V(repeating: bias[0]), b0 = a0, a1 = V(repeating: bias[1]), b1 = a1
    var a2 = V(repeating: bias[2]), b2 = a2, a3 = V(repeating: bias[3]), b3 = a3
    var a4 = V(repeating: bias[4]), b4 = a4, a5 = V(repeating: bias[5]), b5 = a5
    var a6 = V(repeating: bias[6]), b6 = a6, a7 = V(repeating: bias[7]), b7 = a7
    var wk = weights
    for k in 0..<K {
        let p = UnsafeRawPointer(source + taps[k])
        let lo = p.loadUnaligned(as: V.self), hi = p.loadUnaligned(fromByteOffset: 64, as: V.self)
        var s = V(repeating: wk[0]); a0 = a0.addingProduct(s, lo); b0 = b0.addingProduct(s, hi)
        s = V(repeating: wk[1]); a1 = a1.addingProduct(s, lo); b1 = b1.addingProduct(s, hi)
        s = V(repeating: wk[2]); a2 = a2.addingProduct(s, lo); b2 = b2.addingProduct(s, hi)
        s = V(repeating: wk[3]); a3 = a3.addingProduct(s, lo); b3 = b3.addingProduct(s, hi)
        s = V(repeating: wk[4]); a4 = a4.addingProduct(s, lo); b4 = b4.addingProduct(s, hi)
        s = V(repeating: wk[5]); a5 = a5.addingProduct(s, lo); b5 = b5.addingProduct(s, hi)
        s = V(repeating: wk[6]); a6 = a6.addingProduct(s, lo); b6 = b6.addingProduct(s, hi)
        s = V(repeating: wk[7]); a7 = a7.addingProduct(s, lo); b7 = b7.addingProduct(s, hi)
        wk += 8
    }
    @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
        guard r < rows else { return }
        let q = UnsafeMutableRawPointer(out + r * rowStride)
        q.storeBytes(of: lo, as: V.self)
        q.storeBytes(of: hi, toByteOffset: 64, as: V.self)
    }
    store(0, a0, b0); store(1, a1, b1); store(2, a2, b2); store(3, a3, b3)
    store(4, a4, b4); store(5, a5, b5); store(6, a6, b6); store(7, a7, b7)
}

/// dw = Σₙ g[n] ⋆ x[n] for `geo.usesSmallChannelKernel`, float32: per image, dot products
/// of each output channel's gradient (widened to the padded row length, zeros between rows)
/// with each tap's shifted view of the padded image, 4 channels × 4 taps per pass. Images
/// are summed in order within fixed chunks, chunk sums in chunk order.
func smallChannelWeightGrad(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                            _ geo: ConvGeometry) {
    let (O, C, K, Wp) = (geo.outChannels, geo.inChannels, geo.columnRows, geo.paddedW)
    let plane = geo.paddedH * Wp
    // Positions on the padded grid, rounded up to whole vectors (the extra ones are zero in g).
    let positions = (geo.wideCount + 15) / 16 * 16
    let taps = geo.paddedTapOffsets
    let grain = weightGradImageGrain(geo)
    let chunks = geo.runsImagesInParallel ? ThreadPool.chunking(count: geo.batch, grain: grain).chunks : 1
    let size = O * K
    let sums = Workspace<Float>(chunks * size)
    defer { sums.free() }
    sums.pointer.initialize(repeating: 0, count: chunks * size)
    taps.withUnsafeBufferPointer { tapBuffer in
        let tapPointer = tapBuffer.baseAddress!
        // The padded image (+ spare zeros for the last vector) and the widened gradients.
        forEachImageChunk(geo, workspace: C * plane + 48 + O * positions, grain: grain, Float.self) { chunk, images, scratch in
            let padded = scratch, gradient = scratch + C * plane + 48
            (padded + C * plane).initialize(repeating: 0, count: 48)
            let target = sums.pointer + chunk * size
            for n in images {
                padImage(x, geo, n: n, into: padded)
                for o in 0..<O {
                    let row = gradient + o * positions
                    widen(g + (n * O + o) * geo.outPlane, into: row, geo)
                    (row + geo.wideCount).initialize(repeating: 0, count: positions - geo.wideCount)
                }
                var o0 = 0
                while o0 < O {
                    var k0 = 0
                    while k0 < K {
                        smallChannelDots(positions, gradient, o0, O, padded, tapPointer, k0, K, target)
                        k0 += 4
                    }
                    o0 += 4
                }
            }
        }
    }
    for i in 0..<size {
        var total = sums.pointer[i]
        for chunk in 1..<Swift.max(chunks, 1) { total += sums.pointer[chunk * size + i] }
        dw[i] = total
    }
}

/// target[o][k] += Σⱼ gradient[o][j] · padded[taps[k] + j] for 4 channels from `o0` and 4 taps
/// from `k0` (indices past O or K are computed on a valid row and dropped).
@inline(__always)
private func smallChannelDots(_ positions: Int, _ gradient: UnsafePointer<Float>, _ o0: Int, _ O: Int,
                              _ padded: UnsafePointer<Float>, _ taps: UnsafePointer<Int>, _ k0: Int, _ K: Int,
                              _ target: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let g0 = gradient + Swift.min(o0, O - 1) * positions, g1 = gradient + Swift.min(o0 + 1, O - 1) * positions
    let g2 = gradient + Swift.min(o0 + 2, O - 1) * positions, g3 = gradient + Swift.min(o0 + 3, O - 1) * positions
    let x0 = padded + taps[Swift.min(k0, K - 1)], x1 = padded + taps[Swift.min(k0 + 1, K - 1)]
    let x2 = padded + taps[Swift.min(k0 + 2, K - 1)], x3 = padded + taps[Swift.min(k0 + 3, K - 1)]
    var s00 = V(), s01 = V(), s02 = V(), s03 = V(), s10 = V(), s11 = V(), s12 = V(), s13 = V()
    var s20 = V(), s21 = V(), s22 = V(), s23 = V(), s30 = V(), s31 = V(), s32 = V(), s33 = V()
    @inline(__always) func load(_ p: UnsafePointer<Float>, _ j: Int) -> V { UnsafeRawPointer(p + j).loadUnaligned(as: V.self) }
    var j = 0
    while j < positions {
        let a0 = load(g0, j), a1 = load(g1, j), a2 = load(g2, j), a3 = load(g3, j)
        var b = load(x0, j)
        s00 = s00.addingProduct(a0, b); s10 = s10.addingProduct(a1, b); s20 = s20.addingProduct(a2, b); s30 = s30.addingProduct(a3, b)
        b = load(x1, j)
        s01 = s01.addingProduct(a0, b); s11 = s11.addingProduct(a1, b); s21 = s21.addingProduct(a2, b); s31 = s31.addingProduct(a3, b)
        b = load(x2, j)
        s02 = s02.addingProduct(a0, b); s12 = s12.addingProduct(a1, b); s22 = s22.addingProduct(a2, b); s32 = s32.addingProduct(a3, b)
        b = load(x3, j)
        s03 = s03.addingProduct(a0, b); s13 = s13.addingProduct(a1, b); s23 = s23.addingProduct(a2, b); s33 = s33.addingProduct(a3, b)
        j &+= 16
    }
    @inline(__always) func add(_ r: Int, _ t: Int, _ s: V) {
        if o0 + r < O && k0 + t < K { target[(o0 + r) * K + k0 + t] += s.sum() }
    }
    add(0, 0, s00); add(0, 1, s01); add(0, 2, s02); add(0, 3, s03)
    add(1, 0, s10); add(1, 1, s11); add(1, 2, s12); add(1, 3, s13)
    add(2, 0, s20); add(2, 1, s21); add(2, 2, s22); add(2, 3, s23)
    add(3, 0, s30); add(3, 1, s31); add(3, 2, s32); add(3, 3, s33)
}
