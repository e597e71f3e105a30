// Approximate comparison with NumPy's semantics: isClose, allClose, maxAbsDifference.

extension Tensor {
    /// Elementwise `|self − other| <= atol + rtol·|other|` as a bool tensor, with
    /// broadcasting, like `numpy.isclose` (`other` is the reference: the test is not
    /// symmetric). Infinities are close only to the same infinity; NaNs are close to each
    /// other only with `equalNaN`. Compared in float64 whatever the dtypes.
    public func isClose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Tensor {
        precondition(rtol >= 0 && atol >= 0, "Fathom.isClose: tolerances must be >= 0, got rtol \(rtol), atol \(atol)")
        @inline(__always) func close(_ a: Double, _ b: Double) -> Bool {
            if a == b { return true }  // also equal infinities
            if a.isNaN || b.isNaN { return equalNaN && a.isNaN && b.isNaN }
            if !a.isFinite || !b.isFinite { return false }
            return Swift.abs(a - b) <= atol + rtol * Swift.abs(b)
        }
        return Tensor.compareAsDoubles(self, other, op: "isClose", to: .bool, Bool.self, close)
    }

    /// Whether every element is close to `other` (broadcast), like `numpy.allclose`.
    /// Shapes that do not broadcast stop with the op's name and the shapes.
    public func allClose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Bool {
        let mask = isClose(other, rtol: rtol, atol: atol, equalNaN: equalNaN)
        let p = mask.pointer(as: Bool.self)
        for i in 0..<mask.count where !p[i] { return false }
        return true
    }

    /// The largest `|self − other|` over the broadcast elements, in float64: NaN when a
    /// NaN meets anything, 0 for empty tensors. Handy in tests and debugging messages.
    public func maxAbsDifference(_ other: Tensor) -> Double {
        let differences = Tensor.compareAsDoubles(self, other, op: "maxAbsDifference", to: .float64, Double.self) {
            a, b in a == b ? 0 : Swift.abs(a - b)
        }
        let p = differences.pointer(as: Double.self)
        var result = 0.0
        for i in 0..<differences.count {
            let d = p[i]
            if d.isNaN { return .nan }
            result = Swift.max(result, d)
        }
        return result
    }

    /// Applies `f` to broadcast pairs of elements read as Double, whatever the two dtypes.
    private static func compareAsDoubles<U>(_ a: Tensor, _ b: Tensor, op: String, to dtype: DType, _: U.Type,
                                            _ f: (Double, Double) -> U) -> Tensor {
        // Float64 compares as is; other dtypes are read through a float64 copy only when
        // the pair differs, so same-dtype float32 stays copy-free.
        switch (a.dtype, b.dtype) {
        case (.float32, .float32):
            return mapBinary(a, b, op: op, Float.self, to: dtype, U.self) { f(Double($0), Double($1)) }
        case (.int64, .int64):
            return mapBinary(a, b, op: op, Int64.self, to: dtype, U.self) { f(Double($0), Double($1)) }
        default:
            return mapBinary(a.to(.float64), b.to(.float64), op: op, Double.self, to: dtype, U.self, f)
        }
    }
}
