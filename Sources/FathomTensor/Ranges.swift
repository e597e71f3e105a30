// Evenly spaced values and identity matrices: arange, linspace, eye.

extension Tensor {
    /// 0, 1, …, end − 1 as int64 (or `dtype`), like `torch.arange(end)`.
    public static func arange(_ end: Int, dtype: DType = .int64) -> Tensor {
        arange(0, end, step: 1, dtype: dtype)
    }

    /// start, start + step, … up to but excluding `end`, as int64 (or `dtype`), like
    /// `torch.arange(start, end, step)` with integer arguments. `step` may be negative.
    public static func arange(_ start: Int, _ end: Int, step: Int = 1, dtype: DType = .int64) -> Tensor {
        if dtype == .int64 {
            let n = orStop { () throws(TensorError) in try arangeCount(Double(start), Double(end), Double(step)) }
            let out = Tensor(uninitializedShape: [n], dtype: .int64)
            let p = out.pointer(as: Int64.self)
            for i in 0..<n { p[i] = Int64(start) + Int64(i) * Int64(step) }
            return out
        }
        return arange(Double(start), Double(end), step: Double(step), dtype: dtype)
    }

    /// start, start + step, … up to but excluding `end`, like `torch.arange` with float
    /// arguments (float32 by default). The count is ⌈(end − start) / step⌉ and element i
    /// is `start + i·step` computed in float64, so float steps do not accumulate error.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .float32) -> Tensor {
        let n = orStop { () throws(TensorError) in try arangeCount(start, end, step) }
        return filled(count: n, dtype: dtype, op: "arange") { start + Double($0) * step }
    }

    /// `count` values from `start` to `end` inclusive, evenly spaced, like `torch.linspace`.
    /// Both ends are exact: the first half steps up from `start`, the second down from `end`.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32) -> Tensor {
        orStop { () throws(TensorError) in try validateLinspace(start, end, count: count) }
        if count == 1 { return filled(count: 1, dtype: dtype, op: "linspace") { _ in start } }
        let step = (end - start) / Double(count - 1)
        let half = count / 2
        return filled(count: count, dtype: dtype, op: "linspace") { i in
            i < half ? start + step * Double(i) : end - step * Double(count - 1 - i)
        }
    }

    /// The n×m matrix with ones on the diagonal (m = n when omitted), like `torch.eye`.
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) -> Tensor {
        let columns = m ?? n
        guard n >= 0, columns >= 0 else {
            fatalError(TensorError(op: "eye", "sizes must be >= 0, got \(n) x \(columns)").description)
        }
        let out = Tensor.zeros([n, columns], dtype: dtype)
        func set<T: TensorScalar>(_ one: T) {
            let p = out.pointer(as: T.self)
            for i in 0..<Swift.min(n, columns) { p[i * columns + i] = one }
        }
        switch dtype {
        case .float32: set(Float(1))
        case .float64: set(Double(1))
        case .int64: set(Int64(1))
        case .bool: set(true)
        }
        return out
    }

    /// The number of elements of an arange, validating the arguments.
    static func arangeCount(_ start: Double, _ end: Double, _ step: Double) throws(TensorError) -> Int {
        guard start.isFinite, end.isFinite, step.isFinite else {
            throw TensorError(op: "arange", "start \(start), end \(end) and step \(step) must be finite")
        }
        guard step != 0 else {
            throw TensorError(op: "arange", "step must be nonzero (start \(start), end \(end))")
        }
        let size = ((end - start) / step).rounded(.up)
        guard size <= Double(Int32.max) * 64 else {
            throw TensorError(op: "arange", "start \(start), end \(end), step \(step) would give \(size) elements; that is too many")
        }
        return Swift.max(0, Int(size))
    }

    /// Validates linspace arguments.
    static func validateLinspace(_ start: Double, _ end: Double, count: Int) throws(TensorError) {
        guard count >= 0 else {
            throw TensorError(op: "linspace", "count \(count) must be >= 0")
        }
        guard start.isFinite, end.isFinite else {
            throw TensorError(op: "linspace", "start \(start) and end \(end) must be finite")
        }
    }

    /// A 1-d tensor of `count` elements with element i = value(i), converted to `dtype`.
    private static func filled(count: Int, dtype: DType, op: String, _ value: (Int) -> Double) -> Tensor {
        let out = Tensor(uninitializedShape: [count], dtype: dtype)
        func fill<T: TensorScalar>(_: T.Type) {
            let p = out.pointer(as: T.self)
            for i in 0..<count { p[i] = T(fromDouble: value(i)) }
        }
        switch dtype {
        case .float32: fill(Float.self)
        case .float64: fill(Double.self)
        case .int64: fill(Int64.self)
        case .bool: unsupportedDType(dtype, op: op, expected: "numeric")
        }
        return out
    }
}
