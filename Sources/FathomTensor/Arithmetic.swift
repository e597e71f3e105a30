// + − × ÷ with NumPy broadcasting and dtype promotion, and their gradients.

extension Tensor {
    /// Both operands converted to their common dtype.
    fileprivate static func promoted(_ a: Tensor, _ b: Tensor) -> (Tensor, Tensor) {
        if a.dtype == b.dtype { return (a, b) }
        let common = promoteTypes(a.dtype, b.dtype)
        return (a.to(common), b.to(common))
    }

    /// Elementwise arithmetic on the common dtype (bool counts as int64).
    @inline(__always)
    fileprivate static func arithmetic(_ a: Tensor, _ b: Tensor, op: String,
                                       _ f32: (Float, Float) -> Float, _ f64: (Double, Double) -> Double,
                                       _ i64: (Int64, Int64) -> Int64) -> Tensor {
        var (a, b) = promoted(a, b)
        if a.dtype == .bool { (a, b) = (a.to(.int64), b.to(.int64)) }
        switch a.dtype {
        case .float32: return mapBinary(a, b, op: op, Float.self, to: .float32, Float.self, f32)
        case .float64: return mapBinary(a, b, op: op, Double.self, to: .float64, Double.self, f64)
        case .int64: return mapBinary(a, b, op: op, Int64.self, to: .int64, Int64.self, i64)
        case .bool: preconditionFailure("converted above")
        }
    }

    /// A 0-d tensor of `value` with this tensor's dtype (float if this is int and `value` is not whole).
    func scalarLike(_ value: Double) -> Tensor {
        let type: DType = dtype.isFloatingPoint ? dtype : (value == value.rounded() ? .int64 : .float32)
        return Tensor.scalar(value, dtype: type)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = arithmetic(a, b, op: "add", { $0 + $1 }, { $0 + $1 }, { $0 &+ $1 })
        if needsGrad(a, b) {
            out.recorded("add", [a, b]) { g, _ in [g.sumToShape(a.shape), g.sumToShape(b.shape)] }
        }
        return out
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = arithmetic(a, b, op: "sub", { $0 - $1 }, { $0 - $1 }, { $0 &- $1 })
        if needsGrad(a, b) {
            out.recorded("sub", [a, b]) { g, _ in [g.sumToShape(a.shape), (-g).sumToShape(b.shape)] }
        }
        return out
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = arithmetic(a, b, op: "mul", { $0 * $1 }, { $0 * $1 }, { $0 &* $1 })
        if needsGrad(a, b) {
            out.recorded("mul", [a, b]) { g, _ in
                [a.requiresGrad ? (g * b).sumToShape(a.shape) : nil,
                 b.requiresGrad ? (g * a).sumToShape(b.shape) : nil]
            }
        }
        return out
    }

    /// True division: integer operands give float32, as in PyTorch.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (fa, fb) = (a.dtype.isFloatingPoint || b.dtype.isFloatingPoint) ? (a, b) : (a.to(.float32), b.to(.float32))
        let out = arithmetic(fa, fb, op: "div", { $0 / $1 }, { $0 / $1 }, { $0 / $1 })
        if needsGrad(a, b) {
            out.recorded("div", [a, b]) { g, _ in
                [a.requiresGrad ? (g / b).sumToShape(a.shape) : nil,
                 b.requiresGrad ? (-g * a / (b * b)).sumToShape(b.shape) : nil]
            }
        }
        return out
    }

    public static prefix func - (x: Tensor) -> Tensor {
        let out: Tensor
        switch x.dtype {
        case .float32: out = mapUnary(x, Float.self, to: .float32, Float.self) { -$0 }
        case .float64: out = mapUnary(x, Double.self, to: .float64, Double.self) { -$0 }
        case .int64: out = mapUnary(x, Int64.self, to: .int64, Int64.self) { 0 &- $0 }
        case .bool: unsupportedDType(x.dtype, op: "neg", expected: "numeric")
        }
        if needsGrad(x) { out.recorded("neg", [x]) { g, _ in [-g] } }
        return out
    }

    public static func + (a: Tensor, b: Double) -> Tensor { a + a.scalarLike(b) }
    public static func + (a: Double, b: Tensor) -> Tensor { b.scalarLike(a) + b }
    public static func - (a: Tensor, b: Double) -> Tensor { a - a.scalarLike(b) }
    public static func - (a: Double, b: Tensor) -> Tensor { b.scalarLike(a) - b }
    public static func * (a: Tensor, b: Double) -> Tensor { a * a.scalarLike(b) }
    public static func * (a: Double, b: Tensor) -> Tensor { b.scalarLike(a) * b }
    public static func / (a: Tensor, b: Double) -> Tensor { a / a.scalarLike(b) }
    public static func / (a: Double, b: Tensor) -> Tensor { b.scalarLike(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
}
