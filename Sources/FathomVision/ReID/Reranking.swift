import Foundation
import FathomTensor

/// The output of k-reciprocal re-ranking.
public struct ReRankingResult {
    /// The re-ranked query × gallery distances, `[queries, gallery]`, float64.
    public var distances: Tensor
    /// The Jaccard distance between every pair of the `queries + gallery` samples,
    /// `[N, N]` float64 (rows and columns: queries first, then gallery), when requested.
    /// This is the matrix unsupervised re-ID methods cluster with DBSCAN.
    public var jaccard: Tensor?
}

/// k-reciprocal re-ranking (Zhong, Zheng, Cao, Li, "Re-ranking Person Re-identification with
/// k-reciprocal Encoding", CVPR 2017), following the released Python code as distributed in
/// reid-strong-baseline (`utils/re_ranking.py`, Luo). With `N = queries + gallery` samples:
///
/// 1. **Original distance**: `d = ‖x_a − x_b‖²` over all N samples (`PairwiseDistance.squaredEuclidean`),
///    divided by its column maximum and transposed, `D[i, j] = d[j, i] / max_r d[r, i]`
///    (so each row of the symmetric matrix is scaled by its own maximum). A zero column
///    maximum (all samples identical) is left unscaled rather than producing NaN.
/// 2. **Initial ranking** of each row of `D`, ascending, ties broken by index (stable sort;
///    the released code uses NumPy's unstable default).
/// 3. **k-reciprocal set** `R(i, k) = { c ∈ N(i, k) : i ∈ N(c, k) }`, where `N(i, k)` is the
///    first `k + 1` entries of row i's ranking (the sample itself included).
/// 4. **Expansion**: `R*(i) = R(i, k1) ∪ ⋃ R(c, round(k1/2))` over `c ∈ R(i, k1)` whose
///    `R(c, round(k1/2))` shares strictly more than 2/3 of its elements with `R(i, k1)`
///    (`round` is NumPy's `around`: halves to even).
/// 5. **Encoding**: `V[i, j] = exp(−D[i, j]) / Σ_{j' ∈ R*(i)} exp(−D[i, j'])` for `j ∈ R*(i)`, else 0.
/// 6. **Local query expansion** (when `k2 ≠ 1`): `V[i] ← mean of V[c]` over the first `k2`
///    entries `c` of row i's ranking.
/// 7. **Jaccard distance** `J[i, j] = 1 − s / (2 − s)`, `s = Σ_k min(V[i, k], V[j, k])`
///    (each row of V sums to 1, so `2 − s = Σ_k max(V[i, k], V[j, k])`).
/// 8. **Final distance** `(1 − λ) J[i, j] + λ D[i, j]` for queries i and gallery samples j.
///
/// Paper defaults: `k1 = 20`, `k2 = 6`, `λ = 0.3`. The released code keeps V in float16;
/// everything here is Double. V is stored sparsely (each row has at most a few dozen
/// nonzeros), so memory is O(N·k1) apart from the dense N × N distance matrix. Rows are
/// processed in parallel; every row's result is independent, so output is identical for
/// any thread count.
public enum KReciprocalReRanking {
    /// Re-ranks from features `query: [q, d]` and `gallery: [g, d]` (float32 or float64).
    /// `returnJaccard` also returns the full `(q+g)²` Jaccard matrix.
    public static func rerank(query: Tensor, gallery: Tensor, k1: Int = 20, k2: Int = 6, lambda: Double = 0.3,
                              returnJaccard: Bool = false) -> ReRankingResult {
        orStop { () throws(TensorError) in try PairwiseDistance.validate(query, gallery, op: "KReciprocalReRanking.rerank") }
        let all = Tensor.cat([query, gallery], axis: 0).to(.float64)
        let distances = noGrad { PairwiseDistance.squaredEuclidean(all, all) }
        return rerank(distances: distances, queryCount: query.shape[0], k1: k1, k2: k2, lambda: lambda,
                      returnJaccard: returnJaccard)
    }

    /// Re-ranks from a precomputed `[N, N]` original distance matrix over queries then gallery
    /// (step 1's `d`, before the column-max scaling, which is applied here).
    public static func rerank(distances: Tensor, queryCount: Int, k1: Int = 20, k2: Int = 6, lambda: Double = 0.3,
                              returnJaccard: Bool = false) -> ReRankingResult {
        orStop { () throws(TensorError) in
            try rerank(validating: distances, queryCount: queryCount, k1: k1, k2: k2, lambda: lambda, returnJaccard: returnJaccard)
        }
    }

    /// Throwing variant of `rerank(distances:queryCount:...)`.
    public static func rerank(validating distances: Tensor, queryCount: Int, k1: Int = 20, k2: Int = 6, lambda: Double = 0.3,
                              returnJaccard: Bool = false) throws(TensorError) -> ReRankingResult {
        let op = "KReciprocalReRanking.rerank"
        var scaled = try DoubleMatrix(distances, op: op)
        let n = scaled.rows
        guard scaled.columns == n else { throw TensorError(op: op, "expected a square [N, N] distance matrix over queries then gallery, got \(distances.shape)") }
        guard queryCount >= 0, queryCount <= n else { throw TensorError(op: op, "queryCount \(queryCount) is outside 0...\(n) for a \(distances.shape) matrix") }
        guard k1 >= 1, k2 >= 1, k2 <= n else { throw TensorError(op: op, "need k1 >= 1 and 1 <= k2 <= N (\(n)); got k1 = \(k1), k2 = \(k2)") }
        guard (0...1).contains(lambda) else { throw TensorError(op: op, "lambda must lie in [0, 1], got \(lambda)") }

        // Step 1: scale by column maxima and transpose (in place: the matrix can be large).
        scaled.values.withUnsafeMutableBufferPointer { v in
            var columnMax = [Double](repeating: -.infinity, count: n)
            for r in 0..<n { for c in 0..<n { columnMax[c] = Swift.max(columnMax[c], v[r * n + c]) } }
            for i in 0..<n { for j in (i + 1)..<n { v.swapAt(i * n + j, j * n + i) } }
            for i in 0..<n {
                let m = columnMax[i] > 0 ? columnMax[i] : 1
                for j in 0..<n { v[i * n + j] /= m }
            }
        }

        // Step 2: the first max(k1 + 1, k2) entries of each row's ranking.
        let depth = Swift.min(Swift.max(k1 + 1, k2), n)
        var ranking = [[Int]](repeating: [], count: n)
        scaled.values.withUnsafeBufferPointer { all in
            ranking.withUnsafeMutableBufferPointer { out in
                ThreadPool.shared.parallelFor(n, grain: 64) { rows in
                    for i in rows { out[i] = stableOrder(UnsafeBufferPointer(rebasing: all[(i * n)..<((i + 1) * n)]), limit: depth) }
                }
            }
        }

        // Steps 3–5: sparse encoding rows (sorted column indices, weights).
        let halfK1 = Int((Double(k1) / 2).rounded(.toNearestOrEven))
        var encoding = [SparseRow](repeating: SparseRow(), count: n)
        encoding.withUnsafeMutableBufferPointer { out in
            ThreadPool.shared.parallelFor(n, grain: 32) { rows in
                for i in rows {
                    let reciprocal = kReciprocal(i, k1, ranking)
                    var expansion = Set(reciprocal)
                    let base = Set(reciprocal)
                    for candidate in reciprocal {
                        let candidateSet = kReciprocal(candidate, halfK1, ranking)
                        let shared = candidateSet.reduce(0) { $0 + (base.contains($1) ? 1 : 0) }
                        if Double(shared) > 2.0 / 3.0 * Double(candidateSet.count) { expansion.formUnion(candidateSet) }
                    }
                    let columns = expansion.sorted()
                    let weights = columns.map { exp(-scaled[i, $0]) }
                    let total = weights.reduce(0, +)
                    out[i] = SparseRow(columns: columns, values: weights.map { $0 / total })
                }
            }
        }

        // Step 6: local query expansion.
        if k2 != 1 {
            var expanded = [SparseRow](repeating: SparseRow(), count: n)
            expanded.withUnsafeMutableBufferPointer { out in
                ThreadPool.shared.parallelFor(n, grain: 32) { rows in
                    var dense = [Double](repeating: 0, count: n)
                    var touched: [Int] = []
                    for i in rows {
                        for c in ranking[i].prefix(k2) {
                            let row = encoding[c]
                            for (column, value) in zip(row.columns, row.values) {
                                if dense[column] == 0 { touched.append(column) }
                                dense[column] += value
                            }
                        }
                        touched.sort()
                        out[i] = SparseRow(columns: touched, values: touched.map { dense[$0] / Double(k2) })
                        for column in touched { dense[column] = 0 }
                        touched.removeAll(keepingCapacity: true)
                    }
                }
            }
            encoding = expanded
        }

        // Step 7: Jaccard distance through an inverted index (column -> rows with a nonzero).
        var inverted = [[(row: Int, value: Double)]](repeating: [], count: n)
        for (i, row) in encoding.enumerated() {
            for (column, value) in zip(row.columns, row.values) where value != 0 { inverted[column].append((i, value)) }
        }
        let jaccardRows = returnJaccard ? n : queryCount
        var jaccard = [Double](repeating: 0, count: jaccardRows * n)
        jaccard.withUnsafeMutableBufferPointer { out in
            ThreadPool.shared.parallelFor(jaccardRows, grain: 16) { rows in
                var shared = [Double](repeating: 0, count: n)
                for i in rows {
                    let row = encoding[i]
                    for (column, value) in zip(row.columns, row.values) where value != 0 {
                        for entry in inverted[column] { shared[entry.row] += Swift.min(value, entry.value) }
                    }
                    for j in 0..<n {
                        out[i * n + j] = 1 - shared[j] / (2 - shared[j])
                        shared[j] = 0
                    }
                }
            }
        }

        // Step 8: blend for the query × gallery block.
        let g = n - queryCount
        var final = [Double](repeating: 0, count: queryCount * g)
        for i in 0..<queryCount {
            for j in 0..<g {
                final[i * g + j] = (1 - lambda) * jaccard[i * n + queryCount + j] + lambda * scaled[i, queryCount + j]
            }
        }
        return ReRankingResult(distances: Tensor(final, shape: [queryCount, g]),
                               jaccard: returnJaccard ? Tensor(jaccard, shape: [n, n]) : nil)
    }

    /// `R(i, k)`: the entries c among the first k + 1 of row i's ranking whose own first
    /// k + 1 contain i, in ranking order.
    private static func kReciprocal(_ i: Int, _ k: Int, _ ranking: [[Int]]) -> [Int] {
        ranking[i].prefix(k + 1).filter { ranking[$0].prefix(k + 1).contains(i) }
    }
}

/// One sparse row of the k-reciprocal encoding V.
struct SparseRow {
    var columns: [Int] = []
    var values: [Double] = []
}
