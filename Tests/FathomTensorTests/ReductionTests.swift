import XCTest
@testable import FathomTensor

/// Runs fixture `name` of `cases` in float64 (tight) and float32 (loose).
func runFixture(_ cases: [String: FixtureCase], _ name: String, float32: Bool = true,
                rtol32: Double = 1e-5, file: StaticString = #filePath, line: UInt = #line,
                _ op: ([Tensor]) -> Tensor) {
    guard let c = cases[name] else { return XCTFail("no fixture \(name)", file: file, line: line) }
    // FixtureTensor.tensor cannot build bool tensors (Tensor.init(_:shape:dtype:) refuses bool).
    let inputs = c.inputs.map { $0.dtype == "bool" ? Tensor($0.data.map { $0 != 0 }, shape: $0.shape) : $0.tensor }
    assertMatches(op(inputs), c.output, rtol: 1e-10, atol: 1e-12, name, file: file, line: line)
    if float32 {
        let narrowed = inputs.map { $0.dtype == .float64 ? $0.to(.float32) : $0 }
        assertMatches(op(narrowed), c.output, rtol: rtol32, atol: rtol32, name + " (float32)", file: file, line: line)
    }
}

final class ReductionTests: XCTestCase {
    /// a.permuted([2, 0, 1]) and a[:, 1:4, ::2], the non-contiguous views the fixtures use.
    func perm(_ x: Tensor) -> Tensor { x.permuted([2, 0, 1]) }
    func sliced(_ x: Tensor) -> Tensor { x[.all, 1..<4, .stride(0, nil, by: 2)] }

    func testReductionsAgainstNumPy() throws {
        let c = try loadFixtures("reduction")
        runFixture(c, "sum_axes_0_2_keep") { $0[0].sum(axes: [0, 2], keepDims: true) }
        runFixture(c, "sum_perm_axes_0_1") { self.perm($0[0]).sum(axes: [0, 1]) }
        runFixture(c, "sum_sliced_axis_1") { self.sliced($0[0]).sum(axis: 1) }
        runFixture(c, "sum_wide_axis_1") { $0[0].sum(axis: -1) }
        runFixture(c, "sum_tall_axis_0") { $0[0].sum(axis: 0) }
        runFixture(c, "mean_perm_all") { self.perm($0[0]).mean() }
        runFixture(c, "max_axes_1_2") { $0[0].max(axes: [1, 2]) }
        runFixture(c, "max_perm_axis_2_keep") { self.perm($0[0]).max(axis: 2, keepDims: true) }
        runFixture(c, "min_sliced_axis_0") { self.sliced($0[0]).min(axis: 0) }
        runFixture(c, "max_tall_axis_0") { $0[0].max(axis: 0) }
        runFixture(c, "min_all") { $0[0].min() }
        runFixture(c, "argmax_axis_1") { $0[0].argmax(axis: 1) }
        runFixture(c, "argmin_perm_axis_0") { self.perm($0[0]).argmin(axis: 0) }
        runFixture(c, "argmax_flat") { $0[0].argmax() }
        runFixture(c, "argmax_ties_axis_1") { $0[0].argmax(axis: 1) }
        runFixture(c, "argmin_ties_axis_1") { $0[0].argmin(axis: -1) }
        runFixture(c, "argmax_ties_axis_0_keep") { $0[0].argmax(axis: 0, keepDims: true) }
        runFixture(c, "var_axes_0_2") { $0[0].variance(axes: [0, 2]) }
        runFixture(c, "var_all_pop") { $0[0].variance(correction: 0) }
        runFixture(c, "var_sliced_axis_2_keep") { self.sliced($0[0]).variance(axis: 2, keepDims: true) }
        runFixture(c, "std_axis_1") { $0[0].std(axis: 1) }
        runFixture(c, "std_perm_axes_1_2_pop") { self.perm($0[0]).std(axes: [1, 2], correction: 0) }
        runFixture(c, "logsumexp_axis_2") { $0[0].logsumexp(axis: 2) }
        runFixture(c, "logsumexp_axes_0_1_keep") { $0[0].logsumexp(axes: [0, 1], keepDims: true) }
        runFixture(c, "logsumexp_all_wide") { ($0[0] * 100).logsumexp() }
        runFixture(c, "logsumexp_inf_axis_1") { $0[0].logsumexp(axis: 1) }
        runFixture(c, "norm2_all") { $0[0].norm() }
        runFixture(c, "norm2_axes_1_2") { $0[0].norm(axes: [1, 2]) }
        runFixture(c, "norm1_axis_0_keep") { $0[0].norm(p: 1, axis: 0, keepDims: true) }
        runFixture(c, "norminf_axis_1") { $0[0].norm(p: .infinity, axis: 1) }
        runFixture(c, "normneginf_axis_1") { $0[0].norm(p: -.infinity, axis: 1) }
        runFixture(c, "norm0_ties") { x in x[0].maskedFill(mask: equalityMask(x[0], Tensor.scalar(5, dtype: x[0].dtype)).to(.bool), value: 0).norm(p: 0) }
        runFixture(c, "norm3_perm_axis_0") { self.perm($0[0]).norm(p: 3, axis: 0) }
        runFixture(c, "norm0p5_axis_2") { $0[0].norm(p: 0.5, axis: 2) }
        runFixture(c, "cumsum_axis_0") { $0[0].cumsum(axis: 0) }
        runFixture(c, "cumsum_axis_2") { $0[0].cumsum(axis: -1) }
        runFixture(c, "cumsum_perm_axis_1") { self.perm($0[0]).cumsum(axis: 1) }
    }

    func testIntegerAndBoolReductions() {
        let i = Tensor([3, -1, 7, 2, 7, 0] as [Int64], shape: [2, 3])
        XCTAssertEqual(i.sum(axis: 1).scalars(as: Int64.self), [9, 9])
        XCTAssertEqual(i.max(axis: 0).scalars(as: Int64.self), [3, 7, 7])
        XCTAssertEqual(i.min().scalars(as: Int64.self), [-1])
        XCTAssertEqual(i.argmax(axis: 1).scalars(as: Int64.self), [2, 1])
        XCTAssertEqual(i.argmax().item(as: Int64.self), 2)
        XCTAssertEqual(i.argmax(keepDims: true).shape, [1, 1])
        XCTAssertEqual(i.mean(axis: 0).dtype, .float32)
        let b = Tensor([true, false, true, true])
        XCTAssertEqual(b.sum().item(as: Int64.self), 3)
        XCTAssertEqual(b.cumsum(axis: 0).scalars(as: Int64.self), [1, 1, 2, 3])
        XCTAssertEqual(i.cumsum(axis: 1).scalars(as: Int64.self), [3, 2, 9, 2, 9, 9])
    }

    func testNaNPropagationAndPositions() {
        let x = Tensor([1, .nan, 3, -2, 5, .nan] as [Double], shape: [2, 3])
        XCTAssertTrue(x.max(axis: 1).doubles[0].isNaN)
        XCTAssertTrue(x.min(axis: 1).doubles[1].isNaN)
        XCTAssertEqual(x.argmax(axis: 1).scalars(as: Int64.self), [1, 2])   // first NaN, as NumPy
        XCTAssertEqual(x.argmin(axis: 1).scalars(as: Int64.self), [1, 2])
        XCTAssertEqual(Tensor([2.0, 2.0, 1.0]).argmax().item(as: Int64.self), 0)
    }

    func testEmptyAndDegenerateShapes() {
        XCTAssertEqual(Tensor.zeros([0, 3]).sum(axis: 0).doubles, [0, 0, 0])
        XCTAssertEqual(Tensor.zeros([0, 3]).sum(axis: 1).shape, [0])
        XCTAssertEqual(Tensor.scalar(4, dtype: .float64).sum().item(), 4)
        XCTAssertEqual(Tensor.scalar(4, dtype: .float64).sum(axis: 0).item(), 4)
        XCTAssertEqual(Tensor.ones([2, 1, 3]).sum(axes: [1]).shape, [2, 3])
        XCTAssertTrue(Tensor([1.0]).variance().item().isNaN)          // n - correction = 0
        XCTAssertEqual(Tensor([1.0, 3.0]).variance(correction: 0).item(), 1)
        XCTAssertEqual(Tensor.zeros([3, 4], dtype: .float64).logsumexp(axes: []).shape, [3, 4])
        // A broadcast (stride 0) input is reduced like its materialized copy.
        let e = Tensor([1.0, 2.0, 3.0]).reshaped([3, 1]).expanded(to: [3, 5])
        XCTAssertEqual(e.sum(axis: 1).doubles, [5, 10, 15])
        XCTAssertEqual(e.sum(axis: 0).doubles, [6, 6, 6, 6, 6])
    }

    /// Every strategy of the reduction driver (rows, columns, several blocks) agrees with a
    /// float64 reference, including shapes that cross block boundaries.
    func testLargeReductionsAcrossBlocks() {
        let rows = 3, n = reductionBlock * 2 + 77
        let values = (0..<(rows * n)).map { Float(sin(Double($0) * 0.37)) }
        let x = Tensor(values, shape: [rows, n])
        let reference = (0..<rows).map { r in (0..<n).reduce(0.0) { $0 + Double(values[r * n + $1]) } }
        for (got, want) in zip(x.sum(axis: 1).doubles, reference) { XCTAssertEqual(got, want, accuracy: 1e-2) }
        let t = x.T.contiguous()                                          // [n, rows]: column strategy
        for (got, want) in zip(t.sum(axis: 0).doubles, reference) { XCTAssertEqual(got, want, accuracy: 1e-2) }
        for (got, want) in zip(x.T.sum(axis: 0).doubles, reference) { XCTAssertEqual(got, want, accuracy: 1e-2) }
        XCTAssertEqual(x.sum().item(), reference.reduce(0, +), accuracy: 5e-2)
        let tallRows = columnReductionBlock * 3 + 5
        let bigValues: [Double] = (0..<(tallRows * 300)).map { (i: Int) -> Double in Double(i % 17) - 8 }
        let big = Tensor(bigValues, shape: [tallRows, 300])
        let colSums = big.sum(axis: 0).doubles
        var expected = [Double](repeating: 0, count: 300)
        for r in 0..<tallRows { for j in 0..<300 { expected[j] += bigValues[r * 300 + j] } }
        XCTAssertEqual(colSums, expected)
        XCTAssertEqual(big.max(axis: 0).doubles, [Double](repeating: 8, count: 300))
    }

    /// The fused single-axis logsumexp (rows and columns) agrees with the general path.
    func testFusedLogSumExpMatchesGeneralPath() {
        var values = (0..<(5 * 300)).map { sin(Double($0) * 0.7) * 30 }
        for r in 0..<5 { values[r * 300 + 7] = -.infinity }                 // column 7 is all -inf
        values[2 * 300 + 9] = .infinity
        let x = Tensor(values, shape: [5, 300])
        for axis in [0, 1] {
            let fused = x.logsumexp(axis: axis).doubles
            let general = x.unsqueezed(axis: 2).logsumexp(axes: [axis, 2]).doubles
            XCTAssertEqual(fused.count, general.count)
            for (a, b) in zip(fused, general) {
                if a.isInfinite || b.isInfinite { XCTAssertEqual(a, b) } else { XCTAssertEqual(a, b, accuracy: 1e-12 * Swift.max(1, Swift.abs(b))) }
            }
        }
        XCTAssertEqual(x.logsumexp(axis: 0).doubles[7], -.infinity)
        XCTAssertEqual(x.logsumexp(axis: 0).doubles[9], .infinity)
    }

    func testReductionGradients() {
        checkGradients([sample([2, 3, 4])]) { $0[0].sum(axes: [0, 2]) }
        checkGradients([sample([2, 3, 4])]) { $0[0].permuted([1, 2, 0]).mean(axes: [0, 2], keepDims: true) }
        checkGradients([sample([3, 4, 2])]) { $0[0].max(axes: [0, 2]) }
        checkGradients([sample([3, 4])]) { $0[0].min(axis: 1, keepDims: true) }
        checkGradients([sample([3, 4, 2])]) { $0[0].variance(axes: [0, 2]) }
        checkGradients([sample([3, 4])]) { $0[0][.all, 1...].variance(axis: 0, correction: 0) }
        checkGradients([sample([3, 4, 2])]) { $0[0].std(axes: [1, 2], keepDims: true) }
        checkGradients([sample([3, 4, 2])]) { $0[0].logsumexp(axes: [0, 2]) }
        checkGradients([sample([3, 4])]) { $0[0].logsumexp(axis: -1, keepDims: true) }
        checkGradients([sample([3, 4, 2])]) { $0[0].norm(axes: [1, 2]) }
        checkGradients([sample([3, 4])]) { $0[0].norm(p: 1, axis: 0) }
        checkGradients([sample([3, 4])]) { $0[0].norm(p: 3, axes: [0, 1]) }
        checkGradients([sample([3, 4], offset: 0.2)]) { $0[0].norm(p: 0.7, axis: 1) }
        checkGradients([sample([3, 4])]) { $0[0].norm(p: .infinity, axis: 1) }
        checkGradients([sample([3, 4])]) { $0[0].norm(p: -.infinity, axis: 0) }
        checkGradients([sample([3, 4])]) { $0[0].cumsum(axis: 1) }
        checkGradients([sample([2, 3, 4])]) { $0[0].permuted([2, 0, 1]).cumsum(axis: 0) }
    }

    func testTiesShareTheGradientEvenly() {
        // amax semantics: three positions hold the maximum, each gets a third.
        let x = Tensor([1.0, 4.0, 4.0, 4.0, 2.0]).requiringGrad()
        x.max().backward()
        XCTAssertEqual(x.grad!.doubles, [0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0])
        let y = Tensor([3.0, -3.0, 1.0]).requiringGrad()
        y.norm(p: .infinity).backward()
        XCTAssertEqual(y.grad!.doubles, [0.5, -0.5, 0])
    }

    func testNormGradientAtZeroIsZero() {
        for p in [2.0, 3.0, 1.0] {
            let x = Tensor.zeros([2, 3], dtype: .float64).requiringGrad()
            x.norm(p: p, axis: 1).sum().backward()
            XCTAssertEqual(x.grad!.doubles, [0, 0, 0, 0, 0, 0], "p = \(p)")
        }
        // Only one row is zero: the other's gradient is x / ‖x‖.
        let x = Tensor([0, 0, 3, 4] as [Double], shape: [2, 2]).requiringGrad()
        x.norm(axis: 1).sum().backward()
        XCTAssertEqual(x.grad!.doubles, [0, 0, 0.6, 0.8])
    }

    func testSecondOrderReductions() {
        checkSecondOrder([sample([3, 4])]) { ($0[0] * $0[0]).sum(axes: [0, 1]) }
        checkSecondOrder([sample([3, 4])]) { ($0[0] * $0[0]).mean(axis: 0) }
        checkSecondOrder([sample([3, 4, 2])]) { $0[0].variance(axes: [0, 2]) }
        checkSecondOrder([sample([3, 4])]) { $0[0].std(axis: 1) }
        checkSecondOrder([sample([3, 4, 2])]) { $0[0].logsumexp(axes: [1, 2]) }
        checkSecondOrder([sample([3, 4])]) { $0[0].logsumexp(axis: 0) }
        checkSecondOrder([sample([3, 4])]) { $0[0].norm(axis: 1) }
        checkSecondOrder([sample([3, 4], offset: 0.3)]) { $0[0].norm(p: 3, axis: 0) }
        checkSecondOrder([sample([3, 4])]) { ($0[0] * $0[0]).cumsum(axis: 1) }
    }

    func testErrorMessages() {
        XCTAssertThrowsError(try validatedReductionAxes([0, 3], rank: 3, op: "sum")) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.sum: axis 3 is out of range for a tensor of rank 3; use an axis in -3..<3")
        }
        XCTAssertThrowsError(try validatedReductionAxes([1, -2], rank: 3, op: "variance")) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.variance: axes [1, -2] repeat an axis; list each axis once")
        }
        XCTAssertEqual(try validatedReductionAxes([-1, 0], rank: 3, op: "sum"), [0, 2])
        XCTAssertEqual(try validatedReductionAxes(nil, rank: 2, op: "sum"), [0, 1])
    }
}
