import FathomTensor

/// Distance matrices between two sets of feature vectors, computed with one matrix product
/// so they stay fast for re-identification galleries of tens of thousands of images.
///
/// Both functions are built from differentiable tensor ops, so they can also serve inside
/// losses (triplet, centre); the result has the inputs' float dtype.
public enum PairwiseDistance {
    /// `d[i, j] = ‖a_i − b_j‖²` for `a: [m, d]`, `b: [n, d]`, as `‖a_i‖² + ‖b_j‖² − 2 a_i·b_j`
    /// (the expansion reid-strong-baseline and torchreid use), clamped at 0 because the
    /// expansion can round to tiny negative values for (near-)identical vectors.
    public static func squaredEuclidean(_ a: Tensor, _ b: Tensor) -> Tensor {
        orStop { () throws(TensorError) in try validate(a, b, op: "PairwiseDistance.squaredEuclidean") }
        let aa = (a * a).sum(axis: 1, keepDims: true)               // [m, 1]
        let bb = (b * b).sum(axis: 1, keepDims: true).transposed()  // [1, n]
        return (aa + bb - 2 * a.matmul(b.transposed())).clamp(min: 0)
    }

    /// `d[i, j] = 1 − a_i·b_j / (‖a_i‖ ‖b_j‖)`; zero vectors are treated as having norm
    /// `1e-12` (they get distance 1 to everything), as `F.normalize(eps: 1e-12)` does.
    public static func cosine(_ a: Tensor, _ b: Tensor) -> Tensor {
        orStop { () throws(TensorError) in try validate(a, b, op: "PairwiseDistance.cosine") }
        let an = a / a.norm(axis: 1, keepDims: true).clamp(min: 1e-12)
        let bn = b / b.norm(axis: 1, keepDims: true).clamp(min: 1e-12)
        return 1 - an.matmul(bn.transposed())
    }

    static func validate(_ a: Tensor, _ b: Tensor, op: String) throws(TensorError) {
        guard a.shape.count == 2, b.shape.count == 2, a.shape[1] == b.shape[1] else {
            throw TensorError(op: op, "expected feature matrices [m, d] and [n, d], got \(a.shape) and \(b.shape); reshape to rows of equal length")
        }
        guard a.dtype == b.dtype, a.dtype == .float32 || a.dtype == .float64 else {
            throw TensorError(op: op, "expected two float32 or two float64 matrices, got \(a.dtype) and \(b.dtype); convert with .to(_:)")
        }
    }
}

/// A dense row-major matrix of doubles read from a 2-d tensor: the form the ranking,
/// re-ranking and clustering loops below work on.
struct DoubleMatrix {
    var rows: Int
    var columns: Int
    var values: [Double]

    init(rows: Int, columns: Int, values: [Double]) {
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    init(_ tensor: Tensor, op: String) throws(TensorError) {
        guard tensor.shape.count == 2 else {
            throw TensorError(op: op, "expected a 2-d distance matrix, got shape \(tensor.shape)")
        }
        guard tensor.dtype == .float32 || tensor.dtype == .float64 else {
            throw TensorError(op: op, "expected a float32 or float64 matrix, got \(tensor.dtype)")
        }
        rows = tensor.shape[0]
        columns = tensor.shape[1]
        values = tensor.doubles
    }

    subscript(i: Int, j: Int) -> Double {
        get { values[i * columns + j] }
        set { values[i * columns + j] = newValue }
    }

    var tensor: Tensor { Tensor(values, shape: [rows, columns]) }
}

/// Indices of `row` ordered by (value, index) ascending: a stable sort, so equal distances
/// keep gallery order. Only the first `limit` entries are produced (a partial selection),
/// and they equal the first `limit` entries of the full stable sort.
func stableOrder(_ row: UnsafeBufferPointer<Double>, limit: Int? = nil) -> [Int] {
    let n = row.count
    let m = Swift.min(limit ?? n, n)
    if m >= n / 4 {
        return Array((0..<n).sorted { row[$0] < row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(m))
    }
    // Insertion into a small sorted buffer: O(n) for the typical case of m ≪ n.
    var best: [Int] = []
    best.reserveCapacity(m + 1)
    for j in 0..<n {
        let v = row[j]
        if best.count == m, let last = best.last, !(v < row[last]) { continue }
        var position = best.count
        while position > 0, v < row[best[position - 1]] { position -= 1 }
        best.insert(j, at: position)
        if best.count > m { best.removeLast() }
    }
    return best
}

