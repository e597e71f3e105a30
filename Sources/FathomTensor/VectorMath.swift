// Fast float32 exp, log, tanh and sigmoid for elementwise kernels.
//
// Each function is straight-line code (selects, no branches, no libm calls), so a loop
// calling it over a contiguous run is auto-vectorized by LLVM (ymm/zmm registers with
// `-target-cpu native`). Range reduction follows Cephes (Moshier): a Cody–Waite split of
// ln 2 and minimax polynomials. Measured against a float64 reference in VectorMathTests
// (max error over dense sweeps): exp 0.96 ulp (8.0e-8 relative) on [-87, 88]; log 0.79 ulp
// (7.8e-8) over all normal floats; tanh 1.27 ulp (1.3e-7) on [-12, 12]; sigmoid 2.15 ulp
// (1.7e-7) on [-87, 40].
// Non-finite inputs and outputs (±inf, NaN, subnormal results) follow IEEE libm behavior.

enum VectorMath {
    // MARK: scalar cores (inlined into the loops below and into fused kernels elsewhere)

    /// e^x. Overflows to +inf above ~88.72, gives subnormals down to ~-103.97 and 0 below.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        // Clamp far outside the finite range (NaN passes through: both comparisons are false).
        let x = x < -110 ? -110 : (x > 100 ? 100 : x)
        // n = round(x / ln 2): adding 1.5·2^23 leaves the rounded integer in the low mantissa bits.
        let shifter: Float = 12_582_912
        let t = x * 1.442_695_04 + shifter
        let n = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
        let k = t - shifter
        // r = x - n·ln 2 in two steps; n·0.693359375 is exact (9 significant bits).
        let r = (x - k * 0.693_359_375) - k * -2.121_944_40e-4
        let r2 = r * r
        var p: Float = 1.987_569_150_0e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = (p * r2 + r) + 1
        // Scale by 2^n as 2^(n/2)·2^(n - n/2): both halves are normal floats for every
        // n the clamp allows, so overflow and subnormal results round once, correctly.
        let n1 = n &>> 1, n2 = n &- n1
        let s1 = Float(bitPattern: UInt32(bitPattern: (n1 &+ 127) &<< 23))
        let s2 = Float(bitPattern: UInt32(bitPattern: (n2 &+ 127) &<< 23))
        return (p * s1) * s2
    }

    /// Natural logarithm: NaN below 0, -inf at ±0, +inf at +inf; subnormal inputs are exact-scaled.
    @inline(__always)
    static func log(_ x: Float) -> Float {
        // Subnormals: scale into the normal range first so the exponent field is meaningful.
        let isSubnormal = x < Float.leastNormalMagnitude
        let xs = isSubnormal ? x * 8_388_608 : x
        let bits = xs.bitPattern
        // x = m · 2^e with m in [0.5, 1).
        var e = Int32(bitPattern: (bits >> 23) & 0xFF) &- 126 &- (isSubnormal ? 23 : 0)
        let m = Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F00_0000)
        // Move m into [√½, √2) so the polynomial argument f = m - 1 is small.
        let low = m < 0.707_106_781
        e = low ? e &- 1 : e
        let f = low ? (m + m) - 1 : m - 1
        let z = f * f
        var y: Float = 7.037_683_629_2e-2
        y = y * f - 1.151_461_031_0e-1
        y = y * f + 1.167_699_874_0e-1
        y = y * f - 1.242_014_084_6e-1
        y = y * f + 1.424_932_278_7e-1
        y = y * f - 1.666_805_766_5e-1
        y = y * f + 2.000_071_476_5e-1
        y = y * f - 2.499_999_399_3e-1
        y = y * f + 3.333_333_117_4e-1
        y = y * f * z
        let ef = Float(e)
        y = y + ef * -2.121_944_40e-4
        y = y - 0.5 * z
        var r = f + y
        r = r + ef * 0.693_359_375
        r = x < 0 ? .nan : r
        r = x == 0 ? -.infinity : r
        r = x == .infinity ? .infinity : r
        return x != x ? x : r
    }

    /// Hyperbolic tangent: an odd polynomial near 0, 1 - 2/(e^{2|x|} + 1) elsewhere, computed
    /// on |x| with the sign copied back (so tanh(-0) = -0).
    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        let a = x.magnitude
        let z = a * a
        var p: Float = -5.704_988_727_45e-3
        p = p * z + 2.063_908_879_54e-2
        p = p * z - 5.373_971_555_31e-2
        p = p * z + 1.333_144_220_36e-1
        p = p * z - 3.333_328_194_22e-1
        let small = p * z * a + a
        // |x| > 20 gives exactly 1 in float; clamping keeps exp finite (NaN passes).
        let e = exp(a > 20 ? 40 : a + a)
        let large = 1 - 2 / (e + 1)
        let r = a < 0.625 ? small : large
        return Float(bitPattern: r.bitPattern | (x.bitPattern & 0x8000_0000))
    }

    /// 1 / (1 + e^-x), computed from e^{-|x|} so neither tail overflows or loses its subnormals.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        let e = exp(-x.magnitude)
        // Dividing e (rather than multiplying by 1/(1+e)) saves a rounding on the negative side.
        return (x >= 0 ? 1 : e) / (1 + e)
    }

    // MARK: loops over runs (the signature `mapRuns` hands out)

    /// Applies `f` to `n` elements read with `stride`, writing contiguously.
    @inline(__always)
    static func map(_ input: UnsafePointer<Float>, _ stride: Int, _ output: UnsafeMutablePointer<Float>, _ n: Int,
                    _ f: (Float) -> Float) {
        if stride == 1 {
            for i in 0..<n { output[i] = f(input[i]) }
        } else {
            for i in 0..<n { output[i] = f(input[i * stride]) }
        }
    }

    static func exp(_ input: UnsafePointer<Float>, _ stride: Int, _ output: UnsafeMutablePointer<Float>, _ n: Int) {
        map(input, stride, output, n) { exp($0) }
    }

    static func log(_ input: UnsafePointer<Float>, _ stride: Int, _ output: UnsafeMutablePointer<Float>, _ n: Int) {
        map(input, stride, output, n) { log($0) }
    }

    static func tanh(_ input: UnsafePointer<Float>, _ stride: Int, _ output: UnsafeMutablePointer<Float>, _ n: Int) {
        map(input, stride, output, n) { tanh($0) }
    }

    static func sigmoid(_ input: UnsafePointer<Float>, _ stride: Int, _ output: UnsafeMutablePointer<Float>, _ n: Int) {
        map(input, stride, output, n) { sigmoid($0) }
    }

    /// x · sigmoid(x), the SiLU activation.
    static func silu(_ input: UnsafePointer<Float>, _ stride: Int, _ output: UnsafeMutablePointer<Float>, _ n: Int) {
        map(input, stride, output, n) { $0 * sigmoid($0) }
    }

    /// The tanh approximation of GELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    static func geluTanh(_ input: UnsafePointer<Float>, _ stride: Int, _ output: UnsafeMutablePointer<Float>, _ n: Int) {
        map(input, stride, output, n) { x in
            0.5 * x * (1 + tanh(0.797_884_560_8 * (x + 0.044_715 * x * x * x)))
        }
    }
}
