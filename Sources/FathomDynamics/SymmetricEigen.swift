/// The eigen-decomposition A = Q·Λ·Qᵀ of a small dense real symmetric matrix, computed in
/// float64 by the cyclic Jacobi method (rotations until every off-diagonal entry is below
/// 1e-15 relative to the matrix norm).
///
/// Meant for matrices up to a few hundred rows: Lanczos' tridiagonal matrix, and dense
/// Hessians in tests. Jacobi is slower than tridiagonal QR but accurate to working
/// precision on every eigenvalue, small ones included, and simple to verify.
public struct SymmetricEigen {
    /// Eigenvalues in ascending order.
    public let values: [Double]
    /// `vectors[i]` is the unit eigenvector of `values[i]`.
    public let vectors: [[Double]]

    /// Decomposes the `n`×`n` symmetric matrix stored row-major in `matrix`; only
    /// symmetric input is meaningful (the strictly lower triangle is assumed to mirror the
    /// upper one).
    public init(_ matrix: [Double], n: Int) {
        precondition(n >= 0 && matrix.count == n * n,
                     "Fathom.SymmetricEigen: \(matrix.count) entries do not form a \(n)×\(n) matrix")
        var a = matrix
        // q holds the accumulated rotations, row-major; column j is eigenvector j.
        var q = [Double](repeating: 0, count: n * n)
        for i in 0..<n { q[i * n + i] = 1 }
        let scale = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let threshold = 1e-15 * Swift.max(scale, Double.leastNormalMagnitude)
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for r in (p + 1)..<Swift.max(n, p + 1) { off += a[p * n + r] * a[p * n + r] } }
            if off.squareRoot() <= threshold { break }
            for p in 0..<n {
                for r in (p + 1)..<Swift.max(n, p + 1) {
                    let apr = a[p * n + r]
                    if apr == 0 { continue }
                    // The rotation that zeroes a[p][r] (Golub & Van Loan, Algorithm 8.5.1).
                    let theta = (a[r * n + r] - a[p * n + p]) / (2 * apr)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {  // columns p and r: A ← A·J
                        let akp = a[k * n + p], akr = a[k * n + r]
                        a[k * n + p] = c * akp - s * akr
                        a[k * n + r] = s * akp + c * akr
                    }
                    for k in 0..<n {  // rows p and r: A ← Jᵀ·A
                        let apk = a[p * n + k], ark = a[r * n + k]
                        a[p * n + k] = c * apk - s * ark
                        a[r * n + k] = s * apk + c * ark
                    }
                    for k in 0..<n {
                        let qkp = q[k * n + p], qkr = q[k * n + r]
                        q[k * n + p] = c * qkp - s * qkr
                        q[k * n + r] = s * qkp + c * qkr
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] }
        values = order.map { a[$0 * n + $0] }
        vectors = order.map { j in (0..<n).map { q[$0 * n + j] } }
    }

    /// Decomposes the symmetric tridiagonal matrix with `diagonal` (length m) and
    /// `offDiagonal` (length m − 1), as Lanczos produces.
    public init(tridiagonal diagonal: [Double], offDiagonal: [Double]) {
        let m = diagonal.count
        precondition(offDiagonal.count == Swift.max(m - 1, 0),
                     "Fathom.SymmetricEigen: a tridiagonal matrix with \(m) diagonal entries needs \(Swift.max(m - 1, 0)) off-diagonal entries, got \(offDiagonal.count)")
        var a = [Double](repeating: 0, count: m * m)
        for i in 0..<m { a[i * m + i] = diagonal[i] }
        for i in 0..<offDiagonal.count {
            a[i * m + i + 1] = offDiagonal[i]
            a[(i + 1) * m + i] = offDiagonal[i]
        }
        self.init(a, n: m)
    }
}
