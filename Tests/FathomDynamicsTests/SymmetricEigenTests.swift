import XCTest
import FathomTensor
@testable import FathomDynamics

/// The Householder + implicit-QL path of `SymmetricEigen` against its definition and
/// against Jacobi.
final class SymmetricEigenTests: XCTestCase {
    private func randomSymmetric(_ n: Int, seed: UInt64) -> [Double] {
        let g = Tensor.randn([n, n], dtype: .float64, seed: seed).doubles
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = g[i * n + j] + g[j * n + i] } }
        return a
    }

    /// Asserts ascending values, ‖A·v − λ·v‖ ≤ tolerance·‖A‖₂ and VᵀV = I.
    private func checkDecomposition(_ eigen: SymmetricEigen, of a: [Double], n: Int, tolerance: Double = 1e-9,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(eigen.values.count, n, file: file, line: line)
        XCTAssertEqual(eigen.vectors.count, n, file: file, line: line)
        XCTAssertEqual(eigen.values, eigen.values.sorted(), "ascending", file: file, line: line)
        let norm = Swift.max(eigen.values.map(Swift.abs).max() ?? 0, 1e-300)
        var worstResidual = 0.0, worstGram = 0.0
        for (lambda, v) in zip(eigen.values, eigen.vectors) {
            var residual = 0.0
            for i in 0..<n {
                var av = 0.0
                for k in 0..<n { av += a[i * n + k] * v[k] }
                residual += (av - lambda * v[i]) * (av - lambda * v[i])
            }
            worstResidual = Swift.max(worstResidual, residual.squareRoot() / norm)
        }
        for i in 0..<n {
            for j in i..<n {
                let dot = zip(eigen.vectors[i], eigen.vectors[j]).reduce(0.0) { $0 + $1.0 * $1.1 }
                worstGram = Swift.max(worstGram, Swift.abs(dot - (i == j ? 1 : 0)))
            }
        }
        XCTAssertLessThan(worstResidual, tolerance, "A·v = λ·v", file: file, line: line)
        XCTAssertLessThan(worstGram, 1e-12, "orthonormal eigenvectors", file: file, line: line)
    }

    func testRandom200AgainstTheDefinition() {
        let n = 200
        let a = randomSymmetric(n, seed: 21)
        let ql = SymmetricEigen(a, n: n)  // automatic: QL above 32 rows
        checkDecomposition(ql, of: a, n: n)
        // Values only: the same numbers, no vectors.
        let valuesOnly = SymmetricEigen(a, n: n, vectors: false)
        XCTAssertTrue(valuesOnly.vectors.isEmpty)
        XCTAssertEqual(valuesOnly.values, ql.values)
    }

    func testRandomAgreesWithJacobi() {
        // 100 rows: Jacobi at 200 takes several seconds in a debug build.
        let n = 100
        let a = randomSymmetric(n, seed: 22)
        let ql = SymmetricEigen(a, n: n, vectors: false)
        let jacobi = SymmetricEigen(a, n: n, vectors: false, algorithm: .jacobi)
        let norm = ql.values.map(Swift.abs).max()!
        for (q, j) in zip(ql.values, jacobi.values) { XCTAssertEqual(q, j, accuracy: 1e-10 * norm) }
    }

    func testSmallMatricesAgreeWithJacobi() {
        for n in [2, 3, 7, 33] {
            let a = randomSymmetric(n, seed: UInt64(n))
            let ql = SymmetricEigen(a, n: n, algorithm: .householderQL)
            checkDecomposition(ql, of: a, n: n, tolerance: 1e-12)
            let jacobi = SymmetricEigen(a, n: n, algorithm: .jacobi)
            let norm = jacobi.values.map(Swift.abs).max()!
            for (q, j) in zip(ql.values, jacobi.values) { XCTAssertEqual(q, j, accuracy: 1e-12 * norm, "n = \(n)") }
        }
    }

    func testRepeatedEigenvalues() {
        // A = Q·diag(λ)·Qᵀ with λ taking 3 distinct values, Q orthogonal (a random matrix's eigenvectors).
        let n = 60
        let q = SymmetricEigen(randomSymmetric(n, seed: 5), n: n).vectors
        let lambda = (0..<n).map { [-2.0, 1, 3][$0 % 3] }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = (0..<n).reduce(0.0) { $0 + q[$1][i] * lambda[$1] * q[$1][j] } } }
        for i in 0..<n { for j in 0..<i { a[i * n + j] = a[j * n + i] } }  // exactly symmetric
        let eigen = SymmetricEigen(a, n: n)
        checkDecomposition(eigen, of: a, n: n)
        for (got, want) in zip(eigen.values, lambda.sorted()) { XCTAssertEqual(got, want, accuracy: 1e-12) }
    }

    func testDiagonalZeroAndTinyMatrices() {
        let n = 50
        let diagonal = (0..<n).map { Double(($0 * 17) % n) - 20 }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { a[i * n + i] = diagonal[i] }
        let eigen = SymmetricEigen(a, n: n)
        XCTAssertEqual(eigen.values, diagonal.sorted())
        for (value, v) in zip(eigen.values, eigen.vectors) {
            let index = diagonal.firstIndex(of: value)!
            XCTAssertEqual(v.map(Swift.abs), (0..<n).map { $0 == index ? 1 : 0 })
        }

        let zero = SymmetricEigen([Double](repeating: 0, count: 40 * 40), n: 40)
        XCTAssertEqual(zero.values, [Double](repeating: 0, count: 40))
        checkDecomposition(zero, of: [Double](repeating: 0, count: 40 * 40), n: 40)

        for algorithm in [SymmetricEigen.Algorithm.householderQL, .jacobi] {
            let one = SymmetricEigen([-4.5], n: 1, algorithm: algorithm)
            XCTAssertEqual(one.values, [-4.5])
            XCTAssertEqual(one.vectors, [[1]])
            let empty = SymmetricEigen([], n: 0, algorithm: algorithm)
            XCTAssertTrue(empty.values.isEmpty && empty.vectors.isEmpty)
            XCTAssertEqual(SymmetricEigen(tridiagonal: [2], offDiagonal: [], algorithm: algorithm).values, [2])
        }
    }

    func testTridiagonalInput() {
        // The path graph's matrix 2 + adjacency: eigenvalues 2 + 2cos(kπ/(m+1)).
        let m = 100
        let path = SymmetricEigen(tridiagonal: [Double](repeating: 2, count: m), offDiagonal: [Double](repeating: 1, count: m - 1))
        let expected = (1...m).map { 2 + 2 * cos(Double($0) * Double.pi / Double(m + 1)) }.sorted()
        for (got, want) in zip(path.values, expected) { XCTAssertEqual(got, want, accuracy: 1e-13) }

        // Random tridiagonal: QL on T directly matches the dense decomposition and Jacobi.
        let diagonal = Tensor.randn([m], dtype: .float64, seed: 8).doubles
        let off = Tensor.randn([m - 1], dtype: .float64, seed: 9).doubles
        var dense = [Double](repeating: 0, count: m * m)
        for i in 0..<m { dense[i * m + i] = diagonal[i] }
        for i in 0..<(m - 1) { dense[i * m + i + 1] = off[i]; dense[(i + 1) * m + i] = off[i] }
        let tri = SymmetricEigen(tridiagonal: diagonal, offDiagonal: off)
        checkDecomposition(tri, of: dense, n: m, tolerance: 1e-12)
        let valuesOnly = SymmetricEigen(tridiagonal: diagonal, offDiagonal: off, vectors: false)
        XCTAssertEqual(valuesOnly.values, tri.values)
        XCTAssertTrue(valuesOnly.vectors.isEmpty)
        let jacobi = SymmetricEigen(tridiagonal: diagonal, offDiagonal: off, vectors: false, algorithm: .jacobi)
        let norm = tri.values.map(Swift.abs).max()!
        for (q, j) in zip(tri.values, jacobi.values) { XCTAssertEqual(q, j, accuracy: 1e-12 * norm) }
        let viaDense = SymmetricEigen(dense, n: m, vectors: false)
        for (q, j) in zip(tri.values, viaDense.values) { XCTAssertEqual(q, j, accuracy: 1e-12 * norm) }
    }
}
