import XCTest
@testable import FathomTensor

final class ComparisonTests: XCTestCase {
    func testForwardAgainstNumPy() throws {
        let cases = try loadFixtures("unary")
        checkFixture(cases, "lt_broadcast") { $0[0] .< $0[1] }
        checkFixture(cases, "ge_broadcast") { $0[0] .>= $0[1] }
        checkFixture(cases, "eq_ties") { $0[0] .== $0[1] }
        checkFixture(cases, "ne_ties") { $0[0] .!= $0[1] }
        checkFixture(cases, "where_broadcast") { Tensor.where($0[0], $0[1], $0[2]) }
        checkFixture(cases, "clamp") { $0[0].clamp(min: -1, max: 0.5) }
        checkFixture(cases, "clamp_min_only") { $0[0].clamp(min: 0.25) }
        checkFixture(cases, "maximum_broadcast") { maximum($0[0], $0[1]) }
        checkFixture(cases, "minimum_broadcast") { minimum($0[0], $0[1]) }
        checkFixture(cases, "maximum_nan") { maximum($0[0], $0[1]) }
        checkFixture(cases, "minimum_nan") { minimum($0[0], $0[1]) }
    }

    func testComparisonsWithScalarsAndPromotion() {
        let x = Tensor([1.0, 2.0, 3.0])
        XCTAssertEqual((x .< 2).scalars(as: Bool.self), [true, false, false])
        XCTAssertEqual((x .<= 2).scalars(as: Bool.self), [true, true, false])
        XCTAssertEqual((x .> 2).scalars(as: Bool.self), [false, false, true])
        XCTAssertEqual((x .>= 2).scalars(as: Bool.self), [false, true, true])
        XCTAssertEqual((x .== 2).scalars(as: Bool.self), [false, true, false])
        XCTAssertEqual((x .!= 2).scalars(as: Bool.self), [true, false, true])
        // A number on the left reads as written: 2 < x.
        XCTAssertEqual((2 .< x).scalars(as: Bool.self), [false, false, true])
        XCTAssertEqual((2 .>= x).scalars(as: Bool.self), [true, true, false])
        XCTAssertEqual((2 .== x).scalars(as: Bool.self), [false, true, false])
        // int64 against a fractional number compares in float, as in PyTorch.
        let i = Tensor([0, 1, 2] as [Int64])
        XCTAssertEqual(i.lt(1.5).scalars(as: Bool.self), [true, true, false])
        XCTAssertEqual(i.eq(Tensor([0, 1.5, 2] as [Float])).scalars(as: Bool.self), [true, false, true])
        // Broadcasting [2, 1] against [3].
        let column = Tensor([1.5, 2.5], shape: [2, 1])
        XCTAssertEqual((column .< x).shape, [2, 3])
        XCTAssertEqual((column .< x).scalars(as: Bool.self), [false, true, true, false, false, true])
        // NaN compares unequal to everything, itself included.
        let nan = Tensor([Double.nan])
        XCTAssertEqual((nan .== nan).scalars(as: Bool.self), [false])
        XCTAssertEqual((nan .!= nan).scalars(as: Bool.self), [true])
        // Bools compare as 0/1.
        let b = Tensor([false, true])
        XCTAssertEqual((b .< Tensor([true, true])).scalars(as: Bool.self), [true, false])
    }

    func testLogicalOperations() {
        let a = Tensor([true, true, false, false]), b = Tensor([true, false, true, false])
        XCTAssertEqual((a .& b).scalars(as: Bool.self), [true, false, false, false])
        XCTAssertEqual((a .| b).scalars(as: Bool.self), [true, true, true, false])
        XCTAssertEqual((a .^ b).scalars(as: Bool.self), [false, true, true, false])
        XCTAssertEqual((.!a).scalars(as: Bool.self), [false, false, true, true])
        // Numbers count as true when nonzero.
        XCTAssertEqual(Tensor([0.0, 2.0, -1.0]).logicalAnd(Tensor([1, 1, 0] as [Int64])).scalars(as: Bool.self), [false, true, false])
        XCTAssertEqual(Tensor([0.0, 2.0]).logicalNot().scalars(as: Bool.self), [true, false])
        // Precedence as for Bool: comparisons bind tighter than .& and .|.
        let x = Tensor([-1.0, 0.5, 2.0])
        XCTAssertEqual((x .> 0 .& x .< 1 .| x .== -1).scalars(as: Bool.self), [true, true, false])
        // Broadcasting.
        XCTAssertEqual(Tensor([true], shape: [1, 1]).logicalXor(b).shape, [1, 4])
    }

    func testWhere() {
        let c = Tensor([true, false, true])
        XCTAssertEqual(Tensor.where(c, Tensor([1.0, 2, 3]), Tensor([-1.0, -2, -3])).doubles, [1, -2, 3])
        XCTAssertEqual(Tensor.where(c, Tensor([1.0, 2, 3]), 0).doubles, [1, 0, 3])
        XCTAssertEqual(Tensor.where(c, 7, Tensor([1.0, 2, 3])).doubles, [7, 2, 7])
        // Promotion: int64 and float32 branches give float32.
        let mixed = Tensor.where(c, Tensor([1, 2, 3] as [Int64]), Tensor([0.5, 0.5, 0.5] as [Float]))
        XCTAssertEqual(mixed.dtype, .float32)
        XCTAssertEqual(mixed.doubles, [1, 0.5, 3])
        // Condition [2, 1] with branches [3] and [] broadcast to [2, 3].
        let rows = Tensor([true, false], shape: [2, 1])
        let picked = Tensor.where(rows, Tensor([1.0, 2, 3]), Tensor.scalar(9, dtype: .float64))
        XCTAssertEqual(picked.shape, [2, 3])
        XCTAssertEqual(picked.doubles, [1, 2, 3, 9, 9, 9])
    }

    func testWhereRejectsNonBoolCondition() {
        XCTAssertThrowsError(try Tensor.validateCondition(Tensor([1.0, 0.0]), op: "where")) { error in
            let message = (error as! TensorError).description
            XCTAssertTrue(message.hasPrefix("Fathom.where: the condition of shape [2] is float64, but it must be a bool mask"), message)
            XCTAssertTrue(message.contains("x .!= 0"), message)
        }
        XCTAssertNoThrow(try Tensor.validateCondition(Tensor([true]), op: "where"))
    }

    func testWhereGradients() {
        let mask = Tensor([true, false, true, false, false, true, true, true, false, true, false, false], shape: [3, 4])
        checkGradients([sample([3, 4]), sample([4], offset: 1)]) { Tensor.where(mask, $0[0], $0[1]) }
        checkGradients([sample([1, 4]), sample([3, 1])]) { Tensor.where(mask, $0[0], $0[1]) }
        checkSecondOrder([sample([3, 4]), sample([4])]) { Tensor.where(mask, $0[0] * $0[0], $0[1].exp()) }
    }

    func testClamp() {
        let x = Tensor([-2.0, -1.0, 0.0, 0.5, 3.0, .nan])
        let y = x.clamp(min: -1, max: 0.5).doubles
        XCTAssertEqual(Array(y.prefix(5)), [-1, -1, 0, 0.5, 0.5])
        XCTAssertTrue(y[5].isNaN, "clamp keeps NaN, as PyTorch")
        XCTAssertEqual(Array(x.clamp(max: 0).doubles.prefix(5)), [-2, -1, 0, 0, 0])
        // min > max: everything becomes max, as torch.clamp.
        XCTAssertEqual(Array(x.clamp(min: 2, max: 1).doubles.prefix(5)), [1, 1, 1, 1, 1])
        // Integer tensors with whole bounds stay integer; fractional bounds give float32.
        let i = Tensor([-5, 0, 5] as [Int64])
        XCTAssertEqual(i.clamp(min: -1, max: 2).scalars(as: Int64.self), [-1, 0, 2])
        XCTAssertEqual(i.clamp(min: -1.5).scalars(as: Float.self), [-1.5, 0, 5])
        // Gradient passes where min <= x <= max, boundaries included (PyTorch).
        let leaf = Tensor([-2.0, -1.0, 0.0, 0.5, 3.0]).requiringGrad()
        XCTAssertEqual(gradients(of: [leaf.clamp(min: -1, max: 0.5).sum()], wrt: [leaf])[0].doubles, [0, 1, 1, 1, 0])
        XCTAssertEqual(gradients(of: [leaf.clamp(min: -1, max: 0.5).sum()], wrt: [leaf], createGraph: true)[0].doubles,
                       [0, 1, 1, 1, 0])
        // Away from the bounds, numerically.
        checkGradients([sample([3, 4])]) { $0[0].clamp(min: -0.6, max: 0.6) }
        checkGradients([sample([3, 4])]) { $0[0].clamp(min: -0.6) }
        checkSecondOrder([sample([3, 4])]) { $0[0].clamp(min: -0.6, max: 0.6) * $0[0] }
    }

    func testClampValidation() {
        XCTAssertThrowsError(try Tensor.validateClampBounds(nil, nil)) { error in
            XCTAssertEqual((error as! TensorError).description,
                           "Fathom.clamp: neither min nor max was given; pass at least one bound, e.g. clamp(min: 0)")
        }
        XCTAssertThrowsError(try Tensor.validateClampBounds(.nan, 1))
        XCTAssertNoThrow(try Tensor.validateClampBounds(nil, 1))
    }

    func testMinimumMaximum() {
        let a = Tensor([1.0, 5.0, -2.0]), b = Tensor([3.0, 4.0, -2.0])
        XCTAssertEqual(maximum(a, b).doubles, [3, 5, -2])
        XCTAssertEqual(minimum(a, b).doubles, [1, 4, -2])
        XCTAssertEqual(maximum(a, 0).doubles, [1, 5, 0])
        XCTAssertEqual(minimum(2, a).doubles, [1, 2, -2])
        XCTAssertEqual(maximum(Tensor([1, 7] as [Int64]), Tensor([3, 2] as [Int64])).scalars(as: Int64.self), [3, 7])
        XCTAssertEqual(maximum(Tensor([1, 7] as [Int64]), Tensor([1.5, 2] as [Float])).dtype, .float32)
        XCTAssertEqual(maximum(Tensor([true, false]), Tensor([false, false])).scalars(as: Bool.self), [true, false])
    }

    func testMinimumMaximumGradients() {
        // Ties split the gradient in half between the inputs (PyTorch's rule).
        let a = Tensor([1.0, 5.0, -2.0]).requiringGrad(), b = Tensor([3.0, 4.0, -2.0]).requiringGrad()
        let gMax = gradients(of: [maximum(a, b).sum()], wrt: [a, b])
        XCTAssertEqual(gMax[0].doubles, [0, 1, 0.5])
        XCTAssertEqual(gMax[1].doubles, [1, 0, 0.5])
        let gMin = gradients(of: [minimum(a, b).sum()], wrt: [a, b])
        XCTAssertEqual(gMin[0].doubles, [1, 0, 0.5])
        XCTAssertEqual(gMin[1].doubles, [0, 1, 0.5])
        // maximum(x, x) has gradient 1 in total.
        XCTAssertEqual(gradients(of: [maximum(a, a).sum()], wrt: [a])[0].doubles, [1, 1, 1])
        // Broadcast gradients are summed back to each input's shape.
        checkGradients([sample([3, 4]), sample([4], offset: 0.05)]) { maximum($0[0], $0[1]) }
        checkGradients([sample([3, 1]), sample([1, 4], offset: 0.05)]) { minimum($0[0], $0[1]) }
        checkSecondOrder([sample([3, 4]), sample([4], offset: 0.05)]) { maximum($0[0].square(), $0[1].exp()) }
    }
}
