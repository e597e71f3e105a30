// Batch, layer and group normalization with PyTorch's semantics. The forward passes and
// the first-order backward passes are fused kernels (NormalizationKernels.swift); when the
// backward pass is itself recorded (createGraph, Hessian-vector products) the gradients
// are computed with tensor operations instead, so they can be differentiated again.

/// Batch normalization over the channel axis 1 of an `[N, C]` or `[N, C, *]` input, like
/// `torch.nn.functional.batch_norm`.
///
/// - In training, each channel is normalized with the batch's mean and biased variance
///   (over N and the spatial axes), and the running statistics, when given, are updated in
///   place (not recorded): `running = (1 − momentum)·running + momentum·batch`, with the
///   unbiased variance for `runningVar`.
/// - In evaluation (`training: false`) the running statistics are used, so the op is a
///   per-channel affine map.
///
/// `y = (x − mean)/√(var + eps)·weight + bias`, with weight 1 and bias 0 when nil.
/// Gradients flow to the input, weight and bias, and can be differentiated again.
public func batchNorm(_ input: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor? = nil,
                      bias: Tensor? = nil, training: Bool, momentum: Double = 0.1, eps: Double = 1e-5) -> Tensor {
    orStop { () throws(TensorError) in
        try validateBatchNorm(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                              training: training)
    }
    let shape = input.shape, dtype = input.dtype
    let n = shape[0], c = shape[1], s = shape[2...].reduce(1, *), m = n * s
    let x = noGrad { input.contiguous() }.detach()
    let mean: [Double], invstd: [Double]
    if training {
        let variance: [Double]
        (mean, variance) = batchMoments(x, n: n, c: c, s: s)
        invstd = variance.map { 1 / ($0 + eps).squareRoot() }
        if let runningMean, let runningVar {
            let unbiased = variance.map { $0 * Double(m) / Double(m - 1) }
            blendInPlace(runningMean, mean, momentum: momentum)
            blendInPlace(runningVar, unbiased, momentum: momentum)
        }
    } else {
        mean = runningMean!.doubles
        invstd = runningVar!.doubles.map { 1 / ($0 + eps).squareRoot() }
    }
    let w = weight?.doubles ?? [Double](repeating: 1, count: c)
    let b = bias?.doubles ?? [Double](repeating: 0, count: c)
    let out = Tensor(uninitializedShape: shape, dtype: dtype)
    func forward<T: FloatScalar>(_: T.Type) {
        planeAffine(x.pointer(as: T.self), out.pointer(as: T.self), planes: n * c, size: s,
                    m: mean, a: zip(invstd, w).map(*), b: b)
    }
    if input.count > 0 {
        switch dtype {
        case .float32: forward(Float.self)
        case .float64: forward(Double.self)
        default: unsupportedDType(dtype, op: "batchNorm")
        }
    }
    let inputs = [input] + [weight, bias].compactMap { $0 }
    guard needsGrad(inputs) else { return out }
    let axes = [0] + Array(2..<shape.count)
    let channelShape = [1, c] + [Int](repeating: 1, count: shape.count - 2)
    return out.recorded("batchNorm", inputs) { g, _ in
        let needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
        var dx: Tensor?, dw: Tensor?, db: Tensor?
        if !needsGrad([g, input] + [weight].compactMap { $0 }) {
            // First-order backward: sums per channel, then one elementwise pass.
            let gc = g.contiguous()
            var sg = [Double](repeating: 0, count: c), sgx = sg
            if training || needW || needB { (sg, sgx) = batchGradientSums(gc, x, n: n, c: c, s: s, centers: mean) }
            if input.requiresGrad {
                let a = zip(w, invstd).map(*)
                let slope = training ? (0..<c).map { -a[$0] * invstd[$0] * invstd[$0] * sgx[$0] / Double(m) } : [Double](repeating: 0, count: c)
                let constant = training ? (0..<c).map { -a[$0] * sg[$0] / Double(m) } : [Double](repeating: 0, count: c)
                dx = fusedPlaneBackward(gc, x, planes: n * c, size: s, A: a, B: slope, m: mean, C: constant)
            }
            if needW { dw = Tensor(zip(invstd, sgx).map(*), shape: [c], dtype: dtype) }
            if needB { db = Tensor(sg, shape: [c], dtype: dtype) }
        } else {
            let ghat = weight.map { g * $0.reshaped(channelShape) } ?? g
            let xhat: Tensor
            if training {
                (xhat, dx) = normalizedGradient(input, ghat, axes: axes, eps: eps)
            } else {
                let scale = Tensor(invstd, shape: channelShape, dtype: dtype)
                xhat = (input - Tensor(mean, shape: channelShape, dtype: dtype)) * scale
                dx = ghat * scale
            }
            if needW { dw = (g * xhat).sum(axes: axes) }
            if needB { db = g.sum(axes: axes) }
        }
        return [input.requiresGrad ? dx : nil] + (weight == nil ? [] : [dw]) + (bias == nil ? [] : [db])
    }
}

/// Layer normalization over the trailing axes `normalizedShape` of `input`, like
/// `torch.nn.functional.layer_norm`: each row is normalized by its own mean and biased
/// variance, then scaled by `weight` and shifted by `bias` (both of `normalizedShape`,
/// elementwise; 1 and 0 when nil). Differentiable to any order.
public func layerNorm(_ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                      eps: Double = 1e-5) -> Tensor {
    orStop { () throws(TensorError) in
        try validateLayerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias)
    }
    let shape = input.shape, dtype = input.dtype
    let n = normalizedShape.reduce(1, *), rows = n == 0 ? 0 : input.count / n
    let x = noGrad { input.contiguous() }.detach()
    let wc = weight.map { w in noGrad { w.contiguous() }.detach() }, bc = bias.map { b in noGrad { b.contiguous() }.detach() }
    let out = Tensor(uninitializedShape: shape, dtype: dtype)
    var mean: [Double] = [], invstd: [Double] = []
    func forward<T: FloatScalar>(_: T.Type) {
        (mean, invstd) = layerNormRows(x.pointer(as: T.self), out.pointer(as: T.self), rows: rows, n: n,
                                       weight: wc.map { UnsafePointer($0.pointer(as: T.self)) },
                                       bias: bc.map { UnsafePointer($0.pointer(as: T.self)) }, eps: eps)
    }
    if input.count > 0 {
        switch dtype {
        case .float32: forward(Float.self)
        case .float64: forward(Double.self)
        default: unsupportedDType(dtype, op: "layerNorm")
        }
    }
    let inputs = [input] + [weight, bias].compactMap { $0 }
    guard needsGrad(inputs) else { return out }
    let axes = Array((shape.count - normalizedShape.count)..<shape.count)
    let leading = Array(0..<(shape.count - normalizedShape.count))
    return out.recorded("layerNorm", inputs) { [mean, invstd] g, _ in
        let needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
        var dx: Tensor?, dw: Tensor?, db: Tensor?
        if !needsGrad([g, input] + [weight].compactMap { $0 }) {
            let gc = g.contiguous()
            let dxOut = input.requiresGrad ? Tensor(uninitializedShape: shape, dtype: dtype) : nil
            var sums: (weight: [Double], bias: [Double]) = ([Double](repeating: 0, count: n), [Double](repeating: 0, count: n))
            func backward<T: FloatScalar>(_: T.Type) {
                sums = layerNormBackwardRows(gc.pointer(as: T.self), x.pointer(as: T.self), dxOut?.pointer(as: T.self),
                                             rows: rows, n: n, weight: wc.map { UnsafePointer($0.pointer(as: T.self)) },
                                             mean: mean, invstd: invstd, weightGrads: needW || needB)
            }
            if rows > 0 && n > 0 {
                switch dtype {
                case .float32: backward(Float.self)
                case .float64: backward(Double.self)
                default: unsupportedDType(dtype, op: "layerNorm")
                }
            }
            dx = dxOut
            if needW { dw = Tensor(sums.weight.isEmpty ? [Double](repeating: 0, count: n) : sums.weight, shape: normalizedShape, dtype: dtype) }
            if needB { db = Tensor(sums.bias.isEmpty ? [Double](repeating: 0, count: n) : sums.bias, shape: normalizedShape, dtype: dtype) }
        } else {
            let ghat = weight.map { g * $0 } ?? g
            let (xhat, gradient) = normalizedGradient(input, ghat, axes: axes, eps: eps)
            dx = gradient
            if needW { dw = (g * xhat).sum(axes: leading) }
            if needB { db = g.sum(axes: leading) }
        }
        return [input.requiresGrad ? dx : nil] + (weight == nil ? [] : [dw]) + (bias == nil ? [] : [db])
    }
}

/// Group normalization of an `[N, C, *]` input, like `torch.nn.functional.group_norm`:
/// the C channels are split into `groups` groups of consecutive channels, each sample's
/// group is normalized by its own mean and biased variance, and channel c is then scaled
/// by `weight[c]` and shifted by `bias[c]` (shape `[C]`; 1 and 0 when nil).
/// Differentiable to any order.
public func groupNorm(_ input: Tensor, groups: Int, weight: Tensor? = nil, bias: Tensor? = nil,
                      eps: Double = 1e-5) -> Tensor {
    orStop { () throws(TensorError) in try validateGroupNorm(input, groups: groups, weight: weight, bias: bias) }
    let shape = input.shape, dtype = input.dtype
    let n = shape[0], c = shape[1], s = shape[2...].reduce(1, *)
    let perGroup = c / groups, length = perGroup * s
    let x = noGrad { input.contiguous() }.detach()
    let w = weight?.doubles ?? [Double](repeating: 1, count: c)
    let b = bias?.doubles ?? [Double](repeating: 0, count: c)
    let out = Tensor(uninitializedShape: shape, dtype: dtype)
    var mean: [Double] = [], invstd: [Double] = []
    func forward<T: FloatScalar>(_: T.Type) {
        let p = x.pointer(as: T.self)
        let shifts = (0..<(n * groups)).map { Double(p[$0 * length]) }
        let (s1, s2) = planeSums(UnsafePointer(p), gradient: nil, planes: n * groups, size: length,
                                 centers: shifts, divisor: 1)
        let moments = (0..<(n * groups)).map { momentsFromShiftedSums(s1[$0], s2[$0], shift: shifts[$0], count: length) }
        mean = moments.map(\.mean)
        invstd = moments.map { 1 / ($0.variance + eps).squareRoot() }
        // Per (sample, channel) plane: its group's statistics and its channel's affine.
        let planeMean = (0..<(n * c)).map { mean[$0 / perGroup] }
        let planeScale = (0..<(n * c)).map { invstd[$0 / perGroup] * w[$0 % c] }
        let planeBias = (0..<(n * c)).map { b[$0 % c] }
        planeAffine(UnsafePointer(p), out.pointer(as: T.self), planes: n * c, size: s, m: planeMean, a: planeScale, b: planeBias)
    }
    if input.count > 0 {
        switch dtype {
        case .float32: forward(Float.self)
        case .float64: forward(Double.self)
        default: unsupportedDType(dtype, op: "groupNorm")
        }
    }
    let inputs = [input] + [weight, bias].compactMap { $0 }
    guard needsGrad(inputs) else { return out }
    let axes = [0] + Array(2..<shape.count)
    let channelShape = [1, c] + [Int](repeating: 1, count: shape.count - 2)
    return out.recorded("groupNorm", inputs) { [mean, invstd] g, _ in
        let needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
        var dx: Tensor?, dw: Tensor?, db: Tensor?
        if !needsGrad([g, input] + [weight].compactMap { $0 }) {
            let gc = g.contiguous()
            let (sg, sgx) = groupGradientSums(gc, x, planes: n * c, size: s, mean: mean, perGroup: perGroup)
            if input.requiresGrad {
                var groupG = [Double](repeating: 0, count: n * groups), groupGX = groupG
                for p in 0..<(n * c) {
                    groupG[p / perGroup] += w[p % c] * sg[p]
                    groupGX[p / perGroup] += w[p % c] * sgx[p]
                }
                let l = Double(length)
                let a = (0..<(n * c)).map { invstd[$0 / perGroup] * w[$0 % c] }
                let slope = (0..<(n * c)).map { p -> Double in
                    let inv = invstd[p / perGroup]
                    return -inv * inv * inv * groupGX[p / perGroup] / l
                }
                let constant = (0..<(n * c)).map { -invstd[$0 / perGroup] * groupG[$0 / perGroup] / l }
                let planeMean = (0..<(n * c)).map { mean[$0 / perGroup] }
                dx = fusedPlaneBackward(gc, x, planes: n * c, size: s, A: a, B: slope, m: planeMean, C: constant)
            }
            var channelW = [Double](repeating: 0, count: c), channelB = channelW
            for p in 0..<(n * c) {
                channelW[p % c] += invstd[p / perGroup] * sgx[p]
                channelB[p % c] += sg[p]
            }
            if needW { dw = Tensor(channelW, shape: [c], dtype: dtype) }
            if needB { db = Tensor(channelB, shape: [c], dtype: dtype) }
        } else {
            let ghat = weight.map { g * $0.reshaped(channelShape) } ?? g
            let grouped = [n, groups, length]
            let (xhatGrouped, dxGrouped) = normalizedGradient(input.reshaped(grouped), ghat.reshaped(grouped), axes: [2], eps: eps)
            dx = dxGrouped.reshaped(shape)
            let xhat = xhatGrouped.reshaped(shape)
            if needW { dw = (g * xhat).sum(axes: axes) }
            if needB { db = g.sum(axes: axes) }
        }
        return [input.requiresGrad ? dx : nil] + (weight == nil ? [] : [dw]) + (bias == nil ? [] : [db])
    }
}

// MARK: pieces

/// x̂ and the input gradient of "normalize over `axes`" from ĝ (the gradient of x̂), in
/// tensor operations: dx = invstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)).
private func normalizedGradient(_ x: Tensor, _ ghat: Tensor, axes: [Int], eps: Double) -> (xhat: Tensor, dx: Tensor) {
    let centered = x - x.mean(axes: axes, keepDims: true)
    let invstd = ((centered * centered).mean(axes: axes, keepDims: true) + eps).rsqrt()
    let xhat = centered * invstd
    let dx = invstd * (ghat - ghat.mean(axes: axes, keepDims: true) - xhat * (ghat * xhat).mean(axes: axes, keepDims: true))
    return (xhat, dx)
}

/// Per-channel mean and biased variance of a contiguous `[n, c, s]` input.
private func batchMoments(_ x: Tensor, n: Int, c: Int, s: Int) -> (mean: [Double], variance: [Double]) {
    func run<T: FloatScalar>(_: T.Type) -> ([Double], [Double]) {
        let p = UnsafePointer(x.pointer(as: T.self))
        let shifts = (0..<c).map { Double(p[$0 * s]) }
        var s1 = [Double](repeating: 0, count: c), s2 = s1
        if s == 1 {
            (s1, s2) = columnSums(p, gradient: nil, rows: n, columns: c, centers: shifts)
        } else {
            let (f, q) = planeSums(p, gradient: nil, planes: n * c, size: s, centers: shifts, divisor: 1)
            for plane in 0..<(n * c) {
                s1[plane % c] += f[plane]
                s2[plane % c] += q[plane]
            }
        }
        let moments = (0..<c).map { momentsFromShiftedSums(s1[$0], s2[$0], shift: shifts[$0], count: n * s) }
        return (moments.map(\.mean), moments.map(\.variance))
    }
    switch x.dtype {
    case .float32: return run(Float.self)
    case .float64: return run(Double.self)
    default: unsupportedDType(x.dtype, op: "batchNorm")
    }
}

/// Per-channel Σg and Σg·(x − centers[c]) of contiguous `[n, c, s]` tensors.
private func batchGradientSums(_ g: Tensor, _ x: Tensor, n: Int, c: Int, s: Int, centers: [Double]) -> ([Double], [Double]) {
    func run<T: FloatScalar>(_: T.Type) -> ([Double], [Double]) {
        let pg = UnsafePointer(g.pointer(as: T.self)), px = UnsafePointer(x.pointer(as: T.self))
        if s == 1 { return columnSums(px, gradient: pg, rows: n, columns: c, centers: centers) }
        let (f, q) = planeSums(px, gradient: pg, planes: n * c, size: s, centers: centers, divisor: 1)
        var s1 = [Double](repeating: 0, count: c), s2 = s1
        for plane in 0..<(n * c) {
            s1[plane % c] += f[plane]
            s2[plane % c] += q[plane]
        }
        return (s1, s2)
    }
    guard x.count > 0 else { return ([Double](repeating: 0, count: c), [Double](repeating: 0, count: c)) }
    switch x.dtype {
    case .float32: return run(Float.self)
    case .float64: return run(Double.self)
    default: unsupportedDType(x.dtype, op: "batchNorm")
    }
}

/// Per-(sample, channel) Σg and Σg·(x − mean of the plane's group) for group norm.
private func groupGradientSums(_ g: Tensor, _ x: Tensor, planes: Int, size: Int, mean: [Double], perGroup: Int) -> ([Double], [Double]) {
    func run<T: FloatScalar>(_: T.Type) -> ([Double], [Double]) {
        planeSums(UnsafePointer(x.pointer(as: T.self)), gradient: UnsafePointer(g.pointer(as: T.self)), planes: planes,
                  size: size, centers: mean, divisor: perGroup)
    }
    guard x.count > 0 else { return ([Double](repeating: 0, count: planes), [Double](repeating: 0, count: planes)) }
    switch x.dtype {
    case .float32: return run(Float.self)
    case .float64: return run(Double.self)
    default: unsupportedDType(x.dtype, op: "groupNorm")
    }
}

/// `A·g + B·(x − m) + C` per plane, as a new tensor of `x`'s shape.
private func fusedPlaneBackward(_ g: Tensor, _ x: Tensor, planes: Int, size: Int,
                                A: [Double], B: [Double], m: [Double], C: [Double]) -> Tensor {
    let dx = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
    guard x.count > 0 else { return dx }
    func run<T: FloatScalar>(_: T.Type) {
        planeBackward(g.pointer(as: T.self), x.pointer(as: T.self), dx.pointer(as: T.self), planes: planes, size: size,
                      A: A, B: B, m: m, C: C)
    }
    switch x.dtype {
    case .float32: run(Float.self)
    case .float64: run(Double.self)
    default: unsupportedDType(x.dtype, op: "normalization backward")
    }
    return dx
}

/// `running = (1 − momentum)·running + momentum·batch`, in place (not recorded).
private func blendInPlace(_ running: Tensor, _ batch: [Double], momentum: Double) {
    func run<T: FloatScalar>(_: T.Type) {
        let p = running.pointer(as: T.self)
        for i in batch.indices { p[i] = T((1 - momentum) * Double(p[i]) + momentum * batch[i]) }
    }
    switch running.dtype {
    case .float32: run(Float.self)
    case .float64: run(Double.self)
    default: unsupportedDType(running.dtype, op: "batchNorm")
    }
}

// MARK: validation

/// Checks a per-channel (or per-feature) tensor against the shape it must have.
private func checkAffine(_ tensor: Tensor?, _ name: String, expected: [Int], input: Tensor, op: String,
                         what: String) throws(TensorError) {
    guard let tensor else { return }
    guard tensor.shape == expected else {
        throw TensorError(op: op, "\(name) has shape \(describe(tensor.shape)) but the input of shape \(describe(input.shape)) \(what); pass a \(name) of shape \(describe(expected))")
    }
    guard tensor.dtype == input.dtype else {
        throw TensorError(op: op, "\(name) is \(tensor.dtype) but the input is \(input.dtype); convert it with .to(.\(input.dtype))")
    }
}

/// The checks of `batchNorm`, throwing the message it stops with.
func validateBatchNorm(_ input: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                       training: Bool) throws(TensorError) {
    let op = "batchNorm"
    guard input.dtype.isFloatingPoint else {
        throw TensorError(op: op, "needs a float32 or float64 input, got \(input.dtype); convert with .to(.float32)")
    }
    guard input.rank >= 2 else {
        throw TensorError(op: op, "the input of shape \(describe(input.shape)) has no channel axis; pass [N, C] or [N, C, ...]")
    }
    let c = input.shape[1]
    let what = "has \(c) channels (axis 1)"
    for (tensor, name) in [(weight, "weight"), (bias, "bias"), (runningMean, "runningMean"), (runningVar, "runningVar")] {
        try checkAffine(tensor, name, expected: [c], input: input, op: op, what: what)
    }
    guard (runningMean == nil) == (runningVar == nil) else {
        throw TensorError(op: op, "pass both runningMean and runningVar, or neither")
    }
    for stat in [runningMean, runningVar].compactMap({ $0 }) where training {
        guard stat.isContiguous && !stat.requiresGrad else {
            throw TensorError(op: op, "running statistics are updated in place, so they must be contiguous and must not require grad")
        }
    }
    if training {
        guard input.count / Swift.max(c, 1) > 1 else {
            throw TensorError(op: op, "training needs more than one value per channel, got an input of shape \(describe(input.shape)); use a larger batch or evaluation mode")
        }
    } else if runningMean == nil {
        throw TensorError(op: op, "evaluation mode (training: false) needs runningMean and runningVar")
    }
}

/// The checks of `layerNorm`, throwing the message it stops with.
func validateLayerNorm(_ input: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?) throws(TensorError) {
    let op = "layerNorm"
    guard input.dtype.isFloatingPoint else {
        throw TensorError(op: op, "needs a float32 or float64 input, got \(input.dtype); convert with .to(.float32)")
    }
    guard !normalizedShape.isEmpty, normalizedShape.count <= input.rank,
          Array(input.shape.suffix(normalizedShape.count)) == normalizedShape else {
        throw TensorError(op: op, "normalizedShape \(describe(normalizedShape)) is not the trailing part of the input shape \(describe(input.shape)); pass the sizes of the last axes to normalize over")
    }
    let what = "is normalized over \(describe(normalizedShape))"
    try checkAffine(weight, "weight", expected: normalizedShape, input: input, op: op, what: what)
    try checkAffine(bias, "bias", expected: normalizedShape, input: input, op: op, what: what)
}

/// The checks of `groupNorm`, throwing the message it stops with.
func validateGroupNorm(_ input: Tensor, groups: Int, weight: Tensor?, bias: Tensor?) throws(TensorError) {
    let op = "groupNorm"
    guard input.dtype.isFloatingPoint else {
        throw TensorError(op: op, "needs a float32 or float64 input, got \(input.dtype); convert with .to(.float32)")
    }
    guard input.rank >= 2 else {
        throw TensorError(op: op, "the input of shape \(describe(input.shape)) has no channel axis; pass [N, C] or [N, C, ...]")
    }
    let c = input.shape[1]
    guard groups > 0, c % groups == 0 else {
        throw TensorError(op: op, "\(c) channels (axis 1 of the input of shape \(describe(input.shape))) cannot be split into \(groups) groups; the channel count must be a multiple of groups")
    }
    let what = "has \(c) channels (axis 1)"
    try checkAffine(weight, "weight", expected: [c], input: input, op: op, what: what)
    try checkAffine(bias, "bias", expected: [c], input: input, op: op, what: what)
}
