/// An n-dimensional array with reverse-mode automatic differentiation.
///
/// A `Tensor` is a view: a dtype, a shape, strides and an offset into a shared
/// storage. Reshapes, permutations, broadcasts and slices return new views of the same
/// memory without copying. Tensors are reference types, as in PyTorch: a parameter is
/// one object whose `grad` fills in when `backward()` runs.
///
/// ```swift
/// let w = Tensor.randn([3, 1], seed: 0).requiringGrad()
/// let loss = (x.matmul(w) - y).square().mean()
/// loss.backward()
/// print(w.grad!)
/// ```
public final class Tensor {
    public let dtype: DType
    public let shape: [Int]
    /// Element strides of each axis (not bytes). Zero on broadcast axes.
    public let strides: [Int]
    /// Offset of the first element into `storage`, in elements.
    let offset: Int
    let storage: TensorStorage

    /// Where the memory lives; always `.cpu` today.
    public var device: Device { .cpu }

    // MARK: autograd state

    /// Whether gradients flow to this tensor. Set it on leaves (parameters);
    /// results of operations on such tensors require grad automatically.
    public var requiresGrad: Bool {
        get { gradFn != nil || leafRequiresGrad }
        set {
            precondition(gradFn == nil || newValue,
                         "Fathom.requiresGrad: only leaf tensors can stop requiring grad; use detach()")
            precondition(!newValue || dtype.isFloatingPoint,
                         "Fathom.requiresGrad: only float32/float64 tensors can require grad, this one is \(dtype)")
            if gradFn == nil { leafRequiresGrad = newValue }
        }
    }
    var leafRequiresGrad = false
    /// The accumulated gradient of a leaf after `backward()`; `nil` until then.
    public var grad: Tensor?
    /// The node that produced this tensor, `nil` for leaves and for tensors made without grad.
    var gradFn: GradFn?

    /// True for tensors not produced by a recorded operation (inputs and parameters).
    public var isLeaf: Bool { gradFn == nil }

    // MARK: construction

    init(storage: TensorStorage, dtype: DType, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new contiguous tensor with uninitialized memory; kernels fill it.
    init(uninitializedShape shape: [Int], dtype: DType) {
        let count = shape.reduce(1, *)
        self.storage = TensorStorage(byteCount: count * dtype.byteSize)
        self.dtype = dtype
        self.shape = shape
        self.strides = contiguousStrides(shape)
        self.offset = 0
    }

    // MARK: geometry

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Whether the elements lie in row-major order without gaps, so kernels can read them flat.
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The size of `axis`, negative axes counting from the end.
    public func size(_ axis: Int) -> Int { shape[normalizeAxis(axis, rank: rank, op: "size")] }

    // MARK: raw access (kernels)

    /// Pointer to the first element, typed. The caller must respect `strides`.
    @inline(__always)
    func pointer<T>(as _: T.Type) -> UnsafeMutablePointer<T> {
        storage.bytes.assumingMemoryBound(to: T.self) + offset
    }

    /// A view of the same memory with another geometry.
    func view(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }
}

/// Row-major strides for `shape`.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= max(shape[axis], 1)
    }
    return strides
}

/// Maps a possibly negative axis into `0..<rank`, stopping with a clear message if out of range.
func normalizeAxis(_ axis: Int, rank: Int, op: String) -> Int {
    let normalized = axis < 0 ? axis + rank : axis
    guard normalized >= 0, normalized < max(rank, 1) else {
        fatalError(TensorError(op: op, "axis \(axis) is out of range for a tensor of rank \(rank); use an axis in \(-rank)..<\(rank)").description)
    }
    return normalized
}
