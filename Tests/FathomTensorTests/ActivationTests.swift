import Foundation
import XCTest
@testable import FathomTensor

final class ActivationTests: XCTestCase {
    func testForwardAgainstNumPy() throws {
        let cases = try loadFixtures("unary")
        checkFixture(cases, "relu") { $0[0].relu() }
        checkFixture(cases, "leaky_relu_0_2") { $0[0].leakyRelu(negativeSlope: 0.2) }
        checkFixture(cases, "gelu") { $0[0].gelu() }
        checkFixture(cases, "gelu_tanh") { $0[0].gelu(approximate: .tanh) }
        checkFixture(cases, "silu") { $0[0].silu() }
        checkFixture(cases, "softplus") { $0[0].softplus() }
        checkFixture(cases, "softplus_beta_2_threshold_5") { $0[0].softplus(beta: 2, threshold: 5) }
    }

    func testReluEdgeCases() {
        let x = Tensor([-1.0, 0.0, 2.0, .nan]).requiringGrad()
        let y = x.relu()
        XCTAssertEqual(Array(y.doubles.prefix(3)), [0, 0, 2])
        XCTAssertTrue(y.doubles[3].isNaN, "relu keeps NaN, as PyTorch")
        // relu'(0) = 0, as PyTorch.
        XCTAssertEqual(Array(gradients(of: [y.sum()], wrt: [x])[0].doubles.prefix(3)), [0, 0, 1])
        XCTAssertEqual(Tensor([-3, 4] as [Int64]).relu().scalars(as: Int64.self), [0, 4])
    }

    func testGradients() {
        let x = sample([3, 4], scale: 2)
        checkGradients([x]) { $0[0].relu() }
        checkGradients([x]) { $0[0].leakyRelu(negativeSlope: 0.1) }
        checkGradients([x]) { $0[0].gelu() }
        checkGradients([x]) { $0[0].gelu(approximate: .tanh) }
        checkGradients([x * 3]) { $0[0].silu() }
        checkGradients([x * 3]) { $0[0].softplus() }
        // Some elements above the threshold (βx > 1), none at it.
        checkGradients([x]) { $0[0].softplus(beta: 2, threshold: 1) }
    }

    func testSecondOrder() {
        let x = sample([2, 3], scale: 2)
        checkSecondOrder([x]) { $0[0].gelu() }
        checkSecondOrder([x]) { $0[0].gelu(approximate: .tanh) }
        checkSecondOrder([x]) { $0[0].silu() }
        checkSecondOrder([x]) { $0[0].softplus() }
        checkSecondOrder([x]) { $0[0].softplus(beta: 2, threshold: 1) }
        // Piecewise-linear activations have zero second derivative but must still compose.
        checkSecondOrder([x]) { $0[0].relu() * $0[0] }
        checkSecondOrder([x]) { $0[0].leakyRelu(negativeSlope: 0.1) * $0[0] }
    }

    func testFusedBackwardMatchesComposed() {
        for x in [sample([3, 4], scale: 4), sample([3, 4], scale: 4).to(.float32)] {
            checkFusedMatchesComposed(x) { $0.gelu() }
            checkFusedMatchesComposed(x) { $0.gelu(approximate: .tanh) }
            checkFusedMatchesComposed(x) { $0.silu() }
            checkFusedMatchesComposed(x) { $0.softplus(beta: 1.5, threshold: 2) }
            checkFusedMatchesComposed(x) { $0.leakyRelu(negativeSlope: 0.3) }
            checkFusedMatchesComposed(x) { $0.relu() * $0 }
        }
    }

    func testHessianVectorProductThroughActivations() {
        // f(x) = sum(silu(x)): H = diag(silu''(x)); silu'' = σ'(x)·(2 + x·(1 - 2σ)).
        let x = Tensor([-1.5, 0.3, 2.0])
        let v = Tensor([1.0, 2.0, -1.0])
        let hv = hvp({ $0[0].silu().sum() }, at: [x], vectors: [v])[0].doubles
        for (i, xi) in x.doubles.enumerated() {
            let s = 1 / (1 + Foundation.exp(-xi))
            let second = s * (1 - s) * (2 + xi * (1 - 2 * s))
            XCTAssertEqual(hv[i], second * v.doubles[i], accuracy: 1e-12)
        }
    }

    func testLargeInputsStayFinite() {
        let values: [Double] = [-1000, -100, 100, 1000]
        let x = Tensor(values.map { Float($0) })
        func expect(_ got: Tensor, _ reference: (Double) -> Double, _ name: String) {
            // Subnormal results keep few bits, so they are compared with an absolute tolerance.
            for (g, v) in zip(got.scalars(as: Float.self), values) {
                XCTAssertEqual(Double(g), reference(v), accuracy: Swift.max(1e-43, 1e-7 * Swift.abs(reference(v))), "\(name)(\(v))")
            }
        }
        let sigmoid = { (v: Double) in v >= 0 ? 1 / (1 + Foundation.exp(-v)) : Foundation.exp(v) / (1 + Foundation.exp(v)) }
        expect(x.softplus(), { $0 > 20 ? $0 : Foundation.log1p(Foundation.exp($0)) }, "softplus")
        expect(x.silu(), { $0 * sigmoid($0) }, "silu")
        expect(x.sigmoid(), sigmoid, "sigmoid")
        expect(x.gelu(), { $0 < 0 ? -0.0 : $0 }, "gelu")
        expect(x.gelu(approximate: .tanh), { $0 < 0 ? -0.0 : $0 }, "gelu tanh")
    }
}
