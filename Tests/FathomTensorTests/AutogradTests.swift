import XCTest
@testable import FathomTensor

final class AutogradTests: XCTestCase {
    func testArithmeticGradientsWithBroadcasting() {
        checkGradients([sample([2, 3]), sample([3], offset: 2)]) { $0[0] + $0[1] }
        checkGradients([sample([2, 3]), sample([2, 1], offset: 2)]) { $0[0] - $0[1] }
        checkGradients([sample([4, 1, 3]), sample([2, 1])]) { $0[0] * $0[1] }
        checkGradients([sample([2, 3]), sample([1, 3], offset: 3)]) { $0[0] / $0[1] }
        checkGradients([sample([3])]) { -$0[0] * 2.5 + 1 }
    }

    func testSecondOrderArithmetic() {
        checkSecondOrder([sample([2, 3]), sample([3], offset: 2)]) { $0[0] * $0[1] * $0[0] }
        checkSecondOrder([sample([2, 2], offset: 3)]) { 1.0 / $0[0] }
    }

    func testLeafGradsAccumulateAcrossBackwardCalls() {
        let x = Tensor([1.0, 2.0, 3.0]).requiringGrad()
        (x * x).sum().backward()
        (x * 3.0).sum().backward()
        XCTAssertEqual(x.grad!.scalars(as: Double.self), [5, 7, 9])
    }

    func testNoGradRecordsNothing() {
        let x = Tensor([1.0, 2.0]).requiringGrad()
        let y = noGrad { x * x }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue((x * x).requiresGrad)
        XCTAssertFalse((x * x).detach().requiresGrad)
    }

    func testHessianVectorProductOfCubic() {
        // f(x) = sum(x^3): H = diag(6x), so H·v = 6 x v.
        let x = Tensor([1.0, -2.0, 0.5])
        let v = Tensor([1.0, 1.0, 2.0])
        let hv = hvp({ ($0[0] * $0[0] * $0[0]).sum() }, at: [x], vectors: [v])[0]
        XCTAssertEqual(hv.scalars(as: Double.self), [6, -12, 6])
    }

    func testGradOfGradComposes() {
        // d²/dx² of x^3 is 6x.
        let second = grad { x in grad { ($0 * $0 * $0).sum() }(x).sum() }
        XCTAssertEqual(second(Tensor([2.0, -1.0])).scalars(as: Double.self), [12, -6])
    }

    func testViewsAndSlicing() {
        checkGradients([sample([2, 3, 4])]) { $0[0].permuted([2, 0, 1]).reshaped([4, 6]) }
        checkGradients([sample([2, 3])]) { $0[0].transposed() * sample([3, 2]) }
        checkGradients([sample([3, 1])]) { $0[0].expanded(to: [2, 3, 4]) }
        checkGradients([sample([4, 5])]) { $0[0][1..<3, .stride(0, nil, by: 2)] }
        checkGradients([sample([4, 5])]) { $0[0][-1] }
        checkGradients([sample([2, 1, 3])]) { $0[0].squeezed().unsqueezed(axis: -1).flattened() }
        checkGradients([sample([2, 3, 4])]) { $0[0].sum(axes: [0, 2], keepDims: true) }
        checkGradients([sample([2, 3, 4])]) { $0[0].mean(axes: [1]) }
        checkSecondOrder([sample([3, 4])]) { ($0[0][.all, 1...] * $0[0][.all, ..<3]).sum(axis: 0) }
    }
}
