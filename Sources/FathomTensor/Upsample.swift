// Resizing the last two axes (torch.nn.functional.interpolate, nearest and bilinear), on a
// separable two-tap resampling kernel that reflect/replicate padding share. The kernel and
// its adjoint are each other's backward, so gradients of any order exist.

/// How `upsample` computes an output pixel from the input.
public enum InterpolationMode: Sendable, Equatable {
    /// The input pixel at ⌊dst · in/out⌋ (PyTorch's `mode="nearest"`).
    case nearest
    /// Linear interpolation along each axis (PyTorch's `mode="bilinear"`). With
    /// `alignCorners` the corner pixels of input and output coincide; without it pixel
    /// centres are aligned (half-pixel offsets) and edge pixels are repeated.
    case bilinear(alignCorners: Bool)
}

/// Resizes the spatial axes of [N, C, H, W] to `size`, like `torch.nn.functional.interpolate`
/// (which also shrinks: the name follows PyTorch's `upsample`).
public func upsample(_ input: Tensor, size: Size2, mode: InterpolationMode = .nearest) -> Tensor {
    orStop { () throws(TensorError) in try upsample(validating: input, size: size, scaleFactors: nil, mode: mode) }
}

/// Resizes the spatial axes by `scaleFactor` (output ⌊H · scale⌋ × ⌊W · scale⌋); as in
/// PyTorch, the factor itself (not the rounded size ratio) maps output to input positions.
public func upsample(_ input: Tensor, scaleFactor: Double, mode: InterpolationMode = .nearest) -> Tensor {
    upsample(input, scaleFactors: (scaleFactor, scaleFactor), mode: mode)
}

/// Resizes the spatial axes by a factor per axis (height, width).
public func upsample(_ input: Tensor, scaleFactors: (height: Double, width: Double),
                     mode: InterpolationMode = .nearest) -> Tensor {
    orStop { () throws(TensorError) in try upsample(validating: input, size: nil, scaleFactors: scaleFactors, mode: mode) }
}

/// `upsample` with exactly one of `size` and `scaleFactors`, throwing on bad shapes or
/// sizes, for configurations from user input.
public func upsample(validating input: Tensor, size: Size2?, scaleFactors: (height: Double, width: Double)?,
                     mode: InterpolationMode = .nearest) throws(TensorError) -> Tensor {
    let op = "upsample"
    guard input.rank == 4 else {
        throw TensorError(op: op, "input has shape \(describe(input.shape)); it must be 4-d [N, C, H, W]")
    }
    guard input.dtype.isFloatingPoint else {
        throw TensorError(op: op, "needs a float32 or float64 input, got \(input.dtype); convert with .to(.float32)")
    }
    guard (size == nil) != (scaleFactors == nil) else {
        throw TensorError(op: op, "pass exactly one of size and scaleFactors")
    }
    let h = input.shape[2], w = input.shape[3]
    var outH: Int, outW: Int
    if let size {
        (outH, outW) = (size.height, size.width)
    } else {
        let s = scaleFactors!
        guard s.height > 0, s.width > 0, s.height.isFinite, s.width.isFinite else {
            throw TensorError(op: op, "scale factors (\(s.height), \(s.width)) must be positive and finite")
        }
        (outH, outW) = (Int((Double(h) * s.height).rounded(.down)), Int((Double(w) * s.width).rounded(.down)))
    }
    guard outH >= 1, outW >= 1, h >= 1, w >= 1 else {
        throw TensorError(op: op, "cannot resize \(describe(input.shape)) to \(outH)×\(outW); both sizes must be at least 1")
    }
    // PyTorch maps with 1/scale when a factor is given, with in/out otherwise.
    let scaleH = scaleFactors.map { 1 / $0.height } ?? Double(h) / Double(outH)
    let scaleW = scaleFactors.map { 1 / $0.width } ?? Double(w) / Double(outW)
    let plan: Resample2D
    switch mode {
    case .nearest:
        plan = Resample2D(h: .nearest(input: h, output: outH, scale: scaleH), w: .nearest(input: w, output: outW, scale: scaleW))
    case .bilinear(let alignCorners):
        plan = Resample2D(h: .linear(input: h, output: outH, scale: scaleH, alignCorners: alignCorners),
                          w: .linear(input: w, output: outW, scale: scaleW, alignCorners: alignCorners))
    }
    return resample(input, plan)
}

// MARK: - separable two-tap resampling

/// Along one axis, output position `o` reads `weight0[o]·x[index0[o]] + weight1[o]·x[index1[o]]`.
struct ResampleAxis {
    var inSize: Int
    var index0: [Int] = [], index1: [Int] = []
    var weight0: [Double] = [], weight1: [Double] = []
    var outSize: Int { index0.count }
    /// Every position reads one input (weight 1): nearest, padding.
    var isSingleTap: Bool { weight1.allSatisfy { $0 == 0 } && weight0.allSatisfy { $0 == 1 } }

    /// Output `o` copies input `map(o)`.
    static func copying(input: Int, output: Int, _ map: (Int) -> Int) -> ResampleAxis {
        var axis = ResampleAxis(inSize: input)
        for o in 0..<output {
            let i = map(o)
            axis.index0.append(i)
            axis.index1.append(i)
            axis.weight0.append(1)
            axis.weight1.append(0)
        }
        return axis
    }

    static func identity(_ size: Int) -> ResampleAxis { copying(input: size, output: size) { $0 } }

    static func nearest(input: Int, output: Int, scale: Double) -> ResampleAxis {
        copying(input: input, output: output) { min(Int((Double($0) * scale).rounded(.down)), input - 1) }
    }

    /// PyTorch's linear source index and weights (`area_pixel_compute_source_index`).
    static func linear(input: Int, output: Int, scale: Double, alignCorners: Bool) -> ResampleAxis {
        var axis = ResampleAxis(inSize: input)
        let cornerScale = output > 1 ? Double(input - 1) / Double(output - 1) : 0
        for o in 0..<output {
            let source = alignCorners ? Double(o) * cornerScale : max((Double(o) + 0.5) * scale - 0.5, 0)
            let i0 = min(Int(source), input - 1)
            let i1 = i0 + (i0 < input - 1 ? 1 : 0)
            let lambda1 = source - Double(i0)
            axis.index0.append(i0)
            axis.index1.append(i1)
            axis.weight0.append(1 - lambda1)
            axis.weight1.append(lambda1)
        }
        return axis
    }
}

/// A separable map of the last two axes: rows by `h`, columns by `w`.
struct Resample2D {
    var h: ResampleAxis, w: ResampleAxis
    var isSingleTap: Bool { h.isSingleTap && w.isSingleTap }
}

/// Applies `plan` to the last two axes of `x` (rank ≥ 2). Backward: `resampleAdjoint`.
func resample(_ x: Tensor, _ plan: Resample2D) -> Tensor {
    let xc = kernelOperand(x)
    let H = plan.h.inSize, W = plan.w.inSize, OH = plan.h.outSize, OW = plan.w.outSize
    let single = plan.isSingleTap
    func kernel<T: FloatScalar>(_: T.Type) -> Tensor {
        let out = Tensor(uninitializedShape: Array(x.shape.dropLast(2)) + [OH, OW], dtype: x.dtype)
        let o = out.pointer(as: T.self), xp = UnsafePointer(xc.pointer(as: T.self))
        let wa = plan.h.weight0.map { T($0) }, wb = plan.h.weight1.map { T($0) }
        let va = plan.w.weight0.map { T($0) }, vb = plan.w.weight1.map { T($0) }
        ThreadPool.shared.parallelFor(out.count / max(OH * OW, 1), grain: grain(itemSize: OH * OW)) { range in
            for p in range {
                let input = xp + p * H * W, output = o + p * OH * OW
                for oh in 0..<OH {
                    let r0 = input + plan.h.index0[oh] * W, r1 = input + plan.h.index1[oh] * W
                    let row = output + oh * OW
                    if single {
                        for ow in 0..<OW { row[ow] = r0[plan.w.index0[ow]] }
                        continue
                    }
                    let a0 = wa[oh], a1 = wb[oh]
                    for ow in 0..<OW {
                        let j0 = plan.w.index0[ow], j1 = plan.w.index1[ow], b0 = va[ow], b1 = vb[ow]
                        row[ow] = a0 * (b0 * r0[j0] + b1 * r0[j1]) + a1 * (b0 * r1[j0] + b1 * r1[j1])
                    }
                }
            }
        }
        return out
    }
    let out = dispatchFloat(x.dtype, op: "upsample", { kernel(Float.self) }, { kernel(Double.self) })
    if needsGrad(x) {
        out.recorded("resample", [x]) { g, _ in [resampleAdjoint(g, plan)] }
    }
    return out
}

/// The adjoint of `resample`: each output gradient, times its tap weights, added to the
/// inputs it was read from (per plane, in a fixed order). Backward: `resample`.
func resampleAdjoint(_ g: Tensor, _ plan: Resample2D) -> Tensor {
    let gc = kernelOperand(g)
    let H = plan.h.inSize, W = plan.w.inSize, OH = plan.h.outSize, OW = plan.w.outSize
    let single = plan.isSingleTap
    func kernel<T: FloatScalar>(_: T.Type) -> Tensor {
        let out = Tensor(uninitializedShape: Array(g.shape.dropLast(2)) + [H, W], dtype: g.dtype)
        let o = out.pointer(as: T.self), gp = UnsafePointer(gc.pointer(as: T.self))
        let wa = plan.h.weight0.map { T($0) }, wb = plan.h.weight1.map { T($0) }
        let va = plan.w.weight0.map { T($0) }, vb = plan.w.weight1.map { T($0) }
        ThreadPool.shared.parallelFor(out.count / max(H * W, 1), grain: grain(itemSize: OH * OW + H * W)) { range in
            for p in range {
                let target = o + p * H * W, source = gp + p * OH * OW
                target.initialize(repeating: 0, count: H * W)
                for oh in 0..<OH {
                    let r0 = target + plan.h.index0[oh] * W, r1 = target + plan.h.index1[oh] * W
                    let row = source + oh * OW
                    if single {
                        for ow in 0..<OW { r0[plan.w.index0[ow]] += row[ow] }
                        continue
                    }
                    let a0 = wa[oh], a1 = wb[oh]
                    for ow in 0..<OW {
                        let j0 = plan.w.index0[ow], j1 = plan.w.index1[ow], b0 = va[ow], b1 = vb[ow]
                        let v0 = a0 * row[ow], v1 = a1 * row[ow]
                        r0[j0] += b0 * v0
                        r0[j1] += b1 * v0
                        r1[j0] += b0 * v1
                        r1[j1] += b1 * v1
                    }
                }
            }
        }
        return out
    }
    let out = dispatchFloat(g.dtype, op: "upsample backward", { kernel(Float.self) }, { kernel(Double.self) })
    if needsGrad(g) {
        out.recorded("resampleBackward", [g]) { gg, _ in [resample(gg, plan)] }
    }
    return out
}
