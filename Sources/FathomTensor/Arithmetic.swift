// + − × ÷ with NumPy broadcasting and dtype promotion, and their gradients.

extension Tensor {
    /// Both operands converted to their common dtype.
    fileprivate static func promoted(_ a: Tensor, _ b: Tensor) -> (Tensor, Tensor) {
        if a.dtype == b.dtype { return (a, b) }
        let common = promoteTypes(a.dtype, b.dtype)
        return (a.to(common), b.to(common))
    }

    /// Both operands in their common arithmetic dtype (bool counts as int64).
    fileprivate static func arithmeticOperands(_ a: Tensor, _ b: Tensor) -> (Tensor, Tensor) {
        let (a, b) = promoted(a, b)
        return a.dtype == .bool ? (a.to(.int64), b.to(.int64)) : (a, b)
    }

    /// A 0-d tensor of `value` with this tensor's dtype (float if this is int and `value` is not whole).
    func scalarLike(_ value: Double) -> Tensor {
        let type: DType = dtype.isFloatingPoint ? dtype : (value == value.rounded() ? .int64 : .float32)
        return Tensor.scalar(value, dtype: type)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (x, y) = arithmeticOperands(a, b)
        let out: Tensor
        switch x.dtype {
        case .float32: out = mapBinary(x, y, op: "add", Add<Float>.self, to: .float32)
        case .float64: out = mapBinary(x, y, op: "add", Add<Double>.self, to: .float64)
        default: out = mapBinary(x, y, op: "add", WrappingAdd<Int64>.self, to: .int64)
        }
        if needsGrad(a, b) {
            out.recorded("add", [a, b]) { g, _ in [g.sumToShape(a.shape), g.sumToShape(b.shape)] }
        }
        return out
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (x, y) = arithmeticOperands(a, b)
        let out: Tensor
        switch x.dtype {
        case .float32: out = mapBinary(x, y, op: "sub", Subtract<Float>.self, to: .float32)
        case .float64: out = mapBinary(x, y, op: "sub", Subtract<Double>.self, to: .float64)
        default: out = mapBinary(x, y, op: "sub", WrappingSubtract<Int64>.self, to: .int64)
        }
        if needsGrad(a, b) {
            out.recorded("sub", [a, b]) { g, _ in [g.sumToShape(a.shape), (-g).sumToShape(b.shape)] }
        }
        return out
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (x, y) = arithmeticOperands(a, b)
        let out: Tensor
        switch x.dtype {
        case .float32: out = mapBinary(x, y, op: "mul", Multiply<Float>.self, to: .float32)
        case .float64: out = mapBinary(x, y, op: "mul", Multiply<Double>.self, to: .float64)
        default: out = mapBinary(x, y, op: "mul", WrappingMultiply<Int64>.self, to: .int64)
        }
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
        let (x, y) = arithmeticOperands(fa, fb)
        let out = x.dtype == .float32 ? mapBinary(x, y, op: "div", Divide<Float>.self, to: .float32)
                                      : mapBinary(x, y, op: "div", Divide<Double>.self, to: .float64)
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
        case .float32: out = mapUnary(x, Negate<Float>.self, to: .float32)
        case .float64: out = mapUnary(x, Negate<Double>.self, to: .float64)
        case .int64: out = mapUnary(x, WrappingNegate<Int64>.self, to: .int64)
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
