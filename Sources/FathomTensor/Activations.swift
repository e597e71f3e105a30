// Activation functions with PyTorch's definitions and gradients. Each backward has a
// one-pass fused kernel for ordinary training and a tensor-op form, used when the
// backward pass itself is recorded (grad of grad, Hessian-vector products).

import RealModule

/// Which formula `gelu` uses, as PyTorch's `approximate` argument.
public enum GELUApproximation: Sendable {
    /// x · Φ(x) with the exact normal CDF (erf).
    case none
    /// 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).
    case tanh
}

/// √(2/π) and 1/√(2π), the constants of GELU and its derivative.
private let sqrtTwoOverPi = 0.797_884_560_802_865_4
private let invSqrtTwoPi = 0.398_942_280_401_432_7
private let invSqrtTwo = 0.707_106_781_186_547_5
private let geluCubic = 0.044_715

/// ReLU's gradient from the output: a vectorized kernel for the common float case.
private func reluBackward(_ g: Tensor, _ out: Tensor) -> Tensor {
    switch (g.dtype, out.dtype) {
    case (.float32, .float32): return mapBinary(g, out, op: "relu backward", PassWherePositive<Float>.self, to: .float32)
    case (.float64, .float64): return mapBinary(g, out, op: "relu backward", PassWherePositive<Double>.self, to: .float64)
    default: return fusedGradient(g, out, op: "relu backward") { g, y in y > 0 ? g : 0 }
    }
}

extension Tensor {
    /// max(x, 0). NaN stays NaN. The gradient is 1 where the output is positive and 0
    /// elsewhere, 0 at 0 as in PyTorch. Integer tensors stay integer.
    public func relu() -> Tensor {
        if dtype == .int64 { return mapUnary(self, Rectify<Int64>.self, to: .int64) }
        let x = floatingPoint()
        let out: Tensor
        switch x.dtype {
        case .float32: out = mapUnary(x, Rectify<Float>.self, to: .float32)
        case .float64: out = mapUnary(x, Rectify<Double>.self, to: .float64)
        default: unsupportedDType(x.dtype, op: "relu")
        }
        if needsGrad(x) {
            out.recorded("relu", [x]) { g, out in
                // relu'' = 0, so the mask is a constant even in a recorded backward.
                needsGrad(g) ? [Tensor.where(out .> 0, g, Tensor.scalar(0, dtype: g.dtype))]
                    : [reluBackward(g, out)]
            }
        }
        return out
    }

    /// x where x > 0, `negativeSlope · x` elsewhere.
    public func leakyRelu(negativeSlope: Double = 0.01) -> Tensor {
        let x = floatingPoint()
        let out: Tensor
        switch x.dtype {
        case .float32:
            let slope = Float(negativeSlope)
            out = mapUnary(x, Float.self, to: .float32, Float.self) { $0 > 0 ? $0 : $0 * slope }
        case .float64:
            out = mapUnary(x, Double.self, to: .float64, Double.self) { $0 > 0 ? $0 : $0 * negativeSlope }
        default: unsupportedDType(x.dtype, op: "leakyRelu")
        }
        if needsGrad(x) {
            out.recorded("leakyRelu", [x]) { g, _ in
                needsGrad(g) ? [Tensor.where(x .> 0, g, g * negativeSlope)]
                    : [fusedGradient(g, x, op: "leakyRelu backward") { g, x in x > 0 ? g : g * negativeSlope }]
            }
        }
        return out
    }

    /// The Gaussian error linear unit, x · Φ(x), or its tanh approximation.
    public func gelu(approximate: GELUApproximation = .none) -> Tensor {
        let x = floatingPoint()
        let out: Tensor
        switch (x.dtype, approximate) {
        case (.float32, .none):
            out = mapUnary(x, Float.self, to: .float32, Float.self) { v in
                0.5 * v * (1 + .erf(v * Float(invSqrtTwo)))
            }
        case (.float64, .none):
            out = mapUnary(x, Double.self, to: .float64, Double.self) { v in 0.5 * v * (1 + .erf(v * invSqrtTwo)) }
        case (.float32, .tanh):
            out = mapRuns(x, Float.self, to: .float32, Float.self, VectorMath.geluTanh)
        case (.float64, .tanh):
            out = mapUnary(x, Double.self, to: .float64, Double.self) { v in
                0.5 * v * (1 + .tanh(sqrtTwoOverPi * (v + geluCubic * v * v * v)))
            }
        default: unsupportedDType(x.dtype, op: "gelu")
        }
        if needsGrad(x) {
            out.recorded("gelu", [x]) { g, _ in
                if !needsGrad(g, x) {
                    switch approximate {
                    case .none:
                        return [fusedGradient(g, x, op: "gelu backward") { g, x in
                            g * (0.5 * (1 + .erf(x * invSqrtTwo)) + x * invSqrtTwoPi * .exp(-0.5 * x * x))
                        }]
                    case .tanh:
                        return [fusedGradient(g, x, op: "gelu backward") { g, x in
                            let t = Double.tanh(sqrtTwoOverPi * (x + geluCubic * x * x * x))
                            let du = sqrtTwoOverPi * (1 + 3 * geluCubic * x * x)
                            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
                        }]
                    }
                }
                switch approximate {
                case .none:
                    // Φ(x) + x·φ(x)
                    let cdf = ((x * invSqrtTwo).erf() + 1) * 0.5
                    let pdf = (x.square() * -0.5).exp() * invSqrtTwoPi
                    return [g * (cdf + x * pdf)]
                case .tanh:
                    let t = ((x + x.pow(3) * geluCubic) * sqrtTwoOverPi).tanh()
                    let du = (x.square() * (3 * geluCubic) + 1) * sqrtTwoOverPi
                    return [g * ((t + 1) * 0.5 + x * (1 - t.square()) * du * 0.5)]
                }
            }
        }
        return out
    }

    /// x · sigmoid(x) (also called swish). The gradient is σ(x)·(1 + x·(1 - σ(x))).
    public func silu() -> Tensor {
        let x = floatingPoint()
        let out: Tensor
        switch x.dtype {
        case .float32: out = mapRuns(x, Float.self, to: .float32, Float.self, VectorMath.silu)
        case .float64: out = mapUnary(x, Double.self, to: .float64, Double.self) { $0 * stableSigmoid($0) }
        default: unsupportedDType(x.dtype, op: "silu")
        }
        if needsGrad(x) {
            out.recorded("silu", [x]) { g, _ in
                if needsGrad(g, x) {
                    let s = x.sigmoid()
                    return [g * s * (x * (1 - s) + 1)]
                }
                return [fusedGradient(g, x, op: "silu backward") { g, x in
                    let s = stableSigmoid(x)
                    return g * s * (1 + x * (1 - s))
                }]
            }
        }
        return out
    }

    /// log(1 + e^{βx}) / β, and x itself where βx > `threshold` (PyTorch's semantics,
    /// which keep large inputs exact). The gradient is sigmoid(βx), 1 above the threshold.
    public func softplus(beta: Double = 1, threshold: Double = 20) -> Tensor {
        let x = floatingPoint()
        func kernel<T: FloatScalar>(_: T.Type) -> Tensor {
            let b = T(beta), limit = T(threshold)
            return mapUnary(x, T.self, to: T.dtype, T.self) { v in
                v * b > limit ? v : T.log(onePlus: T.exp(v * b)) / b
            }
        }
        let out: Tensor
        switch x.dtype {
        case .float32: out = kernel(Float.self)
        case .float64: out = kernel(Double.self)
        default: unsupportedDType(x.dtype, op: "softplus")
        }
        if needsGrad(x) {
            out.recorded("softplus", [x]) { g, _ in
                if needsGrad(g, x) {
                    let scaled = x * beta
                    return [Tensor.where(scaled .> threshold, g, g * scaled.sigmoid())]
                }
                return [fusedGradient(g, x, op: "softplus backward") { g, x in
                    x * beta > threshold ? g : g * stableSigmoid(x * beta)
                }]
            }
        }
        return out
    }
}

/// 1/(1 + e^-x) without overflow for either sign.
@inline(__always)
func stableSigmoid(_ x: Double) -> Double {
    let e = Double.exp(-x.magnitude)
    return x >= 0 ? 1 / (1 + e) : e / (1 + e)
}
