import XCTest
@testable import FathomTensor

final class ArithmeticTests: XCTestCase {
    func testAgainstNumPy() throws {
        let cases = try loadFixtures("arithmetic")
        func run(_ name: String, _ op: ([Tensor]) -> Tensor) {
            let c = cases[name]!
            let inputs = c.inputs.map(\.tensor)
            assertMatches(op(inputs), c.output, name)
            // float32 agrees to float32 precision.
            assertMatches(op(inputs.map { $0.to(.float32) }), c.output, rtol: 1e-5, atol: 1e-5, name + " (float32)")
        }
        run("add_broadcast") { $0[0] + $0[1] }
        run("sub_broadcast") { $0[0] - $0[1] }
        run("mul_broadcast") { $0[0] * $0[1] }
        run("div_broadcast") { $0[0] / $0[1] }
        run("sum_axes_0_2") { $0[0].sum(axes: [0, 2]) }
        run("sum_all") { $0[0].sum() }
        run("mean_axis_1_keepdims") { $0[0].mean(axis: 1, keepDims: true) }
    }

    func testDTypePromotion() {
        let i = Tensor([1, 2, 3] as [Int64])
        let f = Tensor([0.5, 0.5, 0.5] as [Float])
        XCTAssertEqual((i + f).dtype, .float32)
        XCTAssertEqual((i + f).scalars(as: Float.self), [1.5, 2.5, 3.5])
        XCTAssertEqual((i * 2).scalars(as: Int64.self), [2, 4, 6])
        XCTAssertEqual((i / 2).dtype, .float32)
        XCTAssertEqual((f.to(.float64) + f).dtype, .float64)
    }
}
