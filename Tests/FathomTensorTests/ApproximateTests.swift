import XCTest
@testable import FathomTensor

final class ApproximateTests: XCTestCase {
    func testIsCloseFollowsNumPy() {
        // numpy.isclose([1e10, 1e-8, 1, 1, nan, inf, inf], [1.00001e10, 1e-9, 1 + 2e-5, 1 + 9e-6, nan, inf, -inf])
        // -> [True, True, False, True, False, True, False]
        let a = Tensor([1e10, 1e-8, 1, 1, .nan, .infinity, .infinity])
        let b = Tensor([1.00001e10, 1e-9, 1 + 2e-5, 1 + 9e-6, .nan, .infinity, -.infinity])
        let close = a.isClose(b)
        XCTAssertEqual(close.dtype, .bool)
        XCTAssertEqual(close.scalars(as: Bool.self), [true, true, false, true, false, true, false])
        XCTAssertEqual(a.isClose(b, equalNaN: true).scalars(as: Bool.self)[4], true)
        // Asymmetric: |a - b| <= atol + rtol |b|.
        let x = Tensor([1.0]), y = Tensor([1.1])
        XCTAssertTrue(x.allClose(y, rtol: 0.0911, atol: 0))  // 0.1 <= 0.0911 * 1.1
        XCTAssertFalse(y.allClose(x, rtol: 0.0911, atol: 0))  // 0.1 >  0.0911 * 1.0
    }

    func testBroadcastingAndMixedDTypes() {
        let a = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let row = Tensor([1, 2, 3] as [Int64])
        XCTAssertEqual(a.isClose(row).shape, [2, 3])
        XCTAssertEqual(a.isClose(row).scalars(as: Bool.self), [true, true, true, false, false, false])
        XCTAssertTrue(a.allClose(a.to(.float64)))
        XCTAssertTrue(Tensor([1, 2] as [Int64]).allClose(Tensor([1, 2] as [Int64])))
        XCTAssertFalse(Tensor([1, 2] as [Int64]).allClose(Tensor([1, 3] as [Int64])))
        XCTAssertTrue(Tensor.zeros([0]).allClose(Tensor.ones([0])))
        // Strided views compare by logical position.
        XCTAssertTrue(a.T.allClose(Tensor([1, 4, 2, 5, 3, 6] as [Float], shape: [3, 2])))
    }

    func testMaxAbsDifference() {
        let a = Tensor([1.0, 2.0, 3.0]), b = Tensor([1.5, 2.0, 1.0])
        XCTAssertEqual(a.maxAbsDifference(b), 2)
        XCTAssertEqual(a.maxAbsDifference(Tensor([3.0] as [Float])), 2, "broadcasts and mixes dtypes")
        XCTAssertTrue(a.maxAbsDifference(Tensor([.nan, 2, 3])).isNaN)
        XCTAssertEqual(Tensor([Double.infinity]).maxAbsDifference(Tensor([Double.infinity])), 0)
        XCTAssertEqual(Tensor.zeros([0]).maxAbsDifference(Tensor.zeros([0])), 0)
    }
}
