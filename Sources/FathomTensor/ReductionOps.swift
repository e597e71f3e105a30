// Reductions beyond the sum: max/min values and positions, variance and standard
// deviation, log-sum-exp and vector norms, each with a gradient written in tensor ops.

extension Tensor {
    // MARK: max / min

    /// The largest element over `axes` (all when nil), like PyTorch's `amax`.
    ///
    /// NaN propagates. The gradient follows PyTorch's `amax`: it flows to every position
    /// holding the maximum, split evenly among ties.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        extremum(axes: axes, keepDims: keepDims, largest: true)
    }

    /// The largest element over one axis (values only; `argmax` gives the positions).
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }

    /// The smallest element over `axes` (all when nil), like PyTorch's `amin`; ties share
    /// the gradient evenly, NaN propagates.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        extremum(axes: axes, keepDims: keepDims, largest: false)
    }

    /// The smallest element over one axis.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    private func extremum(axes: [Int]?, keepDims: Bool, largest: Bool) -> Tensor {
        let op = largest ? "max" : "min"
        let axes = reductionAxes(axes, rank: rank, op: op)
        if axes.reduce(1, { $0 * shape[$1] }) == 0 && reducedShape(shape, axes: axes, keepDims: false).reduce(1, *) > 0 {
            fatalError(TensorError(op: op, "cannot reduce over an empty axis of shape \(describe(shape)): the \(op) of no elements is undefined").description)
        }
        func floats<T: FloatScalar>(_: T.Type) -> Tensor {
            // NaN wins: a NaN accumulator stays, a NaN element replaces.
            reduced(axes: axes, keepDims: keepDims, to: dtype, identity: largest ? -T.infinity : T.infinity,
                    ExtremumReducer<T>(largest: largest))
        }
        let out: Tensor
        switch dtype {
        case .float32: out = floats(Float.self)
        case .float64: out = floats(Double.self)
        case .int64:
            out = reduced(axes: axes, keepDims: keepDims, to: .int64, identity: largest ? Int64.min : Int64.max,
                          ExtremumReducer<Int64>(largest: largest))
        case .bool:
            return to(.int64).extremum(axes: axes, keepDims: keepDims, largest: largest).to(.bool)
        }
        if needsGrad(self) {
            let inputShape = shape
            out.recorded(op, [self]) { g, out in
                let kept = reducedShape(inputShape, axes: axes, keepDims: true)
                let mask = equalityMask(self, out.detach().reshaped(kept))
                let ties = mask.sum(axes: axes, keepDims: true)
                return [self.expandedGradient(g, axes: axes, inputShape: inputShape) * (mask / ties)]
            }
        }
        return out
    }

    // MARK: argmax / argmin

    /// The int64 position of the largest element along `axis`, or in the flattened tensor
    /// when `axis` is nil. Ties give the first occurrence and NaN counts as largest, as in
    /// NumPy. With `keepDims` the reduced axis (every axis when nil) stays as size 1.
    public func argmax(axis: Int? = nil, keepDims: Bool = false) -> Tensor {
        argExtremum(axis: axis, keepDims: keepDims, largest: true)
    }

    /// The int64 position of the smallest element (first on ties; NaN counts as smallest).
    public func argmin(axis: Int? = nil, keepDims: Bool = false) -> Tensor {
        argExtremum(axis: axis, keepDims: keepDims, largest: false)
    }

    private func argExtremum(axis: Int?, keepDims: Bool, largest: Bool) -> Tensor {
        let op = largest ? "argmax" : "argmin"
        guard let axis else {
            let flat = contiguous().detach().reshaped([count]).argExtremum(axis: 0, keepDims: false, largest: largest)
            return keepDims ? flat.reshaped([Int](repeating: 1, count: rank)) : flat
        }
        let a = reductionAxes([axis], rank: rank, op: op)
        let n = a.first.map { shape[$0] } ?? 1
        if n == 0 {
            fatalError(TensorError(op: op, "axis \(axis) of shape \(describe(shape)) is empty; there is no position to return").description)
        }
        let out = Tensor(uninitializedShape: reducedShape(shape, axes: a, keepDims: keepDims), dtype: .int64)
        let layout = ReductionLayout(shape: shape, strides: strides, axes: a)
        let step = a.first.map { strides[$0] } ?? 0
        let po = out.pointer(as: Int64.self)
        func kernel<T: Comparable>(_: T.Type) {
            let px = UnsafePointer(pointer(as: T.self))
            ThreadPool.shared.parallelFor(layout.outputs, grain: Swift.max(1, ThreadPool.minParallelElements / n)) { range in
                for o in range {
                    let x = px + layout.keptOffset(o)
                    var best = x[0], position = 0
                    if best == best {
                        for i in 1..<Swift.max(n, 1) {
                            let v = x[i * step]
                            if v != v { position = i; break }
                            if largest ? v > best : v < best { best = v; position = i }
                        }
                    }
                    po[o] = Int64(position)
                }
            }
        }
        switch dtype {
        case .float32: kernel(Float.self)
        case .float64: kernel(Double.self)
        case .int64: kernel(Int64.self)
        case .bool: return to(.int64).argExtremum(axis: axis, keepDims: keepDims, largest: largest)
        }
        return out
    }

    // MARK: variance / standard deviation

    /// The variance over `axes` (all when nil), dividing by `n - correction` as PyTorch
    /// does: `correction: 1` (default) is the unbiased estimate, 0 the population variance.
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        momentReduction(axes: axes, correction: correction, keepDims: keepDims, root: false)
    }

    /// The variance over one axis.
    public func variance(axis: Int, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        variance(axes: [axis], correction: correction, keepDims: keepDims)
    }

    /// The standard deviation over `axes`, `sqrt(variance(axes:correction:))`.
    public func std(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        momentReduction(axes: axes, correction: correction, keepDims: keepDims, root: true)
    }

    /// The standard deviation over one axis.
    public func std(axis: Int, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        std(axes: [axis], correction: correction, keepDims: keepDims)
    }

    private func momentReduction(axes: [Int]?, correction: Int, keepDims: Bool, root: Bool) -> Tensor {
        let op = root ? "std" : "variance"
        guard dtype.isFloatingPoint else { unsupportedDType(dtype, op: op) }
        let axes = reductionAxes(axes, rank: rank, op: op)
        let n = axes.reduce(1) { $0 * shape[$1] }
        // n - correction <= 0 gives inf or NaN, as in PyTorch.
        let divisor = Double(Swift.max(0, n - correction))
        let out: Tensor = noGrad {
            let centered = self - self.mean(axes: axes, keepDims: true)
            let v = (centered * centered).sum(axes: axes, keepDims: keepDims) / divisor
            return root ? v.elementwise({ $0.squareRoot() }, { $0.squareRoot() }) : v
        }
        if needsGrad(self) {
            let inputShape = shape
            out.recorded(op, [self]) { g, out in
                let centered = self - self.mean(axes: axes, keepDims: true)
                let ge = self.expandedGradient(g, axes: axes, inputShape: inputShape)
                if root {
                    let s = self.expandedGradient(out, axes: axes, inputShape: inputShape)
                    return [ge * centered / (s * divisor)]
                }
                return [ge * centered * (2 / divisor)]
            }
        }
        return out
    }

    // MARK: log-sum-exp

    /// `log(sum(exp(x)))` over `axes` (all when nil), computed stably by subtracting the
    /// maximum first (an infinite maximum is not subtracted, as in PyTorch).
    public func logsumexp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        guard dtype.isFloatingPoint else { unsupportedDType(dtype, op: "logsumexp") }
        let axes = reductionAxes(axes, rank: rank, op: "logsumexp")
        let out: Tensor = axes.count == 1 ? {
            let kept = logSumExpAlong(axis: axes[0])
            return keepDims ? kept : kept.reshaped(reducedShape(shape, axes: axes, keepDims: false))
        }() : noGrad {
            let shift = self.max(axes: axes, keepDims: true)
                .elementwise({ $0.isInfinite ? 0 : $0 }, { $0.isInfinite ? 0 : $0 })
            let sums = (self - shift).exponentialSum(axes: axes)
            let result = sums.elementwise({ Float.log($0) }, { Double.log($0) }) + shift
            return keepDims ? result : result.reshaped(reducedShape(shape, axes: axes, keepDims: false))
        }
        if needsGrad(self) {
            let inputShape = shape
            out.recorded("logsumexp", [self]) { g, _ in
                [self.expandedGradient(g, axes: axes, inputShape: inputShape) * self.softmax(axes: axes)]
            }
        }
        return out
    }

    /// The logsumexp over one axis.
    public func logsumexp(axis: Int, keepDims: Bool = false) -> Tensor { logsumexp(axes: [axis], keepDims: keepDims) }

    /// `sum(exp(self))` over `axes`, kept as size 1 (not recorded).
    private func exponentialSum(axes: [Int]) -> Tensor {
        switch dtype {
        case .float32: reduced(axes: axes, keepDims: true, to: .float32, identity: 0, MappedSumReducer<Float>(kind: .exp))
        case .float64: reduced(axes: axes, keepDims: true, to: .float64, identity: 0, MappedSumReducer<Double>(kind: .exp))
        default: unsupportedDType(dtype, op: "logsumexp")
        }
    }

    // MARK: norms

    /// The vector p-norm over `axes` (all when nil), like `torch.linalg.vector_norm`:
    /// `p` may be any positive number, `.infinity` (largest magnitude), `-.infinity`
    /// (smallest magnitude) or 0 (number of nonzeros).
    ///
    /// Gradients follow PyTorch: zero at a zero vector (the subgradient 0 for p = 2),
    /// `sign(x)` for p = 1, split evenly among tied maxima for p = ∞.
    public func norm(p: Double = 2, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        guard dtype.isFloatingPoint else { unsupportedDType(dtype, op: "norm") }
        guard !p.isNaN else {
            fatalError(TensorError(op: "norm", "p is NaN; use a number > 0, 0, .infinity or -.infinity").description)
        }
        let axes = reductionAxes(axes, rank: rank, op: "norm")
        if p.isInfinite {
            let magnitude = absoluteValue()
            return p > 0 ? magnitude.max(axes: axes, keepDims: keepDims) : magnitude.min(axes: axes, keepDims: keepDims)
        }
        let out: Tensor
        switch dtype {
        case .float32: out = powerSum(Float.self, p: p, axes: axes, keepDims: keepDims)
        case .float64: out = powerSum(Double.self, p: p, axes: axes, keepDims: keepDims)
        default: unsupportedDType(dtype, op: "norm")
        }
        if needsGrad(self) && p != 0 {
            let inputShape = shape
            out.recorded("norm", [self]) { g, out in
                let ge = self.expandedGradient(g, axes: axes, inputShape: inputShape)
                if p == 1 { return [ge * self.signConstant()] }
                // A zero norm means a zero vector: use 1 as the denominator (the numerator is 0).
                let n = self.expandedGradient(out, axes: axes, inputShape: inputShape)
                let safe = n.maskedFill(mask: n.zeroMask(), value: 1)
                if p == 2 { return [ge * self / safe] }
                return [ge * self.signedPower(p - 1) / safe.signedPower(p - 1)]
            }
        }
        return out
    }

    /// The p-norm over one axis.
    public func norm(p: Double = 2, axis: Int, keepDims: Bool = false) -> Tensor {
        norm(p: p, axes: [axis], keepDims: keepDims)
    }

    /// `(sum |x|^p)^(1/p)` over `axes` (the count of nonzeros for p = 0), not recorded.
    private func powerSum<T: FloatScalar>(_: T.Type, p: Double, axes: [Int], keepDims: Bool) -> Tensor {
        let q = T(p)
        if p == 0 {
            return reduced(axes: axes, keepDims: keepDims, to: dtype, identity: T(0), MappedSumReducer<T>(kind: .nonzero))
        }
        if p == 1 {
            return reduced(axes: axes, keepDims: keepDims, to: dtype, identity: 0, MappedSumReducer<T>(kind: .abs))
        }
        if p == 2 {
            return reduced(axes: axes, keepDims: keepDims, to: dtype, identity: 0, MappedSumReducer<T>(kind: .square))
                .elementwise({ $0.squareRoot() }, { $0.squareRoot() })
        }
        let inverse = 1 / p
        return reduced(axes: axes, keepDims: keepDims, to: dtype, identity: 0, MappedSumReducer<T>(kind: .absPower(q)))
            .elementwise({ Float.pow($0, Float(inverse)) }, { Double.pow($0, inverse) })
    }
}

// MARK: - Elementwise helpers the reductions' gradients use
// (Small and internal; the general elementwise math library supersedes them once merged.)

extension Tensor {
    /// `f` applied to every element of a float tensor, not recorded.
    func elementwise(_ f32: (Float) -> Float, _ f64: (Double) -> Double) -> Tensor {
        switch dtype {
        case .float32: mapUnary(self, Float.self, to: .float32, Float.self, f32)
        case .float64: mapUnary(self, Double.self, to: .float64, Double.self, f64)
        default: unsupportedDType(dtype, op: "elementwise")
        }
    }

    /// -1, 0 or 1 per element (a constant: its derivative is zero almost everywhere).
    func signConstant() -> Tensor {
        elementwise({ $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
    }

    /// A bool tensor, true where the element is zero.
    func zeroMask() -> Tensor {
        switch dtype {
        case .float32: mapUnary(self, Float.self, to: .bool, Bool.self) { $0 == 0 }
        case .float64: mapUnary(self, Double.self, to: .bool, Bool.self) { $0 == 0 }
        default: unsupportedDType(dtype, op: "zeroMask")
        }
    }

    /// |x|, differentiable (gradient sign(x), zero at zero).
    func absoluteValue() -> Tensor {
        let out = elementwise({ Swift.abs($0) }, { Swift.abs($0) })
        if needsGrad(self) { out.recorded("abs", [self]) { g, _ in [g * self.signConstant()] } }
        return out
    }

    /// sign(x)·|x|^a with 0 at x = 0, differentiable to any order:
    /// d/dx = a·sign(x)·signedPower(a - 1).
    func signedPower(_ a: Double) -> Tensor {
        let out = elementwise({ x in x == 0 ? 0 : (x > 0 ? 1 : -1) * Float.pow(Swift.abs(x), Float(a)) },
                              { x in x == 0 ? 0 : (x > 0 ? 1 : -1) * Double.pow(Swift.abs(x), a) })
        if needsGrad(self) {
            out.recorded("signedPower", [self]) { g, _ in [g * self.signConstant() * self.signedPower(a - 1) * a] }
        }
        return out
    }
}

/// 1 where `a` equals `b` (broadcast to `a`'s shape), 0 elsewhere, in `a`'s dtype; not recorded.
func equalityMask(_ a: Tensor, _ b: Tensor) -> Tensor {
    switch a.dtype {
    case .float32: mapBinary(a.detach(), b.detach(), op: "equal", Float.self, to: .float32, Float.self) { $0 == $1 ? 1 : 0 }
    case .float64: mapBinary(a.detach(), b.detach(), op: "equal", Double.self, to: .float64, Double.self) { $0 == $1 ? 1 : 0 }
    default: unsupportedDType(a.dtype, op: "equal")
    }
}

