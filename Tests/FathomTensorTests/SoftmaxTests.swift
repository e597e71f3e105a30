import XCTest
@testable import FathomTensor

final class SoftmaxTests: XCTestCase {
    func testAgainstNumPy() throws {
        let c = try loadFixtures("reduction")
        runFixture(c, "softmax_last") { $0[0].softmax() }
        runFixture(c, "softmax_axis_1") { $0[0].softmax(axis: 1) }
        runFixture(c, "softmax_perm_axis_0") { $0[0].permuted([2, 0, 1]).softmax(axis: 0) }
        runFixture(c, "softmax_wide") { ($0[0] * 10).softmax(axis: 1) }
        runFixture(c, "logsoftmax_last") { $0[0].logSoftmax(axis: -1) }
        runFixture(c, "logsoftmax_axis_0") { $0[0].logSoftmax(axis: 0) }
        runFixture(c, "logsoftmax_sliced_axis_1") { $0[0][.all, 1..<4, .stride(0, nil, by: 2)].logSoftmax(axis: 1) }
        runFixture(c, "logsoftmax_wide", rtol32: 1e-4) { ($0[0] * 10).logSoftmax(axis: 1) }
    }

    func testStableForLargeInputs() {
        let x = Tensor([1000, 1001, 1002, -1000] as [Float])
        let y = x.softmax()
        XCTAssertFalse(y.doubles.contains { $0.isNaN })
        XCTAssertEqual(y.doubles.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(x.logSoftmax().doubles[2], -0.40760596, accuracy: 1e-5)
        XCTAssertEqual(x.logSoftmax().doubles[3], -2002.4076, accuracy: 1e-2)
        // -inf entries get probability 0; a row of all -inf is NaN, as in PyTorch.
        let masked = Tensor([0, -.infinity, 0] as [Double]).softmax()
        XCTAssertEqual(masked.doubles, [0.5, 0, 0.5])
        XCTAssertTrue(Tensor([-Double.infinity, -.infinity]).softmax().doubles[0].isNaN)
        XCTAssertEqual(Tensor.scalar(3, dtype: .float64).softmax(axis: 0).item(), 1)
    }

    /// The column kernel (axis not last, several chunks of columns) matches softmax of the
    /// transposed tensor computed by the row kernel.
    func testColumnKernelMatchesRowKernel() {
        let x = Tensor((0..<(6 * 600)).map { Float(sin(Double($0) * 0.11) * 4) }, shape: [6, 600])
        let byColumns = x.softmax(axis: 0).doubles
        let byRows = x.T.contiguous().softmax(axis: 1).T.contiguous().doubles
        for (a, b) in zip(byColumns, byRows) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let logColumns = x.logSoftmax(axis: 0).doubles
        let logRows = x.T.contiguous().logSoftmax(axis: 1).T.contiguous().doubles
        for (a, b) in zip(logColumns, logRows) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testGradients() {
        checkGradients([sample([3, 5])]) { $0[0].softmax() }
        checkGradients([sample([3, 4, 2])]) { $0[0].softmax(axis: 1) }
        checkGradients([sample([3, 4])]) { $0[0].T.softmax(axis: 0) }
        checkGradients([sample([3, 5])]) { $0[0].logSoftmax(axis: 1) }
        checkGradients([sample([2, 3, 4])]) { $0[0].logSoftmax(axis: 0) }
        checkGradients([sample([2, 3, 4])]) { $0[0].softmax(axes: [0, 2]) }
    }

    /// The fused first-order backward (used when the backward pass is not recorded) agrees
    /// with the tensor-op formula (used when it is).
    func testFusedBackwardMatchesRecordedBackward() {
        let x = sample([4, 7])
        let seed = sample([4, 7], offset: 0.5)
        for log in [false, true] {
            let f: (Tensor) -> Tensor = { log ? $0.logSoftmax() : $0.softmax() }
            let leaf = x.detach().requiringGrad()
            let fused = gradients(of: [f(leaf)], wrt: [leaf], seeds: [seed])[0].doubles
            let recorded = gradients(of: [f(leaf)], wrt: [leaf], seeds: [seed], createGraph: true)[0].doubles
            for (a, b) in zip(fused, recorded) { XCTAssertEqual(a, b, accuracy: 1e-14) }
        }
    }

    func testSecondOrder() {
        checkSecondOrder([sample([3, 4])]) { $0[0].softmax(axis: 1) }
        checkSecondOrder([sample([3, 4])]) { $0[0].softmax(axis: 0) }
        checkSecondOrder([sample([3, 4])]) { $0[0].logSoftmax(axis: -1) }
        checkSecondOrder([sample([2, 3, 2])]) { $0[0].logSoftmax(axis: 1) }
        // A cross-entropy-shaped loss: Hessian of -sum(onehot * logSoftmax).
        let target = Tensor.oneHot(Tensor([2, 0, 3] as [Int64]), numClasses: 4, dtype: .float64)
        checkSecondOrder([sample([3, 4])]) { -($0[0].logSoftmax() * target).sum() }
    }
}
