import XCTest
@testable import FathomTensor

final class CreationTests: XCTestCase {
    func testRangesAgainstNumPy() throws {
        let cases = try loadFixtures("creation")
        func params(_ name: String) -> [String: Double] { cases[name]!.params }
        for name in ["arange_int_10"] {
            let t = Tensor.arange(Int(params(name)["end"]!))
            XCTAssertEqual(t.dtype, .int64)
            assertMatches(t, cases[name]!.output, name)
        }
        let p = params("arange_int_neg_step")
        let ints = Tensor.arange(Int(p["start"]!), Int(p["end"]!), step: Int(p["step"]!))
        XCTAssertEqual(ints.dtype, .int64)
        assertMatches(ints, cases["arange_int_neg_step"]!.output, "arange_int_neg_step")
        for name in ["arange_float", "arange_float_neg", "arange_empty"] {
            let p = params(name)
            assertMatches(Tensor.arange(p["start"]!, p["end"]!, step: p["step"]!, dtype: .float64),
                          cases[name]!.output, rtol: 1e-15, atol: 1e-15, name)
            assertMatches(Tensor.arange(p["start"]!, p["end"]!, step: p["step"]!),
                          cases[name]!.output, rtol: 1e-7, atol: 1e-7, name + " (float32)")
        }
        for name in ["linspace_5", "linspace_1", "linspace_odd", "linspace_desc"] {
            let p = params(name)
            let t = Tensor.linspace(p["start"]!, p["end"]!, count: Int(p["count"]!), dtype: .float64)
            assertMatches(t, cases[name]!.output, rtol: 1e-15, atol: 1e-15, name)
            // Both ends are exact.
            XCTAssertEqual(t.doubles.first, p["start"]!)
            if t.count > 1 { XCTAssertEqual(t.doubles.last, p["end"]!) }
        }
        for name in ["eye_3", "eye_2x4", "eye_4x2"] {
            let p = params(name)
            assertMatches(Tensor.eye(Int(p["n"]!), Int(p["m"]!), dtype: .float64), cases[name]!.output, name)
        }
    }

    func testRangeDTypesAndLiterals() {
        // Integer literals pick the int64 overload, as torch.arange infers int64.
        XCTAssertEqual(Tensor.arange(2, 5).scalars(as: Int64.self), [2, 3, 4])
        XCTAssertEqual(Tensor.arange(0, 1, step: 0.25).dtype, .float32)
        XCTAssertEqual(Tensor.arange(0, 1, step: 0.25).scalars(as: Float.self), [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(Tensor.arange(4, dtype: .float64).scalars(as: Double.self), [0, 1, 2, 3])
        XCTAssertEqual(Tensor.arange(0).shape, [0])
        XCTAssertEqual(Tensor.linspace(0, 1, count: 0).shape, [0])
        XCTAssertEqual(Tensor.eye(2, dtype: .bool).scalars(as: Bool.self), [true, false, false, true])
        XCTAssertEqual(Tensor.eye(0).shape, [0, 0])
        // No drift: element i is start + i·step, not a running sum.
        let fine = Tensor.arange(0, 100, step: 0.1, dtype: .float64).doubles
        XCTAssertEqual(fine.count, 1000)
        XCTAssertEqual(fine[999], 999 * 0.1)
    }

    func testRangeErrors() {
        XCTAssertThrowsError(try Tensor.arangeCount(0, 5, 0)) { error in
            XCTAssertEqual((error as? TensorError)?.description, "Fathom.arange: step must be nonzero (start 0.0, end 5.0)")
        }
        XCTAssertThrowsError(try Tensor.arangeCount(0, .infinity, 1))
        XCTAssertEqual(try Tensor.arangeCount(0, 10, 3), 4)
        XCTAssertEqual(try Tensor.arangeCount(10, 0, 3), 0)
        XCTAssertThrowsError(try Tensor.validateLinspace(0, 1, count: -1)) { error in
            XCTAssertEqual((error as? TensorError)?.description, "Fathom.linspace: count -1 must be >= 0")
        }
    }
}
