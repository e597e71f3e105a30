import XCTest
@testable import FathomTensor

final class InPlaceTests: XCTestCase {
    func testSGDStyleUpdateInsideNoGrad() {
        let w = Tensor([1.0, 2.0, 3.0]).requiringGrad()
        (w * w).sum().backward()
        noGrad { w.addInPlace(w.grad!, alpha: -0.5) }
        XCTAssertEqual(w.scalars(as: Double.self), [0, 0, 0])
        XCTAssertTrue(w.requiresGrad)
    }

    func testAssignBroadcastsAndWritesThroughViews() {
        let x = Tensor.zeros([2, 3], dtype: .float64)
        x[.all, 1].assign(Tensor([5.0]))
        x[1].addInPlace(Tensor([1.0, 1.0, 1.0]), alpha: 2)
        XCTAssertEqual(x.scalars(as: Double.self), [0, 5, 0, 2, 7, 2])
        x.mulInPlace(2)
        XCTAssertEqual(x.scalars(as: Double.self), [0, 10, 0, 4, 14, 4])
        x.fill(0)
        XCTAssertEqual(x.scalars(as: Double.self), [0, 0, 0, 0, 0, 0])
    }
}
