// Direct kernels for depthwise convolutions (one input and one output channel per group):
// with nine multiply-adds per output, lowering to columns would cost more than the math.

extension ConvGeometry {
    /// One input and one output channel per group: the direct depthwise kernels apply.
    var isDepthwise: Bool { groupInChannels == 1 && groupOutChannels == 1 }

    /// Stride 1: the kernels run on a zero-padded copy of the plane, where every tap is one
    /// long shifted multiply-add over the whole plane instead of one short loop per row.
    var usesWideRows: Bool { stride == Size2(1) }
    var paddedW: Int { inW + 2 * padding.width }
    var paddedH: Int { inH + 2 * padding.height }
    /// Elements of the output laid out with the padded row length (the last row trimmed).
    var wideCount: Int { (outH - 1) * paddedW + outW }
    /// Offset of tap (kh, kw) in the padded plane.
    @inline(__always) func tapOffset(_ kh: Int, _ kw: Int) -> Int { kh * dilation.height * paddedW + kw * dilation.width }
}

/// Copies an H×W plane into a (H + 2pH)×(W + 2pW) buffer, zeros around it.
@inline(__always)
func padPlane<T: FloatScalar>(_ source: UnsafePointer<T>, into padded: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    let (Wp, H, W, pH, pW) = (geo.paddedW, geo.inH, geo.inW, geo.padding.height, geo.padding.width)
    RowCopy.zero(padded, count: pH &* Wp)
    for ih in 0..<H {
        RowCopy.copy(padded + (ih &+ pH) &* Wp, from: source + (ih &* W &- pW), lo: pW, hi: pW &+ W, count: Wp)
    }
    RowCopy.zero(padded + (pH &+ H) &* Wp, count: (geo.paddedH &- pH &- H) &* Wp)
}

/// Copies an OH×OW plane into rows of the padded length, zeros in between.
@inline(__always)
func widen<T: FloatScalar>(_ source: UnsafePointer<T>, into wide: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    let (OH, OW, Wp) = (geo.outH, geo.outW, geo.paddedW)
    for oh in 0..<OH {
        RowCopy.copy(wide + oh &* Wp, from: source + oh &* OW, lo: 0, hi: OW, count: oh == OH &- 1 ? OW : Wp)
    }
}

private func depthwiseForwardWide<T: FloatScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?,
                                                  _ y: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    let (C, kH, kW, n) = (geo.outChannels, geo.kH, geo.kW, geo.wideCount)
    ThreadPool.shared.parallelFor(geo.batch * C, grain: grain(itemSize: n * kH * kW)) { range in
        let padded = Workspace<T>(geo.paddedH * geo.paddedW), wide = Workspace<T>(n)
        for item in range {
            let c = item % C
            padPlane(x + item * geo.inPlane, into: padded.pointer, geo)
            let acc = wide.pointer
            acc.initialize(repeating: bias?[c] ?? 0, count: n)
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let wv = w[(c * kH + kh) * kW + kw], source = UnsafePointer(padded.pointer + geo.tapOffset(kh, kw))
                    for i in 0..<n { acc[i] += wv * source[i] }
                }
            }
            let output = y + item * geo.outPlane
            for oh in 0..<geo.outH { (output + oh * geo.outW).update(from: acc + oh * geo.paddedW, count: geo.outW) }
        }
        padded.free()
        wide.free()
    }
}

private func depthwiseInputGradWide<T: FloatScalar>(_ g: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?,
                                                    _ dx: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    let (C, kH, kW, n, Wp) = (geo.inChannels, geo.kH, geo.kW, geo.wideCount, geo.paddedW)
    ThreadPool.shared.parallelFor(geo.batch * C, grain: grain(itemSize: n * kH * kW)) { range in
        let padded = Workspace<T>(geo.paddedH * Wp), wide = Workspace<T>(n)
        for item in range {
            let c = item % C
            widen(g + item * geo.outPlane, into: wide.pointer, geo)
            padded.pointer.initialize(repeating: 0, count: geo.paddedH * Wp)
            let source = UnsafePointer(wide.pointer)
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let wv = w[(c * kH + kh) * kW + kw], target = padded.pointer + geo.tapOffset(kh, kw)
                    for i in 0..<n { target[i] += wv * source[i] }
                }
            }
            let output = dx + item * geo.inPlane, b = bias?[c] ?? 0
            for ih in 0..<geo.inH {
                let row = padded.pointer + (ih + geo.padding.height) * Wp + geo.padding.width, out = output + ih * geo.inW
                for iw in 0..<geo.inW { out[iw] = b + row[iw] }
            }
        }
        padded.free()
        wide.free()
    }
}

private func depthwiseWeightGradWide<T: FloatScalar>(_ x: UnsafePointer<T>, _ g: UnsafePointer<T>,
                                                     _ dw: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    let (C, kH, kW, n) = (geo.inChannels, geo.kH, geo.kW, geo.wideCount)
    ThreadPool.shared.parallelFor(C, grain: grain(itemSize: geo.batch * n * kH * kW)) { range in
        let padded = Workspace<T>(geo.paddedH * geo.paddedW), wide = Workspace<T>(n)
        let partial = Workspace<T>(kH * kW * n)
        for c in range {
            partial.pointer.initialize(repeating: 0, count: kH * kW * n)
            for image in 0..<geo.batch {
                padPlane(x + (image * C + c) * geo.inPlane, into: padded.pointer, geo)
                widen(g + (image * C + c) * geo.outPlane, into: wide.pointer, geo)
                let grad = UnsafePointer(wide.pointer)
                for kh in 0..<kH {
                    for kw in 0..<kW {
                        let sums = partial.pointer + (kh * kW + kw) * n
                        let source = UnsafePointer(padded.pointer + geo.tapOffset(kh, kw))
                        for i in 0..<n { sums[i] += grad[i] * source[i] }
                    }
                }
            }
            for t in 0..<(kH * kW) { dw[c * kH * kW + t] = blockedSum(UnsafePointer(partial.pointer + t * n), stride: 1, count: n) }
        }
        padded.free()
        wide.free()
        partial.free()
    }
}

/// y[n, c] = Σ_{kh, kw} w[c, kh, kw] · x[n, c, shifted] (+ bias[c]), one plane per task.
func depthwiseForward<T: FloatScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?,
                                      _ y: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    if geo.usesWideRows { return depthwiseForwardWide(x, w, bias, y, geo) }
    let (H, W, OH, OW, C) = (geo.inH, geo.inW, geo.outH, geo.outW, geo.outChannels)
    let (kH, kW, sW) = (geo.kH, geo.kW, geo.stride.width)
    ThreadPool.shared.parallelFor(geo.batch * C, grain: grain(itemSize: OH * OW * kH * kW)) { range in
        for item in range {
            let c = item % C
            let input = x + item * H * W, output = y + item * OH * OW, weights = w + c * kH * kW
            output.initialize(repeating: bias?[c] ?? 0, count: OH * OW)
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let wv = weights[kh * kW + kw]
                    let wOffset = kw * geo.dilation.width - geo.padding.width
                    let (lo, hi) = validRange(offset: wOffset, stride: sW, input: W, output: OW)
                    for oh in 0..<OH {
                        let ih = oh * geo.stride.height - geo.padding.height + kh * geo.dilation.height
                        if ih < 0 || ih >= H { continue }
                        let source = input + ih * W + wOffset, row = output + oh * OW
                        if sW == 1 {
                            for ow in lo..<hi { row[ow] += wv * source[ow] }
                        } else {
                            for ow in lo..<hi { row[ow] += wv * source[ow * sW] }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint in x: dx[n, c, shifted] += w[c, kh, kw] · g[n, c], one plane per task.
func depthwiseInputGrad<T: FloatScalar>(_ g: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?,
                                        _ dx: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
    if geo.usesWideRows { return depthwiseInputGradWide(g, w, bias, dx, geo) }
    let (H, W, OH, OW, C) = (geo.inH, geo.inW, geo.outH, geo.outW, geo.inChannels)
    let (kH, kW, sW) = (geo.kH, geo.kW, geo.stride.width)
    ThreadPool.shared.parallelFor(geo.batch * C, grain: grain(itemSize: OH * OW * kH * kW)) { range in
        for item in range {
            let c = item % C
            let target = dx + item * H * W, source = g + item * OH * OW, weights = w + c * kH * kW
            target.initialize(repeating: bias?[c] ?? 0, count: H * W)
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let wv = weights[kh * kW + kw]
                    let wOffset = kw * geo.dilation.width - geo.padding.width
                    let (lo, hi) = validRange(offset: wOffset, stride: sW, input: W, output: OW)
                    for oh in 0..<OH {
                        let ih = oh * geo.stride.height - geo.padding.height + kh * geo.dilation.height
                        if ih < 0 || ih >= H { continue }
                        let row = target + ih * W + wOffset, gradRow = source + oh * OW
                        if sW == 1 {
                            for ow in lo..<hi { row[ow] += wv * gradRow[ow] }
                        } else {
                            for ow in lo..<hi { row[ow * sW] += wv * gradRow[ow] }
                        }
                    }
                }
            }
        }
    }
}

/// dw[c, kh, kw] = Σ_{n, oh, ow} g[n, c, oh, ow] · x[n, c, shifted]. One channel per task;
/// products accumulate in a row of partial sums (vectorized), summed in a fixed order.
func depthwiseWeightGrad<T: FloatScalar>(_ x: UnsafePointer<T>, _ g: UnsafePointer<T>, _ dw: UnsafeMutablePointer<T>,
                                         _ geo: ConvGeometry) {
    if geo.usesWideRows { return depthwiseWeightGradWide(x, g, dw, geo) }
    let (H, W, OH, OW, C) = (geo.inH, geo.inW, geo.outH, geo.outW, geo.inChannels)
    let (kH, kW, sW) = (geo.kH, geo.kW, geo.stride.width)
    ThreadPool.shared.parallelFor(C, grain: grain(itemSize: geo.batch * OH * OW * kH * kW)) { range in
        let partial = UnsafeMutablePointer<T>.allocate(capacity: max(OW, 1))
        defer { partial.deallocate() }
        for c in range {
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let wOffset = kw * geo.dilation.width - geo.padding.width
                    let (lo, hi) = validRange(offset: wOffset, stride: sW, input: W, output: OW)
                    partial.initialize(repeating: 0, count: OW)
                    for n in 0..<geo.batch {
                        let input = x + (n * C + c) * H * W, grad = g + (n * C + c) * OH * OW
                        for oh in 0..<OH {
                            let ih = oh * geo.stride.height - geo.padding.height + kh * geo.dilation.height
                            if ih < 0 || ih >= H { continue }
                            let source = input + ih * W + wOffset, gradRow = grad + oh * OW
                            if sW == 1 {
                                for ow in lo..<hi { partial[ow] += gradRow[ow] * source[ow] }
                            } else {
                                for ow in lo..<hi { partial[ow] += gradRow[ow] * source[ow * sW] }
                            }
                        }
                    }
                    dw[(c * kH + kh) * kW + kw] = blockedSum(UnsafePointer(partial), stride: 1, count: OW)
                }
            }
        }
    }
}
