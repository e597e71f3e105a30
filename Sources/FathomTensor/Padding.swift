// Padding the trailing axes (torch.nn.functional.pad): constant padding on any number of
// axes, reflect and replicate padding on the last one or two.

/// What fills the border that `pad` adds.
public enum PaddingMode: Sendable, Equatable {
    /// A constant value (PyTorch's `mode="constant"`); `.constant(0)` pads with zeros.
    case constant(Double)
    /// The input mirrored at its edge, without repeating the edge element
    /// (`[1, 2, 3]` padded by 2 on the left gives `[3, 2, 1, 2, 3]`). Padding must be
    /// smaller than the axis.
    case reflect
    /// The edge element repeated.
    case replicate
}

/// Pads the trailing axes of `input`, like `torch.nn.functional.pad`.
///
/// - Parameters:
///   - padding: PyTorch's order, last axis first: `[left, right]` pads the last axis,
///     `[left, right, top, bottom]` the last two, and so on. Sizes must be ≥ 0.
///   - mode: `.constant(value)` for any number of axes; `.reflect` and `.replicate` for
///     the last one or two axes.
///
/// ```swift
/// let padded = pad(images, [1, 1, 1, 1], mode: .reflect)   // [N, C, H+2, W+2]
/// ```
public func pad(_ input: Tensor, _ padding: [Int], mode: PaddingMode = .constant(0)) -> Tensor {
    orStop { () throws(TensorError) in try pad(validating: input, padding, mode: mode) }
}

/// Like `pad(_:_:mode:)` but throws on bad padding sizes, for sizes from user input.
public func pad(validating input: Tensor, _ padding: [Int], mode: PaddingMode = .constant(0)) throws(TensorError) -> Tensor {
    let op = "pad"
    guard padding.count % 2 == 0, padding.count / 2 <= input.rank, !padding.isEmpty else {
        throw TensorError(op: op, "padding \(padding) must list (before, after) pairs for at most \(input.rank) axes of the input \(describe(input.shape)), last axis first")
    }
    guard padding.allSatisfy({ $0 >= 0 }) else {
        throw TensorError(op: op, "padding \(padding) has a negative size; sizes must be >= 0 (use slicing to crop)")
    }
    let axes = padding.count / 2
    // (axis, before, after), in axis order.
    let spans = (0..<axes).map { i in (input.rank - 1 - i, padding[2 * i], padding[2 * i + 1]) }
    switch mode {
    case .constant(let value):
        return constantPad(input, spans, value: value)
    case .reflect, .replicate:
        guard input.dtype.isFloatingPoint else {
            throw TensorError(op: op, "\(mode == .reflect ? "reflect" : "replicate") padding needs a float32 or float64 input, got \(input.dtype)")
        }
        guard axes <= 2 else {
            throw TensorError(op: op, "\(mode == .reflect ? "reflect" : "replicate") padding supports the last 1 or 2 axes, but padding \(padding) names \(axes)")
        }
        for (axis, before, after) in spans {
            let size = input.shape[axis]
            if mode == .reflect && (before >= size || after >= size) {
                throw TensorError(op: op, "reflect padding \(padding) must be smaller than the padded axis: axis \(axis) of \(describe(input.shape)) has size \(size)")
            }
            if mode == .replicate && size == 0 {
                throw TensorError(op: op, "replicate padding needs a non-empty axis \(axis) in \(describe(input.shape))")
            }
        }
        // A gather along each padded axis: the resampling kernel with one tap.
        func axisMap(_ span: (Int, Int, Int)) -> ResampleAxis {
            let (axis, before, after) = span
            let size = input.shape[axis]
            return .copying(input: size, output: size + before + after) { o in
                let i = o - before
                if mode == .replicate { return min(max(i, 0), size - 1) }
                return i < 0 ? -i : (i >= size ? 2 * (size - 1) - i : i)
            }
        }
        let x = input.rank == 1 ? input.reshaped([1, input.shape[0]]) : input
        let h = axes == 2 ? axisMap(spans[1]) : .identity(x.shape[x.rank - 2])
        let w = axisMap(spans[0])
        let out = resample(x, Resample2D(h: h, w: w))
        return input.rank == 1 ? out.reshaped([w.outSize]) : out
    }
}

/// A tensor of `value` with `input` written inside the border; its gradient is the inner
/// view of the output gradient.
private func constantPad(_ input: Tensor, _ spans: [(Int, Int, Int)], value: Double) -> Tensor {
    var shape = input.shape
    var inner = [TensorIndex](repeating: .all, count: input.rank)
    for (axis, before, after) in spans {
        shape[axis] += before + after
        inner[axis] = .range(start: before, end: before + input.shape[axis])
    }
    let out = Tensor.full(shape, value, dtype: input.dtype)
    let selection = orStop { () throws(TensorError) in try Selection(inner, shape: shape) }
    copyElements(from: input, into: selection.view(of: out))
    if needsGrad(input) {
        out.recorded("pad", [input]) { g, _ in [g.select(inner)] }
    }
    return out
}
