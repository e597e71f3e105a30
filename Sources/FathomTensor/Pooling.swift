// 2-d pooling over the last two axes (torch.nn.functional.max_pool2d, avg_pool2d,
// adaptive_avg_pool2d). Every op here is a pair of linear maps that are each other's
// adjoint (gather/scatter, window sum/window spread), so each backward is differentiable.

/// Max pooling over windows of the last two axes of [N, C, H, W] (or [C, H, W]), like
/// `torch.nn.functional.max_pool2d`. Padding counts as −∞; the first maximum of a window
/// (in row-major order) receives the gradient, and NaN wins, as in PyTorch.
///
/// - Parameters:
///   - kernelSize: the window, e.g. `2` or `[3, 2]`.
///   - stride: the window step; defaults to `kernelSize`.
///   - padding: at most half the kernel on each axis.
///   - dilation: spacing between window elements.
///   - ceilMode: round the output size up, so windows may hang over the bottom/right edge.
public func maxPool2d(_ input: Tensor, kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0,
                      dilation: Size2 = 1, ceilMode: Bool = false) -> Tensor {
    maxPool2dWithIndices(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                         ceilMode: ceilMode).values
}

/// `maxPool2d` that also returns where each maximum came from: int64 indices into the
/// flattened H·W plane of the input (PyTorch's `return_indices=True`).
public func maxPool2dWithIndices(_ input: Tensor, kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0,
                                 dilation: Size2 = 1, ceilMode: Bool = false) -> (values: Tensor, indices: Tensor) {
    orStop { () throws(TensorError) in
        try maxPool2dWithIndices(validating: input, kernelSize: kernelSize, stride: stride, padding: padding,
                                 dilation: dilation, ceilMode: ceilMode)
    }
}

/// Like `maxPool2dWithIndices(_:kernelSize:stride:padding:dilation:ceilMode:)` but throws
/// on bad shapes or parameters, for configurations from user input.
public func maxPool2dWithIndices(validating input: Tensor, kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0,
                                 dilation: Size2 = 1, ceilMode: Bool = false) throws(TensorError) -> (values: Tensor, indices: Tensor) {
    let stride = stride ?? kernelSize
    let (oh, ow) = try poolOutputShape(op: "maxPool2d", input, kernel: kernelSize, stride: stride, padding: padding,
                                       dilation: dilation, ceilMode: ceilMode)
    let x = kernelOperand(input)
    let outShape = Array(input.shape.dropLast(2)) + [oh, ow]
    let indices = Tensor(uninitializedShape: outShape, dtype: .int64)
    let values = dispatchFloat(input.dtype, op: "maxPool2d",
                               { maxPoolKernel(x, indices, kernelSize, stride, padding, dilation, Float.self) },
                               { maxPoolKernel(x, indices, kernelSize, stride, padding, dilation, Double.self) })
    if needsGrad(input) {
        let inputShape = input.shape
        values.recorded("maxPool2d", [input]) { g, _ in [scatterToPlanes(g, indices, planeShape: inputShape)] }
    }
    return (values, indices)
}

/// Average pooling over windows of the last two axes, like `torch.nn.functional.avg_pool2d`.
///
/// - Parameters:
///   - countIncludePad: divide by the window size including zero padding (PyTorch's
///     default); otherwise by the number of input elements in the window.
///   - divisorOverride: divide every window sum by this instead.
public func avgPool2d(_ input: Tensor, kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Tensor {
    orStop { () throws(TensorError) in
        try avgPool2d(validating: input, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                      countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }
}

/// Like `avgPool2d(_:kernelSize:stride:padding:ceilMode:countIncludePad:divisorOverride:)`
/// but throws on bad shapes or parameters.
public func avgPool2d(validating input: Tensor, kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true,
                      divisorOverride: Int? = nil) throws(TensorError) -> Tensor {
    let stride = stride ?? kernelSize
    let (oh, ow) = try poolOutputShape(op: "avgPool2d", input, kernel: kernelSize, stride: stride, padding: padding,
                                       dilation: 1, ceilMode: ceilMode)
    if let divisorOverride, divisorOverride <= 0 {
        throw TensorError(op: "avgPool2d", "divisorOverride is \(divisorOverride); it must be positive")
    }
    func axis(_ inSize: Int, _ outSize: Int, _ k: Int, _ s: Int, _ p: Int) -> PoolWindows.Axis {
        var result = PoolWindows.Axis()
        for o in 0..<outSize {
            let start = o * s - p, paddedEnd = min(start + k, inSize + p)
            let lo = max(start, 0), hi = min(paddedEnd, inSize)
            result.append(lo, hi, divisor: countIncludePad ? paddedEnd - start : hi - lo)
        }
        return result
    }
    let windows = PoolWindows(
        h: axis(input.shape[input.rank - 2], oh, kernelSize.height, stride.height, padding.height),
        w: axis(input.shape[input.rank - 1], ow, kernelSize.width, stride.width, padding.width),
        divisorOverride: divisorOverride, inH: input.shape[input.rank - 2], inW: input.shape[input.rank - 1])
    return windowAverage(input, windows)
}

/// Average pooling to a fixed output size, like `torch.nn.functional.adaptive_avg_pool2d`:
/// output cell `i` averages input rows ⌊i·H/OH⌋ ..< ⌈(i+1)·H/OH⌉ (and likewise columns).
public func adaptiveAvgPool2d(_ input: Tensor, outputSize: Size2) -> Tensor {
    orStop { () throws(TensorError) in try adaptiveAvgPool2d(validating: input, outputSize: outputSize) }
}

/// Like `adaptiveAvgPool2d(_:outputSize:)` but throws on bad shapes or sizes.
public func adaptiveAvgPool2d(validating input: Tensor, outputSize: Size2) throws(TensorError) -> Tensor {
    try checkPoolInput(op: "adaptiveAvgPool2d", input)
    guard outputSize.height >= 1, outputSize.width >= 1 else {
        throw TensorError(op: "adaptiveAvgPool2d", "outputSize \(outputSize) must be at least 1 on each axis")
    }
    let inH = input.shape[input.rank - 2], inW = input.shape[input.rank - 1]
    func axis(_ inSize: Int, _ outSize: Int) -> PoolWindows.Axis {
        var result = PoolWindows.Axis()
        for o in 0..<outSize {
            let lo = (o * inSize) / outSize, hi = ((o + 1) * inSize + outSize - 1) / outSize
            result.append(lo, hi, divisor: hi - lo)
        }
        return result
    }
    return windowAverage(input, PoolWindows(h: axis(inH, outputSize.height), w: axis(inW, outputSize.width),
                                            divisorOverride: nil, inH: inH, inW: inW))
}

// MARK: - shapes

func checkPoolInput(op: String, _ input: Tensor) throws(TensorError) {
    guard input.rank == 3 || input.rank == 4 else {
        throw TensorError(op: op, "input has shape \(describe(input.shape)); it must be [N, C, H, W] or [C, H, W]")
    }
    guard input.dtype.isFloatingPoint else {
        throw TensorError(op: op, "needs a float32 or float64 input, got \(input.dtype); convert with .to(.float32)")
    }
}

/// The output size of a pooling window sweep, as PyTorch computes it (ceil mode drops a
/// last window that would start in the right/bottom padding).
func poolOutputSize(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, ceilMode: Bool) -> Int {
    let span = input + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0 { return 0 }
    var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
    if ceilMode && (out - 1) * stride >= input + padding { out -= 1 }
    return out
}

func poolOutputShape(op: String, _ input: Tensor, kernel: Size2, stride: Size2, padding: Size2, dilation: Size2,
                     ceilMode: Bool) throws(TensorError) -> (Int, Int) {
    try checkPoolInput(op: op, input)
    guard kernel.height >= 1, kernel.width >= 1, stride.height >= 1, stride.width >= 1,
          dilation.height >= 1, dilation.width >= 1 else {
        throw TensorError(op: op, "kernelSize \(kernel), stride \(stride) and dilation \(dilation) must be at least 1")
    }
    guard padding.height >= 0, padding.width >= 0,
          2 * padding.height <= kernel.height, 2 * padding.width <= kernel.width else {
        throw TensorError(op: op, "padding \(padding) must be between 0 and half the kernel size \(kernel)")
    }
    let h = input.shape[input.rank - 2], w = input.shape[input.rank - 1]
    let oh = poolOutputSize(input: h, kernel: kernel.height, stride: stride.height, padding: padding.height,
                            dilation: dilation.height, ceilMode: ceilMode)
    let ow = poolOutputSize(input: w, kernel: kernel.width, stride: stride.width, padding: padding.width,
                            dilation: dilation.width, ceilMode: ceilMode)
    guard oh >= 1, ow >= 1 else {
        throw TensorError(op: op, "input \(describe(input.shape)) is smaller than the window \(kernel) (padding \(padding), dilation \(dilation)): the output would be empty")
    }
    return (oh, ow)
}

// MARK: - max pooling: forward, and the gather/scatter pair its gradients use

private func maxPoolKernel<T: FloatScalar>(_ x: Tensor, _ indices: Tensor, _ k: Size2, _ s: Size2, _ p: Size2,
                                           _ d: Size2, _: T.Type) -> Tensor {
    let out = Tensor(uninitializedShape: indices.shape, dtype: x.dtype)
    let H = x.shape[x.rank - 2], W = x.shape[x.rank - 1]
    let OH = out.shape[out.rank - 2], OW = out.shape[out.rank - 1]
    let planes = out.count / max(OH * OW, 1)
    let source = UnsafePointer(x.pointer(as: T.self)), values = out.pointer(as: T.self)
    let argmax = indices.pointer(as: Int64.self)
    // ceilMode windows may hang over the bottom/right edge: those take the general loop.
    if p == Size2(0) && d == Size2(1) && (OH - 1) * s.height + k.height <= H && (OW - 1) * s.width + k.width <= W
        && OH > 0 && OW > 0 {
        maxPoolInteriorKernel(source, values, argmax, planes: planes, H: H, W: W, OH: OH, OW: OW,
                              kH: k.height, kW: k.width, sH: s.height, sW: s.width)
        return out
    }
    ThreadPool.shared.parallelFor(planes, grain: grain(itemSize: OH * OW * k.height * k.width)) { range in
        for plane in range {
            let input = source + plane * H * W, o = plane * OH * OW
            for oh in 0..<OH {
                for ow in 0..<OW {
                    var best = -T.infinity, bestIndex = -1
                    for kh in 0..<k.height {
                        let ih = oh * s.height - p.height + kh * d.height
                        if ih < 0 || ih >= H { continue }
                        for kw in 0..<k.width {
                            let iw = ow * s.width - p.width + kw * d.width
                            if iw < 0 || iw >= W { continue }
                            let v = input[ih * W + iw]
                            if v > best || v.isNaN || bestIndex < 0 {
                                best = v
                                bestIndex = ih * W + iw
                                if v.isNaN { break }
                            }
                        }
                        if best.isNaN { break }
                    }
                    values[o + oh * OW + ow] = best
                    argmax[o + oh * OW + ow] = Int64(bestIndex)
                }
            }
        }
    }
    return out
}

/// Max pooling without padding or dilation whose windows all lie inside the plane (LeNet's
/// pools, and any pool without ceil-mode overhang), so the loop needs no bounds checks (measured: the general loop took 20%
/// of the LeNet training step). Same results as the general loop: the first maximum wins,
/// and the first NaN in a window wins over everything.
private func maxPoolInteriorKernel<T: FloatScalar>(_ source: UnsafePointer<T>, _ values: UnsafeMutablePointer<T>,
                                                   _ argmax: UnsafeMutablePointer<Int64>, planes: Int, H: Int, W: Int,
                                                   OH: Int, OW: Int, kH: Int, kW: Int, sH: Int, sW: Int) {
    ThreadPool.shared.parallelFor(planes, grain: grain(itemSize: OH * OW * kH * kW)) { range in
        for plane in range {
            let input = source + plane * H * W, o = plane * OH * OW
            for oh in 0..<OH {
                let rowStart = oh * sH * W
                for ow in 0..<OW {
                    let start = rowStart + ow * sW
                    var best = input[start], bestIndex = start
                    for kh in 0..<kH {
                        let row = start + kh * W
                        for kw in 0..<kW {
                            let v = input[row + kw]
                            if !best.isNaN && (v > best || v.isNaN) {
                                best = v
                                bestIndex = row + kw
                            }
                        }
                    }
                    values[o + oh * OW + ow] = best
                    argmax[o + oh * OW + ow] = Int64(bestIndex)
                }
            }
        }
    }
}

/// A zero tensor of `planeShape` (`[…, H, W]`) with each `g[…, i]` added at plane position
/// `indices[…, i]`: max pooling's backward. Its backward is `gatherFromPlanes`.
func scatterToPlanes(_ g: Tensor, _ indices: Tensor, planeShape: [Int]) -> Tensor {
    let gc = kernelOperand(g)
    let plane = planeShape[planeShape.count - 2] * planeShape[planeShape.count - 1]
    let perPlane = indices.shape[indices.rank - 2] * indices.shape[indices.rank - 1]
    func kernel<T: FloatScalar>(_: T.Type) -> Tensor {
        let out = Tensor(uninitializedShape: planeShape, dtype: g.dtype)
        let o = out.pointer(as: T.self), gp = UnsafePointer(gc.pointer(as: T.self))
        let idx = UnsafePointer(indices.pointer(as: Int64.self))
        ThreadPool.shared.parallelFor(out.count / max(plane, 1), grain: grain(itemSize: plane + perPlane)) { range in
            for p in range {
                let target = o + p * plane
                target.initialize(repeating: 0, count: plane)
                for i in (p * perPlane)..<((p + 1) * perPlane) where idx[i] >= 0 { target[Int(idx[i])] += gp[i] }
            }
        }
        return out
    }
    let out = dispatchFloat(g.dtype, op: "maxPool2d backward", { kernel(Float.self) }, { kernel(Double.self) })
    if needsGrad(g) {
        out.recorded("maxPool2dBackward", [g]) { gg, _ in [gatherFromPlanes(gg, indices)] }
    }
    return out
}

/// `out[…, i] = x[…, indices[…, i]]` within each H·W plane. Its backward is `scatterToPlanes`.
func gatherFromPlanes(_ x: Tensor, _ indices: Tensor) -> Tensor {
    let xc = kernelOperand(x)
    let plane = x.shape[x.rank - 2] * x.shape[x.rank - 1]
    let perPlane = indices.shape[indices.rank - 2] * indices.shape[indices.rank - 1]
    func kernel<T: FloatScalar>(_: T.Type) -> Tensor {
        let out = Tensor(uninitializedShape: indices.shape, dtype: x.dtype)
        let o = out.pointer(as: T.self), xp = UnsafePointer(xc.pointer(as: T.self))
        let idx = UnsafePointer(indices.pointer(as: Int64.self))
        ThreadPool.shared.parallelFor(out.count / max(perPlane, 1), grain: grain(itemSize: perPlane)) { range in
            for p in range {
                for i in (p * perPlane)..<((p + 1) * perPlane) {
                    o[i] = idx[i] >= 0 ? xp[p * plane + Int(idx[i])] : 0
                }
            }
        }
        return out
    }
    let out = dispatchFloat(x.dtype, op: "maxPool2d gather", { kernel(Float.self) }, { kernel(Double.self) })
    if needsGrad(x) {
        let shape = x.shape
        out.recorded("gatherFromPlanes", [x]) { g, _ in [scatterToPlanes(g, indices, planeShape: shape)] }
    }
    return out
}

// MARK: - average pooling: window sums and their adjoint

/// Separable pooling windows: output (oh, ow) averages rows `h.lo[oh]..<h.hi[oh]` and
/// columns `w.lo[ow]..<w.hi[ow]`, divided by `h.divisor[oh] · w.divisor[ow]` (or the override).
struct PoolWindows {
    struct Axis {
        var lo: [Int] = [], hi: [Int] = [], divisor: [Int] = []
        mutating func append(_ l: Int, _ h: Int, divisor d: Int) {
            lo.append(l)
            hi.append(h)
            divisor.append(d)
        }
    }
    var h: Axis, w: Axis
    var divisorOverride: Int?
    var inH: Int, inW: Int

    @inline(__always)
    func divisor(_ oh: Int, _ ow: Int) -> Int { divisorOverride ?? h.divisor[oh] * w.divisor[ow] }
}

/// Average pooling with `windows`. Backward: `windowSpread` (its adjoint).
func windowAverage(_ x: Tensor, _ windows: PoolWindows) -> Tensor {
    let xc = kernelOperand(x)
    let OH = windows.h.lo.count, OW = windows.w.lo.count, H = windows.inH, W = windows.inW
    func kernel<T: FloatScalar>(_: T.Type) -> Tensor {
        let out = Tensor(uninitializedShape: Array(x.shape.dropLast(2)) + [OH, OW], dtype: x.dtype)
        let o = out.pointer(as: T.self), xp = UnsafePointer(xc.pointer(as: T.self))
        ThreadPool.shared.parallelFor(out.count / max(OH * OW, 1), grain: grain(itemSize: H * W + OH * OW)) { range in
            for p in range {
                let input = xp + p * H * W, output = o + p * OH * OW
                for oh in 0..<OH {
                    for ow in 0..<OW {
                        var sum = T.zero
                        for ih in windows.h.lo[oh]..<windows.h.hi[oh] {
                            let row = input + ih * W
                            for iw in windows.w.lo[ow]..<windows.w.hi[ow] { sum += row[iw] }
                        }
                        output[oh * OW + ow] = sum / T(windows.divisor(oh, ow))
                    }
                }
            }
        }
        return out
    }
    let out = dispatchFloat(x.dtype, op: "avgPool2d", { kernel(Float.self) }, { kernel(Double.self) })
    if needsGrad(x) {
        out.recorded("avgPool2d", [x]) { g, _ in [windowSpread(g, windows)] }
    }
    return out
}

/// The adjoint of `windowAverage`: every output gradient, divided by its window's divisor,
/// added to each input position of the window. Each plane is summed in a fixed order.
/// Backward: `windowAverage`.
func windowSpread(_ g: Tensor, _ windows: PoolWindows) -> Tensor {
    let gc = kernelOperand(g)
    let OH = windows.h.lo.count, OW = windows.w.lo.count, H = windows.inH, W = windows.inW
    func kernel<T: FloatScalar>(_: T.Type) -> Tensor {
        let out = Tensor(uninitializedShape: Array(g.shape.dropLast(2)) + [H, W], dtype: g.dtype)
        let o = out.pointer(as: T.self), gp = UnsafePointer(gc.pointer(as: T.self))
        ThreadPool.shared.parallelFor(out.count / max(H * W, 1), grain: grain(itemSize: H * W + OH * OW)) { range in
            for p in range {
                let target = o + p * H * W, source = gp + p * OH * OW
                target.initialize(repeating: 0, count: H * W)
                for oh in 0..<OH {
                    for ow in 0..<OW {
                        let v = source[oh * OW + ow] / T(windows.divisor(oh, ow))
                        for ih in windows.h.lo[oh]..<windows.h.hi[oh] {
                            let row = target + ih * W
                            for iw in windows.w.lo[ow]..<windows.w.hi[ow] { row[iw] += v }
                        }
                    }
                }
            }
        }
        return out
    }
    let out = dispatchFloat(g.dtype, op: "avgPool2d backward", { kernel(Float.self) }, { kernel(Double.self) })
    if needsGrad(g) {
        out.recorded("avgPool2dBackward", [g]) { gg, _ in [windowAverage(gg, windows)] }
    }
    return out
}
