import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class StableMaxTests: XCTestCase {
    func testMatchesNumPyFixtures() throws {
        let cases = try loadFixtures("stablemax")
        XCTAssertEqual(cases.count, 7)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let x = c.inputs[0].tensor
            if name.hasPrefix("stablemax") {
                let out = stableMax(x, axis: Int(c.params["axis"]!))
                assertMatches(out, c.output, name)
                assertMatches(stableMax(x.to(.float32), axis: Int(c.params["axis"]!)).to(.float64), c.output,
                              rtol: 1e-5, atol: 1e-6, name + " float32")
            } else {
                let reduction: LossReduction = [.none, .mean, .sum][Int(c.params["reduction"]!)]
                let out = stableMaxCrossEntropy(x, c.inputs[1].tensor, reduction: reduction)
                assertMatches(out, c.output, name)
            }
        }
    }

    func testSFunctionValuesAndProbabilitiesSumToOne() {
        let x = Tensor([-3.0, -1, 0, 0.5, 2], shape: [5])
        XCTAssertEqual(stableMaxS(x).scalars(as: Double.self), [0.25, 0.5, 1, 1.5, 3])
        let p = stableMax(sample([3, 6], scale: 4), axis: 1)
        for v in p.sum(axes: [1]).scalars(as: Double.self) { XCTAssertEqual(v, 1, accuracy: 1e-14) }
    }

    /// The point of StableMax: a float32 loss that softmax would round to 0 stays positive.
    func testNoCollapseInFloat32() {
        let logits = Tensor([Float(60), 0, -5], shape: [1, 3])
        let target = Tensor([Int64(0)], shape: [1])
        XCTAssertEqual(crossEntropy(logits, target).item(), 0)  // softmax collapse
        XCTAssertGreaterThan(stableMaxCrossEntropy(logits, target).item(), 0.01)
    }

    func testGradients() {
        // Values straddle 0 on both branches (sample avoids exact 0).
        checkGradients([sample([3, 4], scale: 3)]) { xs in stableMax(xs[0], axis: 1) * sample([3, 4], offset: 0.2) }
        checkGradients([sample([2, 5], scale: 2)]) { xs in stableMax(xs[0], axis: 0) * sample([2, 5], offset: 1) }
        let target = Tensor([Int64(1), 3, 0], shape: [3])
        checkGradients([sample([3, 4], scale: 3)]) { xs in stableMaxCrossEntropy(xs[0], target) }
        checkGradients([sample([3, 4], scale: 3)]) { xs in stableMaxCrossEntropy(xs[0], target, reduction: .none) * Tensor([1.0, -2, 0.5], shape: [3]) }
        checkGradients([sample([4], scale: 3)]) { xs in stableMaxCrossEntropy(xs[0], Tensor(Int64(2))) }
        checkSecondOrder([sample([3, 4], scale: 3)]) { xs in stableMaxCrossEntropy(xs[0], target, reduction: .sum) }
    }

    func testGradientAtZeroIsOne() {
        let x = Tensor([0.0], shape: [1]).requiringGrad()
        stableMaxS(x).sum().backward()
        XCTAssertEqual(x.grad!.scalars(as: Double.self), [1])
    }

    func testValidationMessages() {
        let logits = Tensor.zeros([2, 3], dtype: .float64)
        XCTAssertThrowsError(try stableMaxCrossEntropy(validating: logits, Tensor([Int64(0), 3], shape: [2]))) {
            XCTAssertTrue("\($0)".contains("target class 3 is out of range for 3 classes"), "\($0)")
        }
        XCTAssertThrowsError(try stableMaxCrossEntropy(validating: logits, Tensor([Int64(0)], shape: [1]))) {
            XCTAssertTrue("\($0)".contains("stableMaxCrossEntropy") && "\($0)".contains("[2, 3]"), "\($0)")
        }
        XCTAssertThrowsError(try stableMaxCrossEntropy(validating: logits, Tensor([0.0, 1], shape: [2]))) {
            XCTAssertTrue("\($0)".contains("int64"), "\($0)")
        }
    }
}
