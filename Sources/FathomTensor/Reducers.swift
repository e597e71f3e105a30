// Reductions as values whose methods the compiler knows statically. A pool job runs its body
// through a pointer on another thread, and closures it captures are then called indirectly
// per element; measured on 2 threads, sums over [4096, 512] ran 30x slower that way than on
// one thread. A `Reducer` type is specialized into the job instead (as ElementFunctions.swift
// does for elementwise maps).

/// A per-element `map` folded with an associative `combine`.
protocol Reducer {
    associatedtype Input
    associatedtype Output
    func map(_ x: Input) -> Output
    func combine(_ a: Output, _ b: Output) -> Output
}

extension Reducer {
    /// The same combine over already-mapped partial results.
    var combining: CombineOnly<Self> { CombineOnly(base: self) }
}

/// Folds partial results of `base` (map is the identity).
struct CombineOnly<Base: Reducer>: Reducer {
    let base: Base
    @inline(__always) func map(_ x: Base.Output) -> Base.Output { x }
    @inline(__always) func combine(_ a: Base.Output, _ b: Base.Output) -> Base.Output { base.combine(a, b) }
}

/// Plain sum.
struct SumReducer<T: AdditiveArithmetic>: Reducer {
    @inline(__always) func map(_ x: T) -> T { x }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { a + b }
}

/// Integer sum that wraps on overflow, as PyTorch's int64 sum does.
struct WrappingSumReducer<T: FixedWidthInteger>: Reducer {
    @inline(__always) func map(_ x: T) -> T { x }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { a &+ b }
}

/// The number of `true` elements, as int64.
struct TrueCountReducer: Reducer {
    @inline(__always) func map(_ x: Bool) -> Int64 { x ? 1 : 0 }
    @inline(__always) func combine(_ a: Int64, _ b: Int64) -> Int64 { a &+ b }
}

/// Maximum (`largest`) or minimum; for floats a NaN wins (a NaN accumulator stays, a NaN
/// element replaces), as in PyTorch.
struct ExtremumReducer<T: Comparable>: Reducer {
    let largest: Bool
    @inline(__always) func map(_ x: T) -> T { x }
    @inline(__always) func combine(_ a: T, _ b: T) -> T {
        if b != b { return b }  // NaN (never true for integers)
        return largest ? (b > a ? b : a) : (b < a ? b : a)
    }
}

/// Σ f(x) for a float map given by `kind` (exp, |x|, x², x ≠ 0, |x|^q).
struct MappedSumReducer<T: FloatScalar>: Reducer {
    enum Kind { case exp, abs, square, nonzero, absPower(T) }
    let kind: Kind
    @inline(__always) func map(_ x: T) -> T {
        switch kind {
        case .exp: return T.exp(x)
        case .abs: return Swift.abs(x)
        case .square: return x * x
        case .nonzero: return x != 0 ? 1 : 0
        case .absPower(let q): return T.pow(Swift.abs(x), q)
        }
    }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { a + b }
}
