import Foundation

/// The eigen-decomposition A = Q·Λ·Qᵀ of a dense real symmetric matrix, in float64.
///
/// Two algorithms:
/// - cyclic Jacobi (rotations until every off-diagonal entry is below 1e-15 relative to the
///   matrix norm): accurate to working precision on every eigenvalue, small ones included,
///   but O(n³) per sweep with many sweeps; used for n ≤ `jacobiLimit`.
/// - Householder reduction to tridiagonal form followed by the implicit-shift QL algorithm
///   (EISPACK's tred2/tql2 pair, as in JAMA): about 4n³/3 flops for the values, 9n³ with
///   vectors, and backward stable (errors of order ε·‖A‖); used above `jacobiLimit`.
///   A 512×512 Gram matrix takes well under a second.
///
/// Only the upper triangle is read by the QL path (the strictly lower triangle is assumed
/// to mirror it). Eigenvectors have an arbitrary sign.
public struct SymmetricEigen {
    /// Which algorithm decomposes the matrix.
    public enum Algorithm: Sendable {
        /// Jacobi up to `jacobiLimit` rows, Householder + QL above.
        case automatic
        /// Cyclic Jacobi at every size (slow above a few dozen rows).
        case jacobi
        /// Householder tridiagonalization + implicit QL at every size.
        case householderQL
    }

    /// The largest size `.automatic` decomposes with Jacobi.
    public static let jacobiLimit = 32

    /// Eigenvalues in ascending order.
    public let values: [Double]
    /// `vectors[i]` is the unit eigenvector of `values[i]`; empty when the decomposition was
    /// made with `vectors: false`.
    public let vectors: [[Double]]

    /// Decomposes the `n`×`n` symmetric matrix stored row-major in `matrix`; only
    /// symmetric input is meaningful. With `vectors: false` only the eigenvalues are
    /// computed (several times faster) and `vectors` is empty.
    public init(_ matrix: [Double], n: Int, vectors wantVectors: Bool = true, algorithm: Algorithm = .automatic) {
        precondition(n >= 0 && matrix.count == n * n,
                     "Fathom.SymmetricEigen: \(matrix.count) entries do not form a \(n)×\(n) matrix")
        let useJacobi = algorithm == .jacobi || (algorithm == .automatic && n <= Self.jacobiLimit)
        var a = matrix
        var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: n)
        if useJacobi {
            (values, vectors) = Self.jacobi(&a, n: n, wantVectors: wantVectors)
            return
        }
        a.withUnsafeMutableBufferPointer { w in
            d.withUnsafeMutableBufferPointer { d in
                e.withUnsafeMutableBufferPointer { e in
                    guard n > 0 else { return }
                    householderTridiagonalize(w.baseAddress!, n, d.baseAddress!, e.baseAddress!, vectors: wantVectors)
                    // tred2 leaves e[i] = T[i][i-1]; QL wants e[i] = T[i][i+1].
                    for i in 1..<n { e[i - 1] = e[i] }
                    e[n - 1] = 0
                    implicitQL(d.baseAddress!, e.baseAddress!, n, vectors: wantVectors ? w.baseAddress! : nil)
                }
            }
        }
        (values, vectors) = Self.sorted(d, rows: wantVectors ? a : nil, n: n)
    }

    /// Decomposes the symmetric tridiagonal matrix with `diagonal` (length m) and
    /// `offDiagonal` (length m − 1), as Lanczos produces. `vectors` and `algorithm` are as
    /// for the dense initializer (the QL path works on the tridiagonal matrix directly).
    public init(tridiagonal diagonal: [Double], offDiagonal: [Double], vectors wantVectors: Bool = true,
                algorithm: Algorithm = .automatic) {
        let m = diagonal.count
        precondition(offDiagonal.count == Swift.max(m - 1, 0),
                     "Fathom.SymmetricEigen: a tridiagonal matrix with \(m) diagonal entries needs \(Swift.max(m - 1, 0)) off-diagonal entries, got \(offDiagonal.count)")
        if algorithm == .jacobi || (algorithm == .automatic && m <= Self.jacobiLimit) {
            var a = [Double](repeating: 0, count: m * m)
            for i in 0..<m { a[i * m + i] = diagonal[i] }
            for i in 0..<offDiagonal.count {
                a[i * m + i + 1] = offDiagonal[i]
                a[(i + 1) * m + i] = offDiagonal[i]
            }
            self.init(a, n: m, vectors: wantVectors, algorithm: .jacobi)
            return
        }
        var d = diagonal, e = offDiagonal + [0]
        var q = [Double](repeating: 0, count: wantVectors ? m * m : 0)
        for i in 0..<(wantVectors ? m : 0) { q[i * m + i] = 1 }
        d.withUnsafeMutableBufferPointer { d in
            e.withUnsafeMutableBufferPointer { e in
                q.withUnsafeMutableBufferPointer { q in
                    implicitQL(d.baseAddress!, e.baseAddress!, m, vectors: wantVectors ? q.baseAddress! : nil)
                }
            }
        }
        let (values, vectors) = Self.sorted(d, rows: wantVectors ? q : nil, n: m)
        self.init(values: values, vectors: vectors)
    }

    private init(values: [Double], vectors: [[Double]]) {
        self.values = values
        self.vectors = vectors
    }

    /// Values in ascending order with their eigenvectors (row j of `rows` belongs to d[j]).
    private static func sorted(_ d: [Double], rows: [Double]?, n: Int) -> ([Double], [[Double]]) {
        let order = (0..<n).sorted { d[$0] < d[$1] || (d[$0] == d[$1] && $0 < $1) }
        let vectors = rows.map { q in order.map { j in Array(q[(j * n)..<(j * n + n)]) } } ?? []
        return (order.map { d[$0] }, vectors)
    }

    /// Cyclic Jacobi on `a` (overwritten); Golub & Van Loan, Algorithm 8.5.1.
    private static func jacobi(_ a: inout [Double], n: Int, wantVectors: Bool) -> ([Double], [[Double]]) {
        // q holds the accumulated rotations, row-major; column j is eigenvector j.
        var q = [Double](repeating: 0, count: wantVectors ? n * n : 0)
        for i in 0..<(wantVectors ? n : 0) { q[i * n + i] = 1 }
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
                    if !wantVectors { continue }
                    for k in 0..<n {
                        let qkp = q[k * n + p], qkr = q[k * n + r]
                        q[k * n + p] = c * qkp - s * qkr
                        q[k * n + r] = s * qkp + c * qkr
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] }
        return (order.map { a[$0 * n + $0] }, wantVectors ? order.map { j in (0..<n).map { q[$0 * n + j] } } : [])
    }
}

// MARK: Householder tridiagonalization and implicit QL (EISPACK tred2 / tql2)
//
// Both work on W, the transpose of the V of the JAMA/EISPACK formulation, so that every
// O(n) inner loop runs along a row of the row-major buffer (contiguous, vectorizable):
// JAMA's V[k][j] is w[j * n + k] here, and on return row j of W is eigenvector j.

/// Σ a[k]·b[k] with four partial sums (fixed order, so deterministic) that the compiler
/// can keep in vector registers.
@inline(__always)
private func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ count: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var k = 0
    while k + 4 <= count {
        s0 += a[k] * b[k]; s1 += a[k + 1] * b[k + 1]
        s2 += a[k + 2] * b[k + 2]; s3 += a[k + 3] * b[k + 3]
        k += 4
    }
    while k < count { s0 += a[k] * b[k]; k += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// Reduces the symmetric n×n matrix in `w` (upper triangle read, buffer overwritten) to
/// tridiagonal form T = Qᵀ·A·Q by Householder reflections. On return `d` is T's diagonal
/// and `e[i]` = T[i][i−1] for i ≥ 1 (e[0] = 0); with `vectors`, row j of `w` is column j of Q.
private func householderTridiagonalize(_ w: UnsafeMutablePointer<Double>, _ n: Int,
                                       _ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>,
                                       vectors: Bool) {
    for j in 0..<n { d[j] = w[j * n + n - 1] }
    var i = n - 1
    while i > 0 {
        // Scale the row to avoid under/overflow.
        var scale = 0.0, h = 0.0
        for k in 0..<i { scale += Swift.abs(d[k]) }
        if scale == 0 {
            e[i] = d[i - 1]
            for j in 0..<i {
                d[j] = w[j * n + i - 1]
                w[j * n + i] = 0
                w[i * n + j] = 0
            }
        } else {
            // The Householder vector u (in d[0..<i]), h = |u|²/2.
            for k in 0..<i { d[k] /= scale; h += d[k] * d[k] }
            var f = d[i - 1]
            var g = h.squareRoot()
            if f > 0 { g = -g }
            e[i] = scale * g
            h -= f * g
            d[i - 1] = f - g
            for j in 0..<i { e[j] = 0 }
            // p = A·u over the leading i×i block, from its upper triangle (row j holds A[j][j...]).
            for j in 0..<i {
                f = d[j]
                w[i * n + j] = f  // keep u for the accumulation of Q
                let row = w + j * n
                let tail = i - j - 1
                g = e[j] + row[j] * f + dot(row + j + 1, d + j + 1, tail)
                let ej = e + j + 1, rj = row + j + 1
                for k in 0..<tail { ej[k] += rj[k] * f }
                e[j] = g
            }
            // q = p/h − (uᵀp / 2h²)·u, then the rank-2 update A ← A − u·qᵀ − q·uᵀ.
            f = 0
            for j in 0..<i { e[j] /= h; f += e[j] * d[j] }
            let hh = f / (h + h)
            for j in 0..<i { e[j] -= hh * d[j] }
            for j in 0..<i {
                f = d[j]; g = e[j]
                let row = w + j * n
                for k in j..<i { row[k] -= f * e[k] + g * d[k] }
                d[j] = row[i - 1]
                row[i] = 0
            }
        }
        d[i] = h
        i -= 1
    }
    guard vectors else {
        // The diagonal of T stayed in place on the diagonal of w.
        for j in 0..<n { d[j] = w[j * n + j] }
        e[0] = 0
        return
    }
    // Accumulate the reflections into Q, smallest block first.
    for i in 0..<(n - 1) {
        w[i * n + n - 1] = w[i * n + i]  // park T's diagonal entry in the last column
        w[i * n + i] = 1
        let h = d[i + 1]
        let u = w + (i + 1) * n
        if h != 0 {
            for k in 0...i { d[k] = u[k] / h }
            for j in 0...i {
                let row = w + j * n
                let g = dot(u, row, i + 1)
                for k in 0...i { row[k] -= g * d[k] }
            }
        }
        for k in 0...i { u[k] = 0 }
    }
    for j in 0..<n {
        d[j] = w[j * n + n - 1]
        w[j * n + n - 1] = 0
    }
    w[n * n - 1] = 1
    e[0] = 0
}

/// Diagonalizes the symmetric tridiagonal matrix with diagonal `d` and off-diagonal
/// `e[i]` = T[i][i+1] (e[n−1] = 0, overwritten) by the QL algorithm with implicit Wilkinson
/// shifts. `d` receives the eigenvalues (unsorted); with `vectors`, its rows are rotated
/// along, so rows that start as Qᵀ end as the eigenvectors of the original matrix.
private func implicitQL(_ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>, _ n: Int,
                        vectors w: UnsafeMutablePointer<Double>?) {
    guard n > 1 else { return }
    e[n - 1] = 0
    var f = 0.0, tst1 = 0.0
    let eps = Double.ulpOfOne
    for l in 0..<n {
        // Find a negligible off-diagonal element; the block l...m splits off.
        tst1 = Swift.max(tst1, Swift.abs(d[l]) + Swift.abs(e[l]))
        var m = l
        while m < n - 1 && !(Swift.abs(e[m]) <= eps * tst1) { m += 1 }
        if m > l {
            var iterations = 0
            repeat {
                iterations += 1
                // The implicit shift from the leading 2×2 block.
                var g = d[l]
                var p = (d[l + 1] - g) / (2 * e[l])
                var r = hypot(p, 1)
                if p < 0 { r = -r }
                d[l] = e[l] / (p + r)
                d[l + 1] = e[l] * (p + r)
                let dl1 = d[l + 1]
                var h = g - d[l]
                if l + 2 < n { for i in (l + 2)..<n { d[i] -= h } }
                f += h
                // The QL sweep: Givens rotations from m − 1 down to l.
                p = d[m]
                var c = 1.0, c2 = 1.0, c3 = 1.0
                let el1 = e[l + 1]
                var s = 0.0, s2 = 0.0
                var i = m - 1
                while i >= l {
                    c3 = c2; c2 = c; s2 = s
                    g = c * e[i]
                    h = c * p
                    r = hypot(p, e[i])
                    e[i + 1] = s * r
                    s = e[i] / r
                    c = p / r
                    p = c * d[i] - s * g
                    d[i + 1] = h + s * (c * g + s * d[i])
                    if let w {
                        let a = w + i * n, b = w + (i + 1) * n
                        for k in 0..<n {
                            let bk = b[k], ak = a[k]
                            b[k] = s * ak + c * bk
                            a[k] = c * ak - s * bk
                        }
                    }
                    i -= 1
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1
                e[l] = s * p
                d[l] = c * p
            } while Swift.abs(e[l]) > eps * tst1 && iterations < 100
        }
        d[l] += f
        e[l] = 0
    }
}
