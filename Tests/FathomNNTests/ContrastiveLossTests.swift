import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

/// Runs every case of `Fixtures/metric_losses.json` whose name starts with one of
/// `prefixes` through `evaluate` in float64 and float32 (shared by the four loss test files).
func checkMetricLossFixtures(_ prefixes: [String], minimumCount: Int, file: StaticString = #filePath, line: UInt = #line,
                             _ evaluate: (String, [Tensor], [String: Double], LossReduction) -> Tensor) throws {
    let cases = try loadFixtures("metric_losses").filter { entry in prefixes.contains { entry.key.hasPrefix($0 + "_") } }
    XCTAssertGreaterThanOrEqual(cases.count, minimumCount, file: file, line: line)
    for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
        let prefix = String(name.prefix { $0 != "_" })
        let reduction: LossReduction = [.none, .mean, .sum][Int(c.params["reduction"] ?? 1)]
        for dtype in [DType.float64, .float32] {
            let inputs = c.inputs.map { f -> Tensor in
                let t = f.tensor
                return t.dtype.isFloatingPoint ? t.to(dtype) : t
            }
            let y = evaluate(prefix, inputs, c.params, reduction)
            XCTAssertEqual(y.dtype, dtype, name, file: file, line: line)
            if dtype == .float64 {
                assertMatches(y, c.output, rtol: 1e-10, atol: 1e-11, "\(name) float64", file: file, line: line)
            } else {
                assertMatches(y, c.output, rtol: 1e-4, atol: 1e-4, "\(name) float32", file: file, line: line)
            }
        }
    }
}

final class ContrastiveLossTests: XCTestCase {
    func testMatchesNumPy() throws {
        try checkMetricLossFixtures(["ntxent", "dcl", "dclw", "supcon"], minimumCount: 12) { prefix, x, p, reduction in
            let tau = p["temperature"]!
            switch prefix {
            case "ntxent": return ntXentLoss(x[0], x[1], temperature: tau, reduction: reduction)
            case "dcl": return dclLoss(x[0], x[1], temperature: tau, reduction: reduction)
            case "dclw": return dclwLoss(x[0], x[1], temperature: tau, sigma: p["sigma"]!, reduction: reduction)
            default:
                return supConLoss(x[0], labels: x[1], temperature: tau, baseTemperature: p["base_temperature"],
                                  reduction: reduction)
            }
        }
    }

    func testGradients() {
        let a = sample([4, 3]), b = sample([4, 3], offset: 0.4, scale: 0.8)
        checkGradients([a, b]) { xs in ntXentLoss(xs[0], xs[1], temperature: 0.5) }
        checkGradients([a, b]) { xs in ntXentLoss(xs[0], xs[1], temperature: 0.2, reduction: .none) }
        checkGradients([a, b]) { xs in dclLoss(xs[0], xs[1], temperature: 0.3) }
        checkGradients([a, b]) { xs in dclwLoss(xs[0], xs[1], temperature: 0.3, sigma: 0.5, reduction: .none) }
        let f = sample([6, 3], offset: 0.2)
        let labels = Tensor([0, 1, 0, 2, 1, 0] as [Int64])
        checkGradients([f]) { xs in supConLoss(xs[0], labels: labels, temperature: 0.5) }
        checkGradients([f]) { xs in supConLoss(xs[0], labels: Tensor([0, 1, 0, 3, 1, 0] as [Int64]), temperature: 0.3, reduction: .none) }
        checkSecondOrder([a, b]) { xs in ntXentLoss(xs[0], xs[1], temperature: 0.5) }
    }

    /// Identical, mutually orthogonal views: the positive has cosine 1, every negative 0, so
    /// ℓ = −1/τ + log(e^{1/τ} + (2N − 2)) → log(1 + (2N − 2)e^{−1/τ}) → 0 as τ → 0.
    func testIdenticalOrthogonalViews() {
        let z = Tensor.eye(4, 6, dtype: .float64) * 3
        for tau in [1.0, 0.5, 0.1] {
            let expected = Foundation.log(1 + 6 * Foundation.exp(-1 / tau))
            XCTAssertEqual(ntXentLoss(z, z, temperature: tau).item(), expected, accuracy: 1e-12)
            // DCL drops the positive from the denominator: −1/τ + log(2N − 2).
            XCTAssertEqual(dclLoss(z, z, temperature: tau).item(), -1 / tau + Foundation.log(6), accuracy: 1e-12)
        }
        XCTAssertLessThan(ntXentLoss(z, z, temperature: 0.02).item(), 1e-20)
        // Equal positive cosines give every DCLW weight 1: DCLW = DCL.
        XCTAssertEqual(dclwLoss(z, z, temperature: 0.2).item(), dclLoss(z, z, temperature: 0.2).item(), accuracy: 1e-12)
    }

    /// SupCon with one label per example pair (the two views) is NT-Xent; and the loss does
    /// not depend on the embeddings' lengths (cosine similarities).
    func testSupConReducesToNTXentAndIsScaleFree() {
        let a = sample([5, 4]), b = sample([5, 4], offset: 1.1)
        let labels = Tensor([0, 1, 2, 3, 4, 0, 1, 2, 3, 4] as [Int64])
        let features = Tensor.cat([a, b], axis: 0)
        XCTAssertEqual(supConLoss(features, labels: labels, temperature: 0.3).item(),
                       ntXentLoss(a, b, temperature: 0.3).item(), accuracy: 1e-12)
        XCTAssertEqual(supConLoss(features * 7.5, labels: labels, temperature: 0.3).item(),
                       supConLoss(features, labels: labels, temperature: 0.3).item(), accuracy: 1e-12)
    }

    func testValidation() {
        XCTAssertThrowsError(try checkPairedViews(sample([3, 2]), sample([4, 2]), temperature: 0.5, reduction: .mean, op: "ntXentLoss")) {
            XCTAssertTrue("\($0)".contains("[3, 2] and [4, 2]"), "\($0)")
        }
        XCTAssertThrowsError(try checkPairedViews(sample([3, 2]), sample([3, 2]), temperature: 0, reduction: .mean, op: "dclLoss")) {
            XCTAssertTrue("\($0)".contains("temperature is 0.0"), "\($0)")
        }
        XCTAssertThrowsError(try checkLabelledEmbeddings(sample([3, 2]), labels: Tensor([0, 1] as [Int64]), op: "supConLoss")) {
            XCTAssertTrue("\($0)".contains("shape [3]"), "\($0)")
        }
    }
}
