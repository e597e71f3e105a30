// Elementwise comparisons (bool results), logical operations on masks, selection by a
// mask (`where`), clamping, and elementwise minimum/maximum, with NumPy broadcasting.
//
// Operators use Swift's pointwise spelling, as SIMD types do: `a .< b`, `m .& n`, `.!m`.

/// The element relations `compare` implements.
private enum Relation {
    case eq, ne, lt, le, gt, ge

    var name: String {
        switch self {
        case .eq: "eq"
        case .ne: "ne"
        case .lt: "lt"
        case .le: "le"
        case .gt: "gt"
        case .ge: "ge"
        }
    }
}

/// Both operands in their common dtype; bools become int64 when `boolAsInt` (bools have no order).
private func promotedPair(_ a: Tensor, _ b: Tensor, boolAsInt: Bool) -> (Tensor, Tensor) {
    var common = promoteTypes(a.dtype, b.dtype)
    if common == .bool && boolAsInt { common = .int64 }
    return (a.to(common), b.to(common))
}

/// Elementwise `a relation b` as a bool tensor, in the operands' common dtype.
private func compare(_ a: Tensor, _ b: Tensor, _ relation: Relation) -> Tensor {
    let (a, b) = promotedPair(a, b, boolAsInt: true)
    let op = relation.name
    func kernel<T: TensorScalar & Comparable>(_: T.Type) -> Tensor {
        switch relation {
        case .eq: mapBinary(a, b, op: op, Equal<T>.self, to: .bool)
        case .ne: mapBinary(a, b, op: op, NotEqual<T>.self, to: .bool)
        case .lt: mapBinary(a, b, op: op, Less<T>.self, to: .bool)
        case .le: mapBinary(a, b, op: op, LessOrEqual<T>.self, to: .bool)
        case .gt: mapBinary(a, b, op: op, Greater<T>.self, to: .bool)
        case .ge: mapBinary(a, b, op: op, GreaterOrEqual<T>.self, to: .bool)
        }
    }
    switch a.dtype {
    case .float32: return kernel(Float.self)
    case .float64: return kernel(Double.self)
    case .int64: return kernel(Int64.self)
    case .bool: preconditionFailure("bools were converted to int64")
    }
}

extension Tensor {
    // MARK: comparisons

    /// Elementwise `self == other` (broadcasting; compared in the common dtype). NaN equals nothing.
    public func eq(_ other: Tensor) -> Tensor { compare(self, other, .eq) }
    /// Elementwise `self != other`.
    public func ne(_ other: Tensor) -> Tensor { compare(self, other, .ne) }
    /// Elementwise `self < other`.
    public func lt(_ other: Tensor) -> Tensor { compare(self, other, .lt) }
    /// Elementwise `self <= other`.
    public func le(_ other: Tensor) -> Tensor { compare(self, other, .le) }
    /// Elementwise `self > other`.
    public func gt(_ other: Tensor) -> Tensor { compare(self, other, .gt) }
    /// Elementwise `self >= other`.
    public func ge(_ other: Tensor) -> Tensor { compare(self, other, .ge) }

    /// Elementwise `self == value`.
    public func eq(_ value: Double) -> Tensor { eq(scalarLike(value)) }
    /// Elementwise `self != value`.
    public func ne(_ value: Double) -> Tensor { ne(scalarLike(value)) }
    /// Elementwise `self < value`.
    public func lt(_ value: Double) -> Tensor { lt(scalarLike(value)) }
    /// Elementwise `self <= value`.
    public func le(_ value: Double) -> Tensor { le(scalarLike(value)) }
    /// Elementwise `self > value`.
    public func gt(_ value: Double) -> Tensor { gt(scalarLike(value)) }
    /// Elementwise `self >= value`.
    public func ge(_ value: Double) -> Tensor { ge(scalarLike(value)) }

    /// Elementwise equal (a tensor against a tensor), a bool tensor; broadcasts.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { a.eq(b) }
    /// Elementwise not equal (a tensor against a tensor), a bool tensor; broadcasts.
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { a.ne(b) }
    /// Elementwise less than (a tensor against a tensor), a bool tensor; broadcasts.
    public static func .< (a: Tensor, b: Tensor) -> Tensor { a.lt(b) }
    /// Elementwise less than or equal (a tensor against a tensor), a bool tensor; broadcasts.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { a.le(b) }
    /// Elementwise greater than (a tensor against a tensor), a bool tensor; broadcasts.
    public static func .> (a: Tensor, b: Tensor) -> Tensor { a.gt(b) }
    /// Elementwise greater than or equal (a tensor against a tensor), a bool tensor; broadcasts.
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { a.ge(b) }

    /// Elementwise equal (a tensor against a number), a bool tensor; broadcasts.
    public static func .== (a: Tensor, b: Double) -> Tensor { a.eq(b) }
    /// Elementwise not equal (a tensor against a number), a bool tensor; broadcasts.
    public static func .!= (a: Tensor, b: Double) -> Tensor { a.ne(b) }
    /// Elementwise less than (a tensor against a number), a bool tensor; broadcasts.
    public static func .< (a: Tensor, b: Double) -> Tensor { a.lt(b) }
    /// Elementwise less than or equal (a tensor against a number), a bool tensor; broadcasts.
    public static func .<= (a: Tensor, b: Double) -> Tensor { a.le(b) }
    /// Elementwise greater than (a tensor against a number), a bool tensor; broadcasts.
    public static func .> (a: Tensor, b: Double) -> Tensor { a.gt(b) }
    /// Elementwise greater than or equal (a tensor against a number), a bool tensor; broadcasts.
    public static func .>= (a: Tensor, b: Double) -> Tensor { a.ge(b) }

    /// Elementwise equal (a number against a tensor), a bool tensor; broadcasts.
    public static func .== (a: Double, b: Tensor) -> Tensor { b.eq(a) }
    /// Elementwise not equal (a number against a tensor), a bool tensor; broadcasts.
    public static func .!= (a: Double, b: Tensor) -> Tensor { b.ne(a) }
    /// Elementwise less than (a number against a tensor), a bool tensor; broadcasts.
    public static func .< (a: Double, b: Tensor) -> Tensor { b.gt(a) }
    /// Elementwise less than or equal (a number against a tensor), a bool tensor; broadcasts.
    public static func .<= (a: Double, b: Tensor) -> Tensor { b.ge(a) }
    /// Elementwise greater than (a number against a tensor), a bool tensor; broadcasts.
    public static func .> (a: Double, b: Tensor) -> Tensor { b.lt(a) }
    /// Elementwise greater than or equal (a number against a tensor), a bool tensor; broadcasts.
    public static func .>= (a: Double, b: Tensor) -> Tensor { b.le(a) }

    // MARK: logical operations

    /// The tensor as a mask: itself if bool, else `self != 0` (as PyTorch's logical ops read numbers).
    fileprivate var truthValues: Tensor { dtype == .bool ? self : to(.bool) }

    /// Elementwise AND of two masks (numbers count as true when nonzero), with broadcasting.
    public func logicalAnd(_ other: Tensor) -> Tensor {
        mapBinary(truthValues, other.truthValues, op: "logicalAnd", Bool.self, to: .bool, Bool.self) { $0 && $1 }
    }

    /// Elementwise OR of two masks.
    public func logicalOr(_ other: Tensor) -> Tensor {
        mapBinary(truthValues, other.truthValues, op: "logicalOr", Bool.self, to: .bool, Bool.self) { $0 || $1 }
    }

    /// Elementwise exclusive OR of two masks.
    public func logicalXor(_ other: Tensor) -> Tensor {
        mapBinary(truthValues, other.truthValues, op: "logicalXor", Bool.self, to: .bool, Bool.self) { $0 != $1 }
    }

    /// Elementwise NOT of a mask.
    public func logicalNot() -> Tensor {
        mapUnary(truthValues, Bool.self, to: .bool, Bool.self) { !$0 }
    }

    /// Elementwise AND of masks (`logicalAnd`).
    public static func .& (a: Tensor, b: Tensor) -> Tensor { a.logicalAnd(b) }
    /// Elementwise OR of masks (`logicalOr`).
    public static func .| (a: Tensor, b: Tensor) -> Tensor { a.logicalOr(b) }
    /// Elementwise XOR of masks (`logicalXor`).
    public static func .^ (a: Tensor, b: Tensor) -> Tensor { a.logicalXor(b) }
    /// Elementwise NOT of a mask (`logicalNot`).
    public static prefix func .! (a: Tensor) -> Tensor { a.logicalNot() }

    // MARK: selection

    /// Elements of `a` where `condition` is true and of `b` elsewhere, all three broadcast
    /// together (`torch.where`). `a` and `b` are promoted to their common dtype.
    ///
    /// Differentiable with respect to `a` and `b`: each receives the gradient where it was
    /// selected and 0 elsewhere, summed back to its own shape.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        orStop { () throws(TensorError) in try validateCondition(condition, op: "where") }
        let (x, y) = promotedPair(a, b, boolAsInt: false)
        func kernel<T: TensorScalar>(_: T.Type) -> Tensor {
            mapTernary(condition, x, y, op: "where", Bool.self, T.self, to: T.dtype, T.self) { $0 ? $1 : $2 }
        }
        let out: Tensor
        switch x.dtype {
        case .float32: out = kernel(Float.self)
        case .float64: out = kernel(Double.self)
        case .int64: out = kernel(Int64.self)
        case .bool: out = kernel(Bool.self)
        }
        if needsGrad(x, y) {
            out.recorded("where", [x, y]) { g, _ in
                let zero = Tensor.scalar(0, dtype: g.dtype)
                return [x.requiresGrad ? Tensor.where(condition, g, zero).sumToShape(x.shape) : nil,
                        y.requiresGrad ? Tensor.where(condition, zero, g).sumToShape(y.shape) : nil]
            }
        }
        return out
    }

    /// `where` with a number for the elements where `condition` is false.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Double) -> Tensor {
        Tensor.where(condition, a, a.scalarLike(b))
    }

    /// `where` with a number for the elements where `condition` is true.
    public static func `where`(_ condition: Tensor, _ a: Double, _ b: Tensor) -> Tensor {
        Tensor.where(condition, b.scalarLike(a), b)
    }

    /// Checks that a selection mask is a bool tensor.
    static func validateCondition(_ condition: Tensor, op: String) throws(TensorError) {
        guard condition.dtype == .bool else {
            throw TensorError(op: op, "the condition of shape \(describe(condition.shape)) is \(condition.dtype), but it must be a bool mask; make one with a comparison such as `x .> 0` or `x .!= 0`")
        }
    }

    // MARK: clamping

    /// Each element limited to `[min, max]` (either bound may be omitted). NaN stays NaN;
    /// where `min > max` every element becomes `max`, as in PyTorch.
    ///
    /// The gradient passes where `min <= x <= max` (boundaries included) and is 0 elsewhere.
    public func clamp(min lower: Double? = nil, max upper: Double? = nil) -> Tensor {
        orStop { () throws(TensorError) in try Tensor.validateClampBounds(lower, upper) }
        let lo = lower ?? -.infinity, hi = upper ?? .infinity
        let integral = [lower, upper].allSatisfy { $0 == nil || $0! == $0!.rounded() }
        if dtype == .int64 && integral {
            let l = lower.map { Int64(Swift.max($0, -9.2e18)) } ?? .min, h = upper.map { Int64(Swift.min($0, 9.2e18)) } ?? .max
            return mapUnary(self, Int64.self, to: .int64, Int64.self) { v in
                let t = v < l ? l : v
                return t > h ? h : t
            }
        }
        let x = floatingPoint()
        func kernel<T: FloatScalar>(_: T.Type) -> Tensor {
            let l = T(lo), h = T(hi)
            return mapUnary(x, T.self, to: T.dtype, T.self) { v in
                let t = v < l ? l : v
                return t > h ? h : t
            }
        }
        let out: Tensor
        switch x.dtype {
        case .float32: out = kernel(Float.self)
        case .float64: out = kernel(Double.self)
        default: unsupportedDType(x.dtype, op: "clamp")
        }
        if needsGrad(x) {
            out.recorded("clamp", [x]) { g, _ in
                needsGrad(g) ? [Tensor.where((x .>= lo) .& (x .<= hi), g, Tensor.scalar(0, dtype: g.dtype))]
                    : [fusedGradient(g, x, op: "clamp backward") { g, v in v >= lo && v <= hi ? g : 0 }]
            }
        }
        return out
    }

    /// Checks that `clamp` got at least one bound.
    static func validateClampBounds(_ lower: Double?, _ upper: Double?) throws(TensorError) {
        guard lower != nil || upper != nil else {
            throw TensorError(op: "clamp", "neither min nor max was given; pass at least one bound, e.g. clamp(min: 0)")
        }
        if let l = lower, l.isNaN { throw TensorError(op: "clamp", "min is NaN; pass a number or nil") }
        if let u = upper, u.isNaN { throw TensorError(op: "clamp", "max is NaN; pass a number or nil") }
    }
}

// MARK: elementwise minimum and maximum

/// Which of `minimum` / `maximum` a kernel computes.
private func extremum(_ a: Tensor, _ b: Tensor, takeMax: Bool) -> Tensor {
    let op = takeMax ? "maximum" : "minimum"
    let (x, y) = promotedPair(a, b, boolAsInt: false)
    // NaN propagates from either side (`v != v` is false for integers).
    func kernel<T: TensorScalar & Comparable>(_: T.Type) -> Tensor {
        takeMax
            ? mapBinary(x, y, op: op, Maximum<T>.self, to: T.dtype)
            : mapBinary(x, y, op: op, Minimum<T>.self, to: T.dtype)
    }
    let out: Tensor
    switch x.dtype {
    case .float32: out = kernel(Float.self)
    case .float64: out = kernel(Double.self)
    case .int64: out = kernel(Int64.self)
    case .bool:
        out = takeMax ? x.logicalOr(y) : x.logicalAnd(y)
    }
    if needsGrad(x, y) {
        out.recorded(op, [x, y]) { g, _ in
            // PyTorch's rule: the selected input gets the gradient, ties split it in half.
            let zero = Tensor.scalar(0, dtype: g.dtype)
            let shared = Tensor.where(x .== y, g * 0.5, g)
            let xLoses = takeMax ? x .< y : x .> y
            let yLoses = takeMax ? x .> y : x .< y
            return [x.requiresGrad ? Tensor.where(xLoses, zero, shared).sumToShape(x.shape) : nil,
                    y.requiresGrad ? Tensor.where(yLoses, zero, shared).sumToShape(y.shape) : nil]
        }
    }
    return out
}

/// The elementwise larger of `a` and `b` (broadcasting, common dtype; NaN propagates).
/// On ties each input receives half of the gradient, as in PyTorch.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { extremum(a, b, takeMax: true) }
/// The elementwise larger of `a` and a number.
public func maximum(_ a: Tensor, _ b: Double) -> Tensor { extremum(a, a.scalarLike(b), takeMax: true) }
/// The elementwise larger of a number and `b`.
public func maximum(_ a: Double, _ b: Tensor) -> Tensor { extremum(b.scalarLike(a), b, takeMax: true) }

/// The elementwise smaller of `a` and `b` (broadcasting, common dtype; NaN propagates).
/// On ties each input receives half of the gradient, as in PyTorch.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { extremum(a, b, takeMax: false) }
/// The elementwise smaller of `a` and a number.
public func minimum(_ a: Tensor, _ b: Double) -> Tensor { extremum(a, a.scalarLike(b), takeMax: false) }
/// The elementwise smaller of a number and `b`.
public func minimum(_ a: Double, _ b: Tensor) -> Tensor { extremum(b.scalarLike(a), b, takeMax: false) }
