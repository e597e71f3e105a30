import Foundation
import XCTest
@testable import FathomTensor

/// Runs a fixture case in float64 (tight) and float32 (loose), the inputs converted per case.
func checkFixture(_ cases: [String: FixtureCase], _ name: String, rtol32: Double = 2e-6, atol32: Double = 1e-6,
                  file: StaticString = #filePath, line: UInt = #line, _ op: ([Tensor]) -> Tensor) {
    guard let c = cases[name] else { return XCTFail("no fixture \(name)", file: file, line: line) }
    // Bool masks are rebuilt here: the shared loader only makes numeric tensors.
    let inputs = c.inputs.map { $0.dtype == "bool" ? Tensor($0.data.map { $0 != 0 }, shape: $0.shape) : $0.tensor }
    assertMatches(op(inputs), c.output, rtol: 1e-12, atol: 1e-300, name, file: file, line: line)
    let inputs32 = inputs.map { $0.dtype == .float64 ? $0.to(.float32) : $0 }
    let out32 = op(inputs32)
    if c.output.dtype != "bool" {
        XCTAssertEqual(out32.dtype, .float32, "\(name): float32 in, float32 out", file: file, line: line)
    }
    assertMatches(out32, c.output, rtol: rtol32, atol: atol32, name + " (float32)", file: file, line: line)
}

/// Asserts the first-order gradient from the fused kernel (no graph) equals the one from
/// the differentiable tensor-op form (graph recorded), to rounding.
func checkFusedMatchesComposed(_ x: Tensor, file: StaticString = #filePath, line: UInt = #line,
                               _ f: (Tensor) -> Tensor) {
    let leaf = x.detach().requiringGrad()
    let y = f(leaf)
    let seed = Tensor((0..<y.count).map { 0.5 + Double($0 % 5) / 5 }, shape: y.shape).to(y.dtype)
    let fused = gradients(of: [y], wrt: [leaf], seeds: [seed])[0]
    let composed = gradients(of: [f(leaf)], wrt: [leaf], seeds: [seed], createGraph: true)[0]
    let tolerance = x.dtype == .float32 ? 1e-5 : 1e-12
    for (a, b) in zip(fused.doubles, composed.doubles) where Swift.abs(a - b) > tolerance * Swift.max(1, Swift.abs(b)) {
        return XCTFail("fused gradient \(a) vs composed \(b)", file: file, line: line)
    }
}

final class UnaryMathTests: XCTestCase {
    func testForwardAgainstNumPy() throws {
        let cases = try loadFixtures("unary")
        checkFixture(cases, "pow_scalar_2_5") { $0[0].pow(2.5) }
        checkFixture(cases, "pow_scalar_3_negative_bases") { $0[0].pow(3) }
        checkFixture(cases, "pow_scalar_minus_0_5") { $0[0].pow(-0.5) }
        checkFixture(cases, "pow_tensor_broadcast") { $0[0].pow($0[1]) }
        checkFixture(cases, "pow_tensor_negative_base") { $0[0].pow($0[1]) }
        checkFixture(cases, "square") { $0[0].square() }
        checkFixture(cases, "abs") { $0[0].abs() }
        checkFixture(cases, "sign") { $0[0].sign() }
        checkFixture(cases, "exp") { $0[0].exp() }
        checkFixture(cases, "log") { $0[0].log() }
        checkFixture(cases, "log1p") { $0[0].log1p() }
        checkFixture(cases, "expm1") { $0[0].expm1() }
        checkFixture(cases, "sqrt") { $0[0].sqrt() }
        checkFixture(cases, "rsqrt") { $0[0].rsqrt() }
        checkFixture(cases, "sin") { $0[0].sin() }
        checkFixture(cases, "cos") { $0[0].cos() }
        checkFixture(cases, "tanh") { $0[0].tanh() }
        checkFixture(cases, "sigmoid") { $0[0].sigmoid() }
        checkFixture(cases, "erf") { $0[0].erf() }
        checkFixture(cases, "atan") { $0[0].atan() }
        checkFixture(cases, "atan2_quadrants") { atan2($0[0], $0[1]) }
        checkFixture(cases, "atan2_broadcast") { atan2($0[0], $0[1]) }
    }

    func testIntegerInputs() {
        let i = Tensor([-2, 0, 3] as [Int64])
        XCTAssertEqual(i.exp().dtype, .float32)
        XCTAssertEqual(i.abs().scalars(as: Int64.self), [2, 0, 3])
        XCTAssertEqual(i.square().scalars(as: Int64.self), [4, 0, 9])
        XCTAssertEqual(i.sign().scalars(as: Int64.self), [-1, 0, 1])
        XCTAssertEqual(i.pow(2).scalars(as: Float.self), [4, 0, 9])
    }

    func testNonContiguousInputs() {
        // A transposed float32 view goes through the strided run path of the VectorMath kernels.
        let x = Tensor((0..<12).map { Float($0) * 0.5 - 3 }, shape: [3, 4]).transposed()
        let expected = x.contiguous()
        for (name, f) in [("exp", { (t: Tensor) in t.exp() }), ("tanh", { $0.tanh() }), ("sigmoid", { $0.sigmoid() }),
                          ("log", { $0.abs().log() })] as [(String, (Tensor) -> Tensor)] {
            XCTAssertEqual(f(x).scalars(as: Float.self), f(expected).scalars(as: Float.self), name)
        }
    }

    func testGradients() {
        let x = sample([3, 4]), pos = sample([3, 4], offset: 2)
        checkGradients([pos]) { $0[0].pow(2.5) }
        checkGradients([x]) { $0[0].pow(3) }
        checkGradients([pos]) { $0[0].pow(-0.5) }
        checkGradients([pos, sample([4], scale: 1.5)]) { $0[0].pow($0[1]) }
        checkGradients([x]) { $0[0].square() }
        checkGradients([x]) { $0[0].abs() }
        checkGradients([x]) { $0[0].sign() * $0[0] }
        checkGradients([x]) { $0[0].exp() }
        checkGradients([pos]) { $0[0].log() }
        checkGradients([x * 0.5]) { $0[0].log1p() }
        checkGradients([x]) { $0[0].expm1() }
        checkGradients([pos]) { $0[0].sqrt() }
        checkGradients([pos]) { $0[0].rsqrt() }
        checkGradients([x]) { $0[0].sin() }
        checkGradients([x]) { $0[0].cos() }
        checkGradients([x * 2]) { $0[0].tanh() }
        checkGradients([x * 3]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].erf() }
        checkGradients([x * 3]) { $0[0].atan() }
        checkGradients([x, pos]) { atan2($0[0], $0[1]) }
        checkGradients([x, sample([4], offset: -2)]) { atan2($0[0], $0[1]) }
    }

    func testSecondOrder() {
        let x = sample([2, 3]), pos = sample([2, 3], offset: 2)
        checkSecondOrder([x]) { $0[0].exp() }
        checkSecondOrder([pos]) { $0[0].log() }
        checkSecondOrder([x * 2]) { $0[0].tanh() }
        checkSecondOrder([x * 3]) { $0[0].sigmoid() }
        checkSecondOrder([pos]) { $0[0].sqrt() }
        checkSecondOrder([pos]) { $0[0].rsqrt() }
        checkSecondOrder([pos]) { $0[0].pow(2.5) }
        checkSecondOrder([pos, sample([3], scale: 1.5)]) { $0[0].pow($0[1]) }
        checkSecondOrder([x]) { $0[0].sin() * $0[0].cos() }
        checkSecondOrder([x]) { $0[0].erf() }
        checkSecondOrder([x]) { $0[0].expm1() + ($0[0] * 0.5).log1p() }
        checkSecondOrder([x * 3]) { $0[0].atan() }
        checkSecondOrder([x, pos]) { atan2($0[0], $0[1]) }
    }

    func testFusedBackwardMatchesComposed() {
        for x in [sample([3, 4], scale: 3), sample([3, 4], scale: 3).to(.float32)] {
            checkFusedMatchesComposed(x) { $0.tanh() }
            checkFusedMatchesComposed(x) { $0.sigmoid() }
        }
    }

    func testPowEdgeCases() {
        // d/de x^e at x = 0 is taken as 0 for e >= 0 (PyTorch), not 0·(-inf) = NaN.
        let base = Tensor([0.0, 2.0, -2.0]).requiringGrad()
        let e = Tensor([2.0, 3.0, 2.0]).requiringGrad()
        let (gb, ge) = { (g: [Tensor]) in (g[0].doubles, g[1].doubles) }(gradients(of: [base.pow(e).sum()], wrt: [base, e]))
        XCTAssertEqual(gb, [0, 12, -4])
        XCTAssertEqual(ge[0], 0)
        XCTAssertEqual(ge[1], 8 * Foundation.log(2), accuracy: 1e-12)
        XCTAssertTrue(ge[2].isNaN, "log of a negative base is NaN, as in PyTorch")
        // An exponent of 0 gives a zero gradient even at x = 0.
        let z = Tensor([0.0, 3.0]).requiringGrad()
        XCTAssertEqual(gradients(of: [z.pow(0).sum()], wrt: [z])[0].doubles, [0, 0])
        XCTAssertEqual(z.pow(0).doubles, [1, 1])
        // Exponent 0 in a tensor: base gradient 0 there.
        let e0 = Tensor([0.0, 1.0]).requiringGrad()
        XCTAssertEqual(gradients(of: [z.pow(e0).sum()], wrt: [z])[0].doubles, [0, 1])
    }
}
