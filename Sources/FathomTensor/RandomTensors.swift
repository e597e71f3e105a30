// Random tensors: uniform, normal, truncated normal, Bernoulli, integers, permutations.
//
// Every draw takes a `generator` (the default one when nil) or a `seed` (a fresh
// generator). Elements are computed from Philox blocks by position, in parallel, with the
// same bits for any thread count. Float32 draws use 24 random bits per uniform, float64
// draws 53.

import RealModule

extension Tensor {
    // MARK: uniform

    /// Uniform samples in [0, 1), like `torch.rand`.
    public static func rand(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        uniform(shape, low: 0, high: 1, dtype: dtype, generator: generator)
    }

    /// `rand` from a fresh generator seeded with `seed`.
    public static func rand(_ shape: [Int], dtype: DType = .float32, seed: UInt64) -> Tensor {
        rand(shape, dtype: dtype, generator: Generator(seed: seed))
    }

    /// Uniform samples in [low, high), like `torch.empty(shape).uniform_(low, high)`.
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               generator: Generator? = nil) -> Tensor {
        precondition(low <= high && low.isFinite && high.isFinite,
                     "Fathom.uniform: needs finite low <= high, got low \(low), high \(high)")
        let out = randomOutput(shape, dtype: dtype, op: "uniform")
        let n = out.count
        switch dtype {
        case .float32:
            let lo = Float(low), width = Float(high) - Float(low), top = Float(high)
            let (key, base) = (generator ?? .default).reserve(elements: n, perGroup: 32)
            let below = top.nextDown
            @inline(__always) func map(_ w: SIMD8<UInt32>) -> SIMD8<Float> {
                // Rounding can land on `high`; keep the interval half-open.
                let v = lo + width * unitFloats(w)
                return width == 0 ? v : v.replacing(with: below, where: v .>= top)
            }
            fillGroups(out.pointer(as: Float.self), count: n, perGroup: 32, key: key, base: base) { l, _, o in
                store(map(l.w0), o); store(map(l.w1), o + 8); store(map(l.w2), o + 16); store(map(l.w3), o + 24)
            }
        case .float64:
            let width = high - low
            let (key, base) = (generator ?? .default).reserve(elements: n, perGroup: 16)
            fillGroups(out.pointer(as: Double.self), count: n, perGroup: 16, key: key, base: base) { l, _, o in
                for b in 0..<8 {
                    let v0 = low + width * unitDouble(l.w0[b], l.w1[b]), v1 = low + width * unitDouble(l.w2[b], l.w3[b])
                    o[b] = v0 < high || width == 0 ? v0 : high.nextDown
                    o[b + 8] = v1 < high || width == 0 ? v1 : high.nextDown
                }
            }
        default: unsupportedDType(dtype, op: "uniform")
        }
        return out
    }

    /// `uniform` from a fresh generator seeded with `seed`.
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               seed: UInt64) -> Tensor {
        uniform(shape, low: low, high: high, dtype: dtype, generator: Generator(seed: seed))
    }

    // MARK: normal

    /// Standard normal samples, like `torch.randn` (Box–Muller on pairs of uniforms).
    public static func randn(_ shape: [Int], dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        normal(shape, mean: 0, std: 1, dtype: dtype, generator: generator)
    }

    /// `randn` from a fresh generator seeded with `seed`.
    public static func randn(_ shape: [Int], dtype: DType = .float32, seed: UInt64) -> Tensor {
        randn(shape, dtype: dtype, generator: Generator(seed: seed))
    }

    /// Normal samples with the given mean and standard deviation, like `torch.normal`.
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                              generator: Generator? = nil) -> Tensor {
        precondition(std >= 0 && std.isFinite && mean.isFinite,
                     "Fathom.normal: needs a finite mean and a finite std >= 0, got mean \(mean), std \(std)")
        let out = randomOutput(shape, dtype: dtype, op: "normal")
        let n = out.count
        switch dtype {
        case .float32:
            let m = Float(mean), s = Float(std)
            let (key, base) = (generator ?? .default).reserve(elements: n, perGroup: 32)
            fillGroups(out.pointer(as: Float.self), count: n, perGroup: 32, key: key, base: base) { l, _, o in
                let (a0, a1) = boxMuller(unitFloatsOpenZero(l.w0), unitFloats(l.w1))
                let (b0, b1) = boxMuller(unitFloatsOpenZero(l.w2), unitFloats(l.w3))
                store(m + s * a0, o); store(m + s * a1, o + 8); store(m + s * b0, o + 16); store(m + s * b1, o + 24)
            }
        case .float64:
            let (key, base) = (generator ?? .default).reserve(elements: n, perGroup: 16)
            fillGroups(out.pointer(as: Double.self), count: n, perGroup: 16, key: key, base: base) { l, _, o in
                for b in 0..<8 {
                    let (z0, z1) = boxMuller(unitDoubleOpenZero(l.w0[b], l.w1[b]), unitDouble(l.w2[b], l.w3[b]))
                    o[b] = mean + std * z0; o[b + 8] = mean + std * z1
                }
            }
        default: unsupportedDType(dtype, op: "normal")
        }
        return out
    }

    /// `normal` from a fresh generator seeded with `seed`.
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                              seed: UInt64) -> Tensor {
        normal(shape, mean: mean, std: std, dtype: dtype, generator: Generator(seed: seed))
    }

    /// Normal samples restricted to [a, b], with PyTorch's `trunc_normal_` semantics: `a`
    /// and `b` are absolute bounds (not in units of `std`), and the density is the normal
    /// density renormalized on [a, b].
    ///
    /// Sampled by the inverse CDF in float64 (`Φ⁻¹` of a uniform in [Φ(α), Φ(β)], with
    /// Wichura's AS 241 for Φ⁻¹ rather than PyTorch's erfinv), drawing
    /// on the far side of the mean's tail when both bounds lie on one side so that even
    /// bounds many standard deviations out are sampled accurately.
    public static func truncatedNormal(_ shape: [Int], mean: Double = 0, std: Double = 1,
                                       a: Double = -2, b: Double = 2, dtype: DType = .float32,
                                       generator: Generator? = nil) -> Tensor {
        orStop { () throws(TensorError) in try validateTruncation(mean: mean, std: std, a: a, b: b) }
        let out = randomOutput(shape, dtype: dtype, op: "truncatedNormal")
        let n = out.count
        // Standardized bounds, mirrored into the lower tail when both are above the mean:
        // Φ is accurate there, while 1 − Φ(x) would round to 0 for large x.
        var alpha = (a - mean) / std, beta = (b - mean) / std
        let mirrored = alpha > 0
        if mirrored { (alpha, beta) = (-beta, -alpha) }
        let lowP = normalCDF(alpha), highP = normalCDF(beta)
        let sign: Double = mirrored ? -1 : 1
        @inline(__always) func sample(_ u: Double) -> Double {
            let z = normalQuantile(lowP + (highP - lowP) * u)
            return Swift.min(Swift.max(mean + std * sign * z, a), b)
        }
        let (key, base) = (generator ?? .default).reserve(elements: n, perGroup: 16)
        switch dtype {
        case .float32:
            fillGroups(out.pointer(as: Float.self), count: n, perGroup: 16, key: key, base: base) { l, _, o in
                // Rounding to float32 cannot leave [a, b] further than the bounds' own rounding.
                for b in 0..<8 {
                    o[b] = Float(sample(unitDouble(l.w0[b], l.w1[b])))
                    o[b + 8] = Float(sample(unitDouble(l.w2[b], l.w3[b])))
                }
            }
        case .float64:
            fillGroups(out.pointer(as: Double.self), count: n, perGroup: 16, key: key, base: base) { l, _, o in
                for b in 0..<8 {
                    o[b] = sample(unitDouble(l.w0[b], l.w1[b]))
                    o[b + 8] = sample(unitDouble(l.w2[b], l.w3[b]))
                }
            }
        default: unsupportedDType(dtype, op: "truncatedNormal")
        }
        return out
    }

    /// `truncatedNormal` from a fresh generator seeded with `seed`.
    public static func truncatedNormal(_ shape: [Int], mean: Double = 0, std: Double = 1,
                                       a: Double = -2, b: Double = 2, dtype: DType = .float32,
                                       seed: UInt64) -> Tensor {
        truncatedNormal(shape, mean: mean, std: std, a: a, b: b, dtype: dtype, generator: Generator(seed: seed))
    }

    /// Checks the parameters of a truncated normal.
    static func validateTruncation(mean: Double, std: Double, a: Double, b: Double) throws(TensorError) {
        guard mean.isFinite, std.isFinite, std > 0 else {
            throw TensorError(op: "truncatedNormal", "needs a finite mean and a finite std > 0, got mean \(mean), std \(std)")
        }
        guard a < b, !a.isNaN, !b.isNaN else {
            throw TensorError(op: "truncatedNormal", "needs bounds a < b, got a = \(a), b = \(b) (the bounds are absolute values, not multiples of std)")
        }
        // Both Φ(α) and Φ(β) underflow to 0 only when [a, b] lies beyond ~37 std: nothing to sample.
        let alpha = (a - mean) / std, beta = (b - mean) / std
        let mirroredBeta = alpha > 0 ? -alpha : beta
        guard normalCDF(mirroredBeta) > 0 else {
            throw TensorError(op: "truncatedNormal", "the interval [\(a), \(b)] lies more than 37 standard deviations from the mean \(mean); its probability underflows")
        }
    }

    // MARK: discrete

    /// 1 with probability `p` and 0 otherwise, in `dtype` (float32 by default, as PyTorch's
    /// `torch.bernoulli` gives; `.bool` for masks).
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32,
                                 generator: Generator? = nil) -> Tensor {
        precondition(p >= 0 && p <= 1, "Fathom.bernoulli: probability p = \(p) must lie in [0, 1]")
        let threshold = p
        return bernoulliDraw(shape, dtype: dtype, generator: generator, op: "bernoulli") { _ in threshold }
    }

    /// `bernoulli(_:p:)` from a fresh generator seeded with `seed`.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32, seed: UInt64) -> Tensor {
        bernoulli(shape, p: p, dtype: dtype, generator: Generator(seed: seed))
    }

    /// Elementwise draws: 1 with probability `probabilities[i]`, like `torch.bernoulli(p)`.
    /// The result has the probabilities' shape and (float) dtype. Not differentiable.
    public static func bernoulli(_ probabilities: Tensor, generator: Generator? = nil) -> Tensor {
        let p = probabilities.contiguous()
        let dtype = p.dtype
        let values: [Double] = p.doubles
        if let bad = values.first(where: { !($0 >= 0 && $0 <= 1) }) {
            fatalError(TensorError(op: "bernoulli", "probabilities must lie in [0, 1], found \(bad) in a tensor of shape \(describe(p.shape))").description)
        }
        let outType: DType = dtype.isFloatingPoint ? dtype : .float32
        return values.withUnsafeBufferPointer { buffer in
            bernoulliDraw(p.shape, dtype: outType, generator: generator, op: "bernoulli") { buffer[$0] }
        }
    }

    /// 0/1 draws: element i is 1 when its 32-bit uniform is below `probability(i)`.
    /// A uniform on the 2^-32 grid makes p = 0 never and p = 1 always fire.
    private static func bernoulliDraw(_ shape: [Int], dtype: DType, generator: Generator?, op: String,
                                      _ probability: (Int) -> Double) -> Tensor {
        let shape = orStop { () throws(TensorError) in try validatedShape(shape, count: shape.reduce(1, *), op: op) }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        let n = out.count
        let (key, base) = (generator ?? .default).reserve(elements: n, perGroup: 32)
        func draw<T: TensorScalar>(_: T.Type, _ one: T, _ zero: T) {
            fillGroups(out.pointer(as: T.self), count: n, perGroup: 32, key: key, base: base) { l, first, o in
                @inline(__always) func put(_ w: SIMD8<UInt32>, _ j: Int) {
                    for b in 0..<8 where first + j + b < n {
                        o[j + b] = Double(w[b]) * 0x1p-32 < probability(first + j + b) ? one : zero
                    }
                }
                put(l.w0, 0); put(l.w1, 8); put(l.w2, 16); put(l.w3, 24)
            }
        }
        switch dtype {
        case .float32: draw(Float.self, 1, 0)
        case .float64: draw(Double.self, 1, 0)
        case .int64: draw(Int64.self, 1, 0)
        case .bool: draw(Bool.self, true, false)
        }
        return out
    }

    /// Uniform integers in [low, high), int64, like `torch.randint`.
    public static func randint(low: Int = 0, high: Int, _ shape: [Int], generator: Generator? = nil) -> Tensor {
        precondition(low < high, "Fathom.randint: needs low < high, got low \(low), high \(high)")
        let shape = orStop { () throws(TensorError) in try validatedShape(shape, count: shape.reduce(1, *), op: "randint") }
        let out = Tensor(uninitializedShape: shape, dtype: .int64)
        let n = out.count
        let range = UInt64(bitPattern: Int64(high) &- Int64(low)), start = Int64(low)
        let (key, base) = (generator ?? .default).reserve(elements: n, perGroup: 16)
        fillGroups(out.pointer(as: Int64.self), count: n, perGroup: 16, key: key, base: base) { l, _, o in
            // Multiply-high maps 64 random bits onto the range (bias below range / 2^64).
            for b in 0..<8 {
                o[b] = start &+ Int64(bitPattern: bits64(l.w0, l.w1, b).multipliedFullWidth(by: range).high)
                o[b + 8] = start &+ Int64(bitPattern: bits64(l.w2, l.w3, b).multipliedFullWidth(by: range).high)
            }
        }
        return out
    }

    /// `randint` from a fresh generator seeded with `seed`.
    public static func randint(low: Int = 0, high: Int, _ shape: [Int], seed: UInt64) -> Tensor {
        randint(low: low, high: high, shape, generator: Generator(seed: seed))
    }

    /// A random permutation of 0..<n, int64, like `torch.randperm` (Fisher–Yates, each swap
    /// position drawn from 64 Philox bits).
    public static func randperm(_ n: Int, generator: Generator? = nil) -> Tensor {
        precondition(n >= 0, "Fathom.randperm: n = \(n) must be >= 0")
        let out = Tensor(uninitializedShape: [n], dtype: .int64)
        let p = out.pointer(as: Int64.self)
        for i in 0..<n { p[i] = Int64(i) }
        guard n > 1 else { return out }
        // Step k (k = 0..<n-1) swaps position i = n-1-k with a uniform j in 0...i.
        let steps = n - 1
        let (key, base) = (generator ?? .default).reserve(blocks: (steps + 1) / 2)
        var block: UInt64 = 0
        var words = SIMD4<UInt32>()
        for k in 0..<steps {
            if k % 2 == 0 {
                words = philoxBlock(base &+ block, key: key)
                block += 1
            }
            let bits = k % 2 == 0 ? UInt64(words[0]) << 32 | UInt64(words[1]) : UInt64(words[2]) << 32 | UInt64(words[3])
            let i = n - 1 - k
            let j = Int(bits.multipliedFullWidth(by: UInt64(i + 1)).high)
            p.swapAt(i, j)
        }
        return out
    }

    /// `randperm` from a fresh generator seeded with `seed`.
    public static func randperm(_ n: Int, seed: UInt64) -> Tensor {
        randperm(n, generator: Generator(seed: seed))
    }

    /// A new float tensor of `shape` for a draw, after validating the shape and dtype.
    private static func randomOutput(_ shape: [Int], dtype: DType, op: String) -> Tensor {
        guard dtype.isFloatingPoint else { unsupportedDType(dtype, op: op) }
        let shape = orStop { () throws(TensorError) in try validatedShape(shape, count: shape.reduce(1, *), op: op) }
        return Tensor(uninitializedShape: shape, dtype: dtype)
    }
}

extension UnsafeMutablePointer {
    @inline(__always)
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}

/// Two independent standard normals from u1 in (0, 1] and u2 in [0, 1) (Box–Muller).
@inline(__always)
func boxMuller(_ u1: Double, _ u2: Double) -> (Double, Double) {
    let r = (-2 * Double.log(u1)).squareRoot()
    let theta = 2 * Double.pi * u2
    return (r * Double.cos(theta), r * Double.sin(theta))
}

// MARK: normal distribution functions (float64)

/// Φ(x), the standard normal CDF, accurate in relative terms in the lower tail.
func normalCDF(_ x: Double) -> Double { 0.5 * Double.erfc(-x / 2.0.squareRoot()) }

/// Φ⁻¹(p) for p in [0, 1]: −∞ at 0, +∞ at 1. Wichura's algorithm AS 241 (PPND16,
/// Applied Statistics 37, 1988): rational approximations with relative error about
/// 1e-16, down to the smallest p, with no iteration.
func normalQuantile(_ p: Double) -> Double {
    if p.isNaN { return .nan }
    if p <= 0 { return -.infinity }
    if p >= 1 { return .infinity }
    @inline(__always) func poly(_ c: [Double], _ x: Double) -> Double {
        var r = 0.0
        for k in stride(from: c.count - 1, through: 0, by: -1) { r = r * x + c[k] }
        return r
    }
    let q = p - 0.5
    if abs(q) <= 0.425 {
        let r = 0.180625 - q * q
        return q * poly(AS241.a, r) / poly(AS241.b, r)
    }
    var r = (-Double.log(min(p, 1 - p))).squareRoot()
    let value: Double
    if r <= 5 {
        r -= 1.6
        value = poly(AS241.c, r) / poly(AS241.d, r)
    } else {
        r -= 5
        value = poly(AS241.e, r) / poly(AS241.f, r)
    }
    return q < 0 ? -value : value
}

/// Coefficients of AS 241 (lowest degree first; the denominators' constant term is 1).
private enum AS241 {
    static let a = [3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
                    1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
                    3.3430575583588128105e+4, 2.5090809287301226727e+3]
    static let b = [1, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
                    2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
                    5.2264952788528545610e+3]
    static let c = [1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
                    3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
                    2.27238449892691845833e-2, 7.74545014278341407640e-4]
    static let d = [1, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
                    1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
                    1.05075007164441684324e-9]
    static let e = [6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
                    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                    2.71155556874348757815e-5, 2.01033439929228813265e-7]
    static let f = [1, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
                    7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
                    2.04426310338993978564e-15]
}

/// erf⁻¹(y) for y in [−1, 1], to about one ulp in float64.
///
/// Giles' single-precision approximation ("Approximating the erfinv function", GPU
/// Computing Gems, 2011) as the first guess, then Halley steps on erf (near 0, where erf
/// is relatively accurate) or on erfc (towards ±1, where 1 − |y| is exact).
func inverseErf(_ y: Double) -> Double {
    if y.isNaN || abs(y) > 1 { return .nan }
    if abs(y) <= 0.5 {
        if y == 0 { return y }
        var x = gilesInverseErf(y)
        for _ in 0..<3 {
            let f = Double.erf(x) - y
            let d = 2 / Double.pi.squareRoot() * Double.exp(-x * x)
            let step = f / (d + x * f)
            x -= step
            if abs(step) <= 1e-17 * abs(x) { break }
        }
        return x
    }
    let tail = inverseErfcTail(1 - abs(y))
    return y < 0 ? -tail : tail
}

/// erfc⁻¹(z) for z in [0, 2].
func inverseErfc(_ z: Double) -> Double {
    if z.isNaN || z < 0 || z > 2 { return .nan }
    if z >= 0.5 && z <= 1.5 { return inverseErf(1 - z) }
    return z < 1 ? inverseErfcTail(z) : -inverseErfcTail(2 - z)
}

/// erfc⁻¹(z) for z in [0, 0.5]: Halley steps on erfc(x) − z, whose relative accuracy
/// carries through the tail (z down to the smallest doubles).
private func inverseErfcTail(_ z: Double) -> Double {
    if z == 0 { return .infinity }
    var x: Double
    let w = -Double.log(z * (2 - z))
    if w < 36 {
        x = gilesInverseErf(1 - z, w: w)
    } else {
        // Beyond the approximation's range: the leading asymptotic term of erfc.
        let t = -Double.log(z * Double.pi.squareRoot())
        x = (t - 0.5 * Double.log(t)).squareRoot()
    }
    for _ in 0..<8 {
        let f = Double.erfc(x) - z
        let d = 2 / Double.pi.squareRoot() * Double.exp(-x * x)
        // Halley on g(x) = erfc(x) − z with g' = −d, g'' = 2x·d.
        let step = f / (x * f - d)
        x -= step
        if !(abs(step) > 1e-16 * abs(x)) { break }
    }
    return x
}

/// Giles' single-precision erf⁻¹ polynomial; `w` is −log((1 − y)(1 + y)) when known.
private func gilesInverseErf(_ y: Double, w known: Double? = nil) -> Double {
    var w = known ?? -Double.log((1 - y) * (1 + y))
    var p: Double
    if w < 5 {
        w -= 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
    } else {
        w = w.squareRoot() - 3
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
    }
    return p * y
}
