// Elementwise functions as types. A kernel generic over the function's type is specialized
// for it and the function is inlined into the vectorized loop; a closure value captured
// by the thread pool's work item is called per element instead (measured 5-10x slower).

/// A function of one element.
protocol UnaryFunction {
    associatedtype Input
    associatedtype Output
    static func apply(_ x: Input) -> Output
}

/// A function of two elements.
protocol BinaryFunction {
    associatedtype Input
    associatedtype Output
    static func apply(_ a: Input, _ b: Input) -> Output
}

enum Add<T: Numeric>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a + b }
}

enum Subtract<T: Numeric>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a - b }
}

enum Multiply<T: Numeric>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a * b }
}

enum Divide<T: FloatingPoint>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a / b }
}

/// Integer arithmetic wraps on overflow, as in PyTorch and NumPy.
enum WrappingAdd<T: FixedWidthInteger>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a &+ b }
}

enum WrappingSubtract<T: FixedWidthInteger>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a &- b }
}

enum WrappingMultiply<T: FixedWidthInteger>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a &* b }
}

enum Negate<T: SignedNumeric>: UnaryFunction {
    @inline(__always) static func apply(_ x: T) -> T { -x }
}

enum WrappingNegate<T: FixedWidthInteger>: UnaryFunction {
    @inline(__always) static func apply(_ x: T) -> T { 0 &- x }
}

/// `max(0, x)`, NaN kept (as PyTorch).
enum Rectify<T: Comparable & Numeric>: UnaryFunction {
    @inline(__always) static func apply(_ x: T) -> T { x < 0 ? 0 : x }
}

/// ReLU's backward: the gradient `g` where the output `y` is positive, 0 elsewhere.
enum PassWherePositive<T: FloatingPoint>: BinaryFunction {
    @inline(__always) static func apply(_ g: T, _ y: T) -> T { y > 0 ? g : 0 }
}

enum Equal<T: Equatable>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a == b }
}

enum NotEqual<T: Equatable>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a != b }
}

enum Less<T: Comparable>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a < b }
}

enum LessOrEqual<T: Comparable>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a <= b }
}

enum Greater<T: Comparable>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a > b }
}

enum GreaterOrEqual<T: Comparable>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a >= b }
}

/// The larger element; NaN propagates (`x != x` is true only for NaN).
enum Maximum<T: Comparable>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { (a >= b || a != a) ? a : b }
}

/// The smaller element; NaN propagates.
enum Minimum<T: Comparable>: BinaryFunction {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { (a <= b || a != a) ? a : b }
}
