// Stride-1 convolutions without im2col. In a zero-padded image laid out row by row with
// padded width Wp, the input under kernel tap (kh, kw) for output position j = oh·Wp + ow
// sits at j + kh·Wp + kw: every tap is the padded plane shifted by a constant. So the
// convolution is kH·kW GEMMs of [O, C] weights with [C, (OH − 1)·Wp + OW] shifted views
// of the padded image (row stride = the padded plane), accumulated into an output on the
// padded grid (`wideCount`, as the depthwise kernels); the kW − 1 extra columns per row
// are computed and dropped. This replaces the 9× im2col copy of a 3×3 convolution with
// one padded copy, and lets OpenBLAS read the image directly. The input gradient of a
// stride-1 convolution is itself a stride-1 convolution of the output gradient with the
// flipped, transposed kernel, so it needs no col2im. The weight gradient stays on im2col:
// per tap it would be nine short GEMMs that each repack the output gradient (measured:
// 64→64 at 32×32 forward+backward 261–277 ms that way, 222–231 ms with im2col; the
// ResNet-20 step the same either way).

extension ConvGeometry {
    /// Stride 1, no dilation, one group, padding below the kernel size, at least 2 taps,
    /// and enough input channels: each tap's GEMM has depth C, too shallow below ~16.
    var usesShiftedGemms: Bool {
        stride == Size2(1) && dilation == Size2(1) && groups == 1 && kH * kW > 1
            && padding.height < kH && padding.width < kW && inChannels >= ConvGeometry.shiftedMinChannels
    }

    static let shiftedMinChannels = 16

    /// The geometry of the input gradient as a convolution of the output gradient:
    /// O → C channels, padding k − 1 − p, kernel flipped and transposed.
    var inputGradientGeometry: ConvGeometry {
        ConvGeometry(batch: batch, inChannels: outChannels, inH: outH, inW: outW, outChannels: inChannels,
                     outH: inH, outW: inW, kH: kH, kW: kW, stride: 1,
                     padding: Size2(kH - 1 - padding.height, kW - 1 - padding.width), dilation: 1, groups: 1)
    }
}

/// Writes image `n`'s channels as `C` zero-padded planes (`padPlane`), one after another.
func padImage<T: FloatScalar>(_ x: UnsafePointer<T>, _ geo: ConvGeometry, n: Int, into padded: UnsafeMutablePointer<T>) {
    let plane = geo.paddedH * geo.paddedW
    for c in 0..<geo.inChannels {
        padPlane(x + (n * geo.inChannels + c) * geo.inPlane, into: padded + c * plane, geo)
    }
}

/// Weights [O, C, kH, kW] regrouped tap by tap: [kH·kW][O][C].
func weightsByTap<T: FloatScalar>(_ w: UnsafePointer<T>, _ geo: ConvGeometry) -> Workspace<T> {
    let (O, C, taps) = (geo.outChannels, geo.inChannels, geo.kH * geo.kW)
    let out = Workspace<T>(taps * O * C)
    for o in 0..<O {
        for c in 0..<C {
            for t in 0..<taps { out.pointer[(t * O + o) * C + c] = w[(o * C + c) * taps + t] }
        }
    }
    return out
}

/// y = conv(x, w) (+ bias) for `geo.usesShiftedGemms`.
func shiftedForward<T: FloatScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?,
                                    _ y: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    let (O, C, Wp, P, N) = (geo.outChannels, geo.inChannels, geo.paddedW, geo.paddedH * geo.paddedW, geo.wideCount)
    let taps = weightsByTap(w, geo)
    defer { taps.free() }
    forEachImageChunk(geo, workspace: C * P + O * N, grain: imageGrain(geo), T.self) { _, images, scratch in
        let padded = scratch, product = scratch + C * P
        for n in images {
            padImage(x, geo, n: n, into: padded)
            for kh in 0..<geo.kH {
                for kw in 0..<geo.kW {
                    let tap = kh * geo.kW + kw
                    gemm(T.self, transA: false, transB: false, m: O, n: N, k: C,
                         a: taps.pointer + tap * O * C, lda: C, b: padded + (kh * Wp + kw), ldb: P,
                         c: product, ldc: N, beta: tap == 0 ? 0 : 1)
                }
            }
            for o in 0..<O {
                let target = y + (n * O + o) * geo.outPlane
                for oh in 0..<geo.outH {
                    RowCopy.copy(target + oh * geo.outW, from: product + o * N + oh * Wp, lo: 0, hi: geo.outW, count: geo.outW)
                }
                if let bias {
                    let b = bias[o]
                    for i in 0..<geo.outPlane { target[i] += b }
                }
            }
        }
    }
}

/// x = convᵀ(y, w) (+ bias per input channel) for `geo.usesShiftedGemms`: the forward
/// convolution of `y` with the flipped, transposed kernel.
func shiftedInputGrad<T: FloatScalar>(_ y: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?,
                                      _ x: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    let (O, C, kH, kW) = (geo.outChannels, geo.inChannels, geo.kH, geo.kW)
    let flipped = Workspace<T>(C * O * kH * kW)
    defer { flipped.free() }
    for c in 0..<C {
        for o in 0..<O {
            for kh in 0..<kH {
                for kw in 0..<kW {
                    flipped.pointer[((c * O + o) * kH + kh) * kW + kw] = w[((o * C + c) * kH + (kH - 1 - kh)) * kW + (kW - 1 - kw)]
                }
            }
        }
    }
    shiftedForward(y, UnsafePointer(flipped.pointer), bias, x, geo.inputGradientGeometry)
}
