// Direct kernels for depthwise convolutions (one input and one output channel per group):
// with nine multiply-adds per output, lowering to columns would cost more than the math.

extension ConvGeometry {
    /// One input and one output channel per group: the direct depthwise kernels apply.
    var isDepthwise: Bool { groupInChannels == 1 && groupOutChannels == 1 }
}

/// y[n, c] = Σ_{kh, kw} w[c, kh, kw] · x[n, c, shifted] (+ bias[c]), one plane per task.
func depthwiseForward<T: FloatScalar>(_ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>?,
                                      _ y: UnsafeMutablePointer<T>, _ geo: ConvGeometry) {
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
