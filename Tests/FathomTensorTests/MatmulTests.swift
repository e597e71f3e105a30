import XCTest
@testable import FathomTensor

final class MatmulTests: XCTestCase {
    func testAgainstNumPy() throws {
        let cases = try loadFixtures("matmul")
        XCTAssertEqual(cases.count, 16)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            var inputs = c.inputs.map(\.tensor)
            if name.hasSuffix("_T") {
                // Same values, but as transposed views of contiguous matrices.
                inputs = inputs.map { $0.rank == 2 ? $0.T.contiguous().T : $0 }
                if name.contains("lhs") || name.contains("both") { XCTAssertFalse(inputs[0].isContiguous, name) }
                if name.contains("rhs") || name.contains("both") { XCTAssertFalse(inputs[1].isContiguous, name) }
            }
            assertMatches(inputs[0].matmul(inputs[1]), c.output, rtol: 1e-12, atol: 1e-12, name)
            assertMatches(matmul(inputs[0].to(.float32), inputs[1].to(.float32)), c.output,
                          rtol: 1e-5, atol: 1e-5, name + " (float32)")
        }
    }

    func testStridedOperandsAreCopied() {
        // Every other column: no BLAS layout, so matmul must copy.
        let a = sample([3, 8]).slicedEveryOtherColumn()
        let b = sample([4, 2], offset: 0.5)
        let expected = a.contiguous().matmul(b)
        XCTAssertEqual(a.matmul(b).doubles, expected.doubles)
        // Broadcast (stride-0) operand.
        let row = sample([1, 4]).expanded(to: [3, 4])
        XCTAssertEqual(row.matmul(b).doubles, row.contiguous().matmul(b).doubles)
    }

    func testGradients() {
        checkGradients([sample([3, 4]), sample([4, 2], offset: 0.3)]) { $0[0].matmul($0[1]) }
        checkGradients([sample([5]), sample([5], offset: 0.1)]) { $0[0].matmul($0[1]) }
        checkGradients([sample([4]), sample([4, 3])]) { $0[0].matmul($0[1]) }
        checkGradients([sample([3, 4]), sample([4])]) { $0[0].matmul($0[1]) }
        checkGradients([sample([2, 3, 4]), sample([2, 4, 2])]) { $0[0].matmul($0[1]) }
        checkGradients([sample([2, 3, 4]), sample([4, 2])]) { $0[0].matmul($0[1]) }
        checkGradients([sample([2, 1, 3, 4]), sample([3, 4, 2])]) { $0[0].matmul($0[1]) }
        checkGradients([sample([4, 3]), sample([2, 4])]) { $0[0].T.matmul($0[1].T) }
    }

    func testSecondOrder() {
        checkSecondOrder([sample([3, 4]), sample([4, 2], offset: 0.3)]) { ($0[0].matmul($0[1]) * $0[0].matmul($0[1])) }
        checkSecondOrder([sample([2, 3, 4]), sample([4, 2])]) { xs in
            let y = xs[0].matmul(xs[1])
            return y * y * y
        }
    }

    func testShapeErrors() {
        func message(_ a: [Int], _ b: [Int]) -> String {
            do {
                _ = try matmulResultShape(a, b)
                return ""
            } catch {
                return error.description
            }
        }
        let inner = message([2, 3], [4, 5])
        XCTAssertTrue(inner.hasPrefix("Fathom.matmul:"), inner)
        XCTAssertTrue(inner.contains("[2, 3]") && inner.contains("[4, 5]"), inner)
        XCTAssertTrue(inner.contains("3 columns on the left, 4 rows on the right"), inner)
        XCTAssertTrue(message([3], [4]).contains("different lengths"))
        let batch = message([2, 3, 4], [3, 4, 5])
        XCTAssertTrue(batch.contains("batch axes [2] and [3]"), batch)
        XCTAssertTrue(message([], [3]).contains("at least one axis"))
        XCTAssertEqual(message([2, 3, 4], [4, 5]), "")
        XCTAssertThrowsError(try Tensor([1, 2] as [Int64]).matmul(validating: Tensor([1, 2] as [Int64]))) { error in
            XCTAssertTrue("\(error)".contains("float32 or float64"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor([1, 2] as [Float]).matmul(validating: Tensor([1, 2] as [Double]))) { error in
            XCTAssertTrue("\(error)".contains("float32 and float64"), "\(error)")
        }
    }

    func testLargeFloat32AgainstDouble() {
        // Big enough for OpenBLAS's multithreaded path and the folded-batch path.
        let a = sample([3, 70, 130]), b = sample([130, 90], offset: 0.2)
        let exact = a.matmul(b)
        let single = a.to(.float32).matmul(b.to(.float32)).to(.float64)
        let error = ((single - exact) * (single - exact)).sum().item()
        XCTAssertLessThan(error / Double(exact.count), 1e-8)
    }

    func testBitwiseSameForAnyThreadCount() {
        // OpenBLAS splits M and N between threads; `gemm` cuts K into slices OpenBLAS never
        // splits, so each element sums in the same order. K = 1000 differed before that.
        for (m, k, n) in [(300, 257, 310), (160, 1000, 172), (64, 2000, 300)] {
            let a = sample([m, k]).to(.float32), b = sample([k, n], offset: 0.1).to(.float32)
            let saved = ThreadPool.shared.threadCount
            defer { ThreadPool.shared.threadCount = saved }
            ThreadPool.shared.threadCount = 1
            let one = a.matmul(b).scalars(as: Float.self)
            ThreadPool.shared.threadCount = 2
            XCTAssertEqual(a.matmul(b).scalars(as: Float.self), one, "[\(m), \(k)]·[\(k), \(n)]")
        }
        let a = sample([300, 257]).to(.float32), b = sample([257, 310], offset: 0.1).to(.float32)
        let saved = ThreadPool.shared.threadCount
        defer { ThreadPool.shared.threadCount = saved }
        ThreadPool.shared.threadCount = 1
        let one = a.matmul(b).scalars(as: Float.self), oneT = a.T.contiguous().T.matmul(b).scalars(as: Float.self)
        ThreadPool.shared.threadCount = 2
        XCTAssertEqual(a.matmul(b).scalars(as: Float.self), one)
        XCTAssertEqual(a.T.contiguous().T.matmul(b).scalars(as: Float.self), oneT)
        ThreadPool.shared.threadCount = 3
        XCTAssertEqual(a.matmul(b).scalars(as: Float.self), one)
    }

    func testBLASCoreSelected() {
        let core = BLAS.coreName
        XCTAssertFalse(core.isEmpty)
        let flags = BLAS.cpuFlags()
        if ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(flags.contains), getenv("OPENBLAS_CORETYPE") == nil || BLAS.didOverrideCore {
            XCTAssertTrue(["SkylakeX", "Cooperlake", "SapphireRapids"].contains(core), core)
        }
        XCTAssertEqual(BLAS.preferredCore(detected: "SkylakeX"), nil)
        if flags.contains("avx512f") && flags.contains("avx512vl") {
            XCTAssertEqual(BLAS.preferredCore(detected: "Prescott"), "SkylakeX")
            XCTAssertEqual(BLAS.preferredCore(detected: "Zen"), "SkylakeX")
        } else if flags.contains("avx2") && flags.contains("fma") {
            XCTAssertEqual(BLAS.preferredCore(detected: "Prescott"), "Haswell")
        }
        // The re-selection path itself (what start-up runs on a mis-detected CPU).
        let saved = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        BLAS.reselectCore("Haswell")
        XCTAssertEqual(BLAS.coreName, "Haswell")
        let a = sample([40, 30]).to(.float32), b = sample([30, 20]).to(.float32)
        let haswell = a.matmul(b).doubles
        BLAS.reselectCore(core)
        XCTAssertEqual(BLAS.coreName, core)
        if let saved { setenv("OPENBLAS_CORETYPE", saved, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        let reference = a.to(.float64).matmul(b.to(.float64)).doubles
        XCTAssertTrue(zip(haswell, reference).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}

private extension Tensor {
    /// Columns 0, 2, 4, … as a strided view.
    func slicedEveryOtherColumn() -> Tensor {
        view(shape: [shape[0], (shape[1] + 1) / 2], strides: [strides[0], strides[1] * 2], offset: offset)
    }
}

final class LinearMapTests: XCTestCase {
    func testMatchesMatmulPlusBiasAndGradients() {
        let x = sample([2, 3, 4]), w = sample([5, 4], offset: 0.2), b = sample([5], offset: -0.1)
        let reference = x.matmul(w.transposed()) + b
        XCTAssertLessThan(linear(x, weight: w, bias: b).maxAbsDifference(reference), 1e-12)
        XCTAssertLessThan(linear(x, weight: w).maxAbsDifference(x.matmul(w.transposed())), 1e-12)
        XCTAssertEqual(linear(x.to(.float32), weight: w.to(.float32), bias: b.to(.float32)).dtype, .float32)
        checkGradients([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([sample([3, 4]), w]) { linear($0[0], weight: $0[1]) }
        checkSecondOrder([sample([3, 4]), w, b]) { linear($0[0], weight: $0[1], bias: $0[2]).tanh() }
    }

    func testWeightGradientIsContiguousAndErrorsNameShapes() {
        let w = sample([5, 4]).requiringGrad()
        linear(sample([3, 4]), weight: w).sum().backward()
        XCTAssertTrue(w.grad!.isContiguous)
        XCTAssertThrowsError(try linear(validating: sample([3, 6]), weight: w)) { error in
            XCTAssertEqual("\(error)", "Fathom.linear: input of shape [3, 6] does not end in 4 features, as weight [5, 4] needs")
        }
    }
}
