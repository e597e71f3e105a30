// Elementwise math functions (pow, exp, log, trigonometric, tanh, sigmoid, ...) and their
// gradients. Backward passes are written with tensor operations so they can be
// differentiated again; the ones that would take several passes also have a fused
// one-pass kernel that runs when no graph of the backward pass is being recorded.

import RealModule
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tensor {
    /// This tensor if it is float32 or float64, otherwise converted to float32: math
    /// functions of integer and bool tensors give float32, as in PyTorch.
    func floatingPoint() -> Tensor { dtype.isFloatingPoint ? self : to(.float32) }

    /// Applies a float function elementwise (ints and bools become float32 first).
    /// Returns the float input actually used, for recording.
    @inline(__always)
    fileprivate func mapFloat(op: String, _ f32: (Float) -> Float, _ f64: (Double) -> Double) -> (input: Tensor, output: Tensor) {
        let x = floatingPoint()
        switch x.dtype {
        case .float32: return (x, mapUnary(x, Float.self, to: .float32, Float.self, f32))
        case .float64: return (x, mapUnary(x, Double.self, to: .float64, Double.self, f64))
        default: unsupportedDType(x.dtype, op: op)
        }
    }

    /// Like `mapFloat`, with a float32 kernel that works on whole runs (VectorMath).
    @inline(__always)
    fileprivate func mapFloatRuns(op: String,
                                  _ f32: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int) -> Void,
                                  _ f64: (Double) -> Double) -> (input: Tensor, output: Tensor) {
        let x = floatingPoint()
        switch x.dtype {
        case .float32: return (x, mapRuns(x, Float.self, to: .float32, Float.self, f32))
        case .float64: return (x, mapUnary(x, Double.self, to: .float64, Double.self, f64))
        default: unsupportedDType(x.dtype, op: op)
        }
    }

    // MARK: powers

    /// Each element raised to `exponent` (C `pow` semantics: negative bases with integral
    /// exponents are fine, with other exponents they give NaN). Integer tensors give float32.
    ///
    /// The gradient is `exponent · x^(exponent-1)`, and exactly 0 when `exponent == 0`.
    public func pow(_ exponent: Double) -> Tensor {
        let x = floatingPoint()
        func kernel<T: FloatScalar>(_: T.Type, _ raise: @escaping (T, T) -> T) -> Tensor {
            let p = T(exponent)
            switch exponent {
            case 0: return mapUnary(x, T.self, to: T.dtype, T.self) { _ in 1 }
            case 1: return mapUnary(x, T.self, to: T.dtype, T.self) { $0 }
            case 2: return mapUnary(x, T.self, to: T.dtype, T.self) { $0 * $0 }
            case -1: return mapUnary(x, T.self, to: T.dtype, T.self) { 1 / $0 }
            default: return mapUnary(x, T.self, to: T.dtype, T.self) { raise($0, p) }
            }
        }
        let out: Tensor
        switch x.dtype {
        case .float32: out = kernel(Float.self) { powf($0, $1) }
        case .float64: out = kernel(Double.self) { Glibc.pow($0, $1) }
        default: unsupportedDType(x.dtype, op: "pow")
        }
        if needsGrad(x) {
            out.recorded("pow", [x]) { g, _ in
                [exponent == 0 ? g.zerosLike() : g * (x.pow(exponent - 1) * exponent)]
            }
        }
        return out
    }

    /// Elementwise `self ^ exponent` with broadcasting and dtype promotion (integers give float32).
    ///
    /// Gradients follow PyTorch: d/dx is `e · x^(e-1)` (0 where `e == 0`), d/de is
    /// `x^e · log x`, taken as 0 where `x == 0` and `e >= 0` (and NaN for negative bases).
    public func pow(_ exponent: Tensor) -> Tensor {
        var (x, e) = (self, exponent)
        if x.dtype != e.dtype {
            let common = promoteTypes(x.dtype, e.dtype)
            (x, e) = (x.to(common), e.to(common))
        }
        (x, e) = (x.floatingPoint(), e.floatingPoint())
        let out: Tensor
        switch x.dtype {
        case .float32: out = mapBinary(x, e, op: "pow", Float.self, to: .float32, Float.self) { powf($0, $1) }
        case .float64: out = mapBinary(x, e, op: "pow", Double.self, to: .float64, Double.self) { Glibc.pow($0, $1) }
        default: unsupportedDType(x.dtype, op: "pow")
        }
        if needsGrad(x, e) {
            out.recorded("pow", [x, e]) { g, out in
                let zero = Tensor.scalar(0, dtype: g.dtype)
                let gx = x.requiresGrad
                    ? Tensor.where(e .== 0, zero, g * e * x.pow(e - 1)).sumToShape(x.shape) : nil
                let ge = e.requiresGrad
                    ? (g * Tensor.where((x .== 0) .& (e .>= 0), zero, out * x.log())).sumToShape(e.shape) : nil
                return [gx, ge]
            }
        }
        return out
    }

    /// Each element squared (integer tensors stay integer).
    public func square() -> Tensor {
        if dtype == .int64 { return mapUnary(self, Int64.self, to: .int64, Int64.self) { $0 &* $0 } }
        let (x, out) = mapFloat(op: "square", { $0 * $0 }, { $0 * $0 })
        if needsGrad(x) { out.recorded("square", [x]) { g, _ in [g * (x * 2)] } }
        return out
    }

    /// The square root; NaN for negative elements.
    public func sqrt() -> Tensor {
        let (x, out) = mapFloat(op: "sqrt", { $0.squareRoot() }, { $0.squareRoot() })
        if needsGrad(x) { out.recorded("sqrt", [x]) { g, out in [g / (out * 2)] } }
        return out
    }

    /// The reciprocal square root 1/√x.
    public func rsqrt() -> Tensor {
        let (x, out) = mapFloat(op: "rsqrt", { 1 / $0.squareRoot() }, { 1 / $0.squareRoot() })
        if needsGrad(x) { out.recorded("rsqrt", [x]) { g, out in [g * (out * out * out) * -0.5] } }
        return out
    }

    // MARK: sign and magnitude

    /// The absolute value (integer tensors stay integer). The gradient is `sign(x)`, 0 at 0.
    public func abs() -> Tensor {
        if dtype == .int64 { return mapUnary(self, Int64.self, to: .int64, Int64.self) { $0 < 0 ? 0 &- $0 : $0 } }
        let (x, out) = mapFloat(op: "abs", { $0.magnitude }, { $0.magnitude })
        if needsGrad(x) { out.recorded("abs", [x]) { g, _ in [g * x.sign()] } }
        return out
    }

    /// -1, 0 or 1 by the sign of each element (NaN stays NaN). Its gradient is zero.
    public func sign() -> Tensor {
        if dtype == .int64 {
            return mapUnary(self, Int64.self, to: .int64, Int64.self) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        }
        let (x, out) = mapFloat(op: "sign", { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0 != $0 ? $0 : 0)) },
                                { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0 != $0 ? $0 : 0)) })
        if needsGrad(x) { out.recorded("sign", [x]) { g, _ in [g.zerosLike()] } }
        return out
    }

    // MARK: exponentials and logarithms

    /// e^x. float32 uses a vectorized polynomial (VectorMath, within ~1.5 ulp).
    public func exp() -> Tensor {
        let (x, out) = mapFloatRuns(op: "exp", VectorMath.exp, { .exp($0) })
        if needsGrad(x) { out.recorded("exp", [x]) { g, out in [g * out] } }
        return out
    }

    /// The natural logarithm: NaN for negative elements, -inf at 0. float32 is vectorized.
    public func log() -> Tensor {
        let (x, out) = mapFloatRuns(op: "log", VectorMath.log, { .log($0) })
        if needsGrad(x) { out.recorded("log", [x]) { g, _ in [g / x] } }
        return out
    }

    /// log(1 + x), accurate for small x.
    public func log1p() -> Tensor {
        let (x, out) = mapFloat(op: "log1p", { .log(onePlus: $0) }, { .log(onePlus: $0) })
        if needsGrad(x) { out.recorded("log1p", [x]) { g, _ in [g / (x + 1)] } }
        return out
    }

    /// e^x - 1, accurate for small x.
    public func expm1() -> Tensor {
        let (x, out) = mapFloat(op: "expm1", { .expMinusOne($0) }, { .expMinusOne($0) })
        if needsGrad(x) { out.recorded("expm1", [x]) { g, out in [g * (out + 1)] } }
        return out
    }

    // MARK: trigonometric and hyperbolic

    /// The sine (radians).
    public func sin() -> Tensor {
        let (x, out) = mapFloat(op: "sin", { .sin($0) }, { .sin($0) })
        if needsGrad(x) { out.recorded("sin", [x]) { g, _ in [g * x.cos()] } }
        return out
    }

    /// The cosine (radians).
    public func cos() -> Tensor {
        let (x, out) = mapFloat(op: "cos", { .cos($0) }, { .cos($0) })
        if needsGrad(x) { out.recorded("cos", [x]) { g, _ in [-g * x.sin()] } }
        return out
    }

    /// The arctangent (radians, in (−π/2, π/2)). The gradient is `1 / (1 + x²)`.
    public func atan() -> Tensor {
        let (x, out) = mapFloat(op: "atan", { .atan($0) }, { .atan($0) })
        if needsGrad(x) { out.recorded("atan", [x]) { g, _ in [g / (x.square() + 1)] } }
        return out
    }

    /// The hyperbolic tangent. float32 is vectorized. The gradient is `1 - tanh²`.
    public func tanh() -> Tensor {
        let (x, out) = mapFloatRuns(op: "tanh", VectorMath.tanh, { .tanh($0) })
        if needsGrad(x) {
            out.recorded("tanh", [x]) { g, out in
                needsGrad(g, out) ? [g * (1 - out * out)]
                    : [fusedGradient(g, out, op: "tanh backward") { g, y in g * (1 - y * y) }]
            }
        }
        return out
    }

    /// The logistic function 1/(1 + e^-x), stable for large |x| (no overflow, subnormal
    /// tails kept). float32 is vectorized. The gradient is `σ(1 - σ)`.
    public func sigmoid() -> Tensor {
        let (x, out) = mapFloatRuns(op: "sigmoid", VectorMath.sigmoid, stableSigmoid)
        if needsGrad(x) {
            out.recorded("sigmoid", [x]) { g, out in
                needsGrad(g, out) ? [g * out * (1 - out)]
                    : [fusedGradient(g, out, op: "sigmoid backward") { g, y in g * y * (1 - y) }]
            }
        }
        return out
    }

    /// The error function erf(x) = 2/√π ∫₀ˣ e^{-t²} dt.
    public func erf() -> Tensor {
        let (x, out) = mapFloat(op: "erf", { .erf($0) }, { .erf($0) })
        if needsGrad(x) {
            out.recorded("erf", [x]) { g, _ in [g * (x.square() * -1).exp() * 1.128_379_167_095_512_6] }
        }
        return out
    }
}

/// The angle of the point (x, y) in radians, in [−π, π] (C `atan2(y, x)` semantics,
/// `torch.atan2`), elementwise with broadcasting and dtype promotion (integers give float32).
///
/// Gradients are x/(x² + y²) for `y` and −y/(x² + y²) for `x` (NaN at the origin, as in PyTorch).
public func atan2(_ y: Tensor, _ x: Tensor) -> Tensor {
    var (y, x) = (y, x)
    if y.dtype != x.dtype {
        let common = promoteTypes(y.dtype, x.dtype)
        (y, x) = (y.to(common), x.to(common))
    }
    (y, x) = (y.floatingPoint(), x.floatingPoint())
    let out: Tensor
    switch y.dtype {
    case .float32: out = mapBinary(y, x, op: "atan2", Float.self, to: .float32, Float.self) { .atan2(y: $0, x: $1) }
    case .float64: out = mapBinary(y, x, op: "atan2", Double.self, to: .float64, Double.self) { .atan2(y: $0, x: $1) }
    default: unsupportedDType(y.dtype, op: "atan2")
    }
    if needsGrad(y, x) {
        out.recorded("atan2", [y, x]) { g, _ in
            let scaled = g / (y.square() + x.square())
            return [y.requiresGrad ? (scaled * x).sumToShape(y.shape) : nil,
                    x.requiresGrad ? (-scaled * y).sumToShape(x.shape) : nil]
        }
    }
    return out
}

/// `f(g, y)` elementwise over a gradient and a tensor of the same shape and dtype, in one
/// pass: the first-order backward of a pointwise op (not recorded, so use it only when
/// no graph of the backward pass is needed, i.e. when `needsGrad(g, y)` is false).
@inline(__always)
func fusedGradient(_ g: Tensor, _ y: Tensor, op: String,
                   _ f: (_ g: Double, _ y: Double) -> Double) -> Tensor {
    let g = g.dtype == y.dtype ? g : g.to(y.dtype)
    switch y.dtype {
    case .float32: return mapBinary(g, y, op: op, Float.self, to: .float32, Float.self) { Float(f(Double($0), Double($1))) }
    case .float64: return mapBinary(g, y, op: op, Double.self, to: .float64, Double.self, f)
    default: unsupportedDType(y.dtype, op: op)
    }
}
