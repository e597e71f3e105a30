import FathomTensor

/// The linear assignment problem (`scipy.optimize.linear_sum_assignment`): pick one column
/// for each row, no column twice, so that the total cost Σ cost[i][column(i)] is minimal
/// (or maximal). Permutation alignment solves one of these per permutation group.
///
/// The solver is the Hungarian algorithm with row and column potentials (Kuhn–Munkres in
/// the shortest-augmenting-path form of Jonker–Volgenant): O(rows² · columns) time,
/// O(rows + columns) memory besides the matrix. It is exact: the reduced costs it compares
/// are differences of the input entries, so integer costs give integer optima and ties are
/// broken deterministically (lowest column first).
public enum LinearAssignment {
    /// The optimal column of each row of a `rows × columns` cost matrix stored row-major.
    ///
    /// With `rows <= columns` every row gets a distinct column; with more rows than columns
    /// every column gets a distinct row and the rows left over get `-1` (as SciPy, which
    /// returns only the matched pairs).
    ///
    /// - Parameters:
    ///   - cost: `rows * columns` finite numbers, row-major.
    ///   - maximize: maximize the total instead of minimizing it.
    public static func solve(_ cost: [Double], rows: Int, columns: Int, maximize: Bool = false) -> [Int] {
        do { return try solve(validating: cost, rows: rows, columns: columns, maximize: maximize) } catch {
            fatalError(error.description)
        }
    }

    /// Like `solve(_:rows:columns:maximize:)`, but throws for a size mismatch or a value that
    /// is not finite instead of stopping.
    public static func solve(validating cost: [Double], rows: Int, columns: Int,
                             maximize: Bool = false) throws(TensorError) -> [Int] {
        guard rows >= 0, columns >= 0, cost.count == rows * columns else {
            throw TensorError(op: "LinearAssignment.solve", "the cost matrix has \(cost.count) entries but rows × columns = \(rows) × \(columns); pass a row-major matrix of exactly that size")
        }
        if let bad = cost.firstIndex(where: { !$0.isFinite }) {
            throw TensorError(op: "LinearAssignment.solve", "cost[\(bad / max(columns, 1))][\(bad % max(columns, 1))] = \(cost[bad]) is not finite; every cost must be a finite number")
        }
        if rows == 0 || columns == 0 { return Array(repeating: -1, count: rows) }
        let sign = maximize ? -1.0 : 1.0
        if rows <= columns {
            return hungarian(rows: rows, columns: columns, cost.map { sign * $0 })
        }
        // More rows than columns: assign each column a row on the transpose.
        var transposed = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows { for j in 0..<columns { transposed[j * rows + i] = sign * cost[i * columns + j] } }
        let rowOfColumn = hungarian(rows: columns, columns: rows, transposed)
        var result = Array(repeating: -1, count: rows)
        for (j, i) in rowOfColumn.enumerated() { result[i] = j }
        return result
    }

    /// The optimal column of each row of a 2-d tensor (any float dtype; computed in float64).
    public static func solve(_ cost: Tensor, maximize: Bool = false) -> [Int] {
        precondition(cost.rank == 2, "Fathom.LinearAssignment.solve: the cost matrix must be 2-d, got shape \(cost.shape)")
        return solve(cost.doubles, rows: cost.shape[0], columns: cost.shape[1], maximize: maximize)
    }

    /// The total of `cost` over an assignment (rows assigned `-1` are skipped).
    public static func total(_ cost: [Double], columns: Int, assignment: [Int]) -> Double {
        var sum = 0.0
        for (i, j) in assignment.enumerated() where j >= 0 { sum += cost[i * columns + j] }
        return sum
    }

    /// Minimizing Hungarian algorithm for `rows <= columns`: rows are added one at a time,
    /// each by a Dijkstra-like search for the shortest augmenting path in reduced costs
    /// `c(i, j) − u[i] − v[j] >= 0`, after which the potentials are updated so the reduced
    /// costs stay non-negative and are zero along the matching.
    private static func hungarian(rows n: Int, columns m: Int, _ cost: [Double]) -> [Int] {
        // 1-based, with column 0 a virtual column holding the row being inserted.
        var u = [Double](repeating: 0, count: n + 1)
        var v = [Double](repeating: 0, count: m + 1)
        var rowOf = [Int](repeating: 0, count: m + 1)   // row matched to column j (0: free)
        var way = [Int](repeating: 0, count: m + 1)     // previous column on the path
        var minSlack = [Double](repeating: 0, count: m + 1)
        var used = [Bool](repeating: false, count: m + 1)
        for i in 1...n {
            rowOf[0] = i
            var j0 = 0
            for j in 0...m { minSlack[j] = .infinity; used[j] = false }
            repeat {
                used[j0] = true
                let i0 = rowOf[j0]
                let base = (i0 - 1) * m - 1, ui = u[i0]
                var delta = Double.infinity, j1 = 0
                for j in 1...m where !used[j] {
                    let reduced = cost[base + j] - ui - v[j]
                    if reduced < minSlack[j] { minSlack[j] = reduced; way[j] = j0 }
                    if minSlack[j] < delta { delta = minSlack[j]; j1 = j }
                }
                for j in 0...m {
                    if used[j] { u[rowOf[j]] += delta; v[j] -= delta } else { minSlack[j] -= delta }
                }
                j0 = j1
            } while rowOf[j0] != 0
            // Flip the matching along the augmenting path.
            repeat {
                let j1 = way[j0]
                rowOf[j0] = rowOf[j1]
                j0 = j1
            } while j0 != 0
        }
        var columnOf = [Int](repeating: -1, count: n)
        for j in 1...m where rowOf[j] != 0 { columnOf[rowOf[j] - 1] = j - 1 }
        return columnOf
    }
}
