// Basic indexing with integers, ranges, steps, new axes and ellipsis, as in NumPy:
// `x[0]`, `x[1..<3, .all]`, `x[.ellipsis, .stride(0, nil, by: 2)]`. All results are views.

/// One entry of a subscript: `.at(i)`, `.range(start:end:step:)`, `.all`, `.newAxis`,
/// `.ellipsis`, or `.stride(start, end, by:)`; integers and Swift ranges convert implicitly.
public struct TensorIndex: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// One position; the axis is removed. Negative counts from the end.
        case at(Int)
        /// Positions `start, start+step, …` before `end`; nil bounds mean the whole axis.
        case range(start: Int?, end: Int?, step: Int)
        case all
        case newAxis
        case ellipsis
    }
    let kind: Kind
}

/// Anything that can appear in a tensor subscript.
public protocol TensorIndexConvertible {
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexConvertible { public var tensorIndex: TensorIndex { self } }
extension Int: TensorIndexConvertible { public var tensorIndex: TensorIndex { .at(self) } }
extension Range<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound + 1, step: 1) }
}
extension PartialRangeFrom<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough<Int>: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound + 1, step: 1) }
}

/// A resolved subscript: what each output axis reads, independent of memory layout, so
/// the same selection can be applied to a gradient of the input's shape.
struct Selection {
    enum Axis {
        case index(Int)
        case range(start: Int, step: Int, count: Int)
        case newAxis
    }
    var axes: [Axis]

    init(_ indices: [TensorIndex], shape: [Int]) throws(TensorError) {
        let consuming = indices.filter { $0 != .newAxis && $0 != .ellipsis }.count
        guard indices.filter({ $0 == .ellipsis }).count <= 1 else {
            throw TensorError(op: "subscript", "at most one .ellipsis may appear in a subscript")
        }
        guard consuming <= shape.count else {
            throw TensorError(op: "subscript", "\(consuming) axes indexed but the tensor has shape \(describe(shape)) (rank \(shape.count))")
        }
        var expanded: [TensorIndex] = []
        for index in indices {
            if index == .ellipsis {
                expanded += Array(repeating: .all, count: shape.count - consuming)
            } else {
                expanded.append(index)
            }
        }
        while expanded.filter({ $0 != .newAxis }).count < shape.count { expanded.append(.all) }

        var axis = 0
        axes = []
        for index in expanded {
            switch index.kind {
            case .newAxis:
                axes.append(.newAxis)
                continue
            case .at(let i):
                let size = shape[axis]
                let position = i < 0 ? i + size : i
                guard position >= 0, position < size else {
                    throw TensorError(op: "subscript", "index \(i) is out of range for axis \(axis) of size \(size) (shape \(describe(shape)))")
                }
                axes.append(.index(position))
            case .all:
                axes.append(.range(start: 0, step: 1, count: shape[axis]))
            case .range(let start, let end, let step):
                guard step > 0 else {
                    throw TensorError(op: "subscript", "step \(step) on axis \(axis) must be positive; use flip for reversed order")
                }
                let size = shape[axis]
                func clamp(_ bound: Int?, _ fallback: Int) -> Int {
                    guard let bound else { return fallback }
                    return min(max(bound < 0 ? bound + size : bound, 0), size)
                }
                let lo = clamp(start, 0), hi = clamp(end, size)
                let count = hi > lo ? (hi - lo + step - 1) / step : 0
                axes.append(.range(start: lo, step: step, count: count))
            case .ellipsis:
                preconditionFailure("ellipsis was expanded above")
            }
            axis += 1
        }
    }

    /// The selected view of `tensor` (whose shape the selection was resolved for).
    func view(of tensor: Tensor) -> Tensor {
        var shape: [Int] = [], strides: [Int] = []
        var offset = tensor.offset
        var axis = 0
        for entry in axes {
            switch entry {
            case .newAxis:
                shape.append(1)
                strides.append(0)
                continue
            case .index(let i):
                offset += i * tensor.strides[axis]
            case .range(let start, let step, let count):
                offset += start * tensor.strides[axis]
                shape.append(count)
                strides.append(step * tensor.strides[axis])
            }
            axis += 1
        }
        return tensor.view(shape: shape, strides: strides, offset: offset)
    }
}

extension Tensor {
    /// A view selecting along each axis, NumPy-style: `x[0]`, `x[1..<3]`, `x[.all, 2...]`,
    /// `x[.stride(0, nil, by: 2)]`, `x[.newAxis]`, `x[.ellipsis, 0]`.
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        select(indices.map(\.tensorIndex))
    }

    /// The subscript as a method, for indices built at run time.
    public func select(_ indices: [TensorIndex]) -> Tensor {
        let selection = orStop { () throws(TensorError) in try Selection(indices, shape: shape) }
        return select(selection)
    }

    /// Like `select` but throws on a bad index, for indices from user input.
    public func select(validating indices: [TensorIndex]) throws(TensorError) -> Tensor {
        select(try Selection(indices, shape: shape))
    }

    func select(_ selection: Selection) -> Tensor {
        let out = selection.view(of: self)
        if needsGrad(self) {
            let inputShape = shape, dtype = dtype
            out.recorded("select", [self]) { g, _ in [g.placedInZeros(selection, shape: inputShape, dtype: dtype)] }
        }
        return out
    }

    /// The backward of `select`: a zero tensor of `shape` with `self` written at the
    /// selected positions. Its own backward is `select` again.
    private func placedInZeros(_ selection: Selection, shape: [Int], dtype: DType) -> Tensor {
        let out = Tensor.zeros(shape, dtype: dtype)
        copyElements(from: self, into: selection.view(of: out))
        if needsGrad(self) {
            out.recorded("selectBackward", [self]) { g, _ in [g.select(selection)] }
        }
        return out
    }
}

// Spelled on the protocol so that subscripts can mix integers and ranges with them.
extension TensorIndexConvertible where Self == TensorIndex {
    /// One position; the axis is removed. Negative counts from the end.
    public static func at(_ i: Int) -> TensorIndex { TensorIndex(kind: .at(i)) }
    /// Positions `start, start+step, …` before `end`; nil bounds mean the whole axis.
    /// Negative bounds count from the end; `step` must be positive.
    public static func range(start: Int?, end: Int?, step: Int = 1) -> TensorIndex {
        TensorIndex(kind: .range(start: start, end: end, step: step))
    }
    /// `x[start:end:step]` in NumPy.
    public static func stride(_ start: Int?, _ end: Int?, by step: Int) -> TensorIndex {
        range(start: start, end: end, step: step)
    }
    /// The whole axis (`:` in NumPy).
    public static var all: TensorIndex { TensorIndex(kind: .all) }
    /// A new axis of size 1 (`None` in NumPy).
    public static var newAxis: TensorIndex { TensorIndex(kind: .newAxis) }
    /// As many `.all` as needed to index every axis (`...` in NumPy).
    public static var ellipsis: TensorIndex { TensorIndex(kind: .ellipsis) }
}
