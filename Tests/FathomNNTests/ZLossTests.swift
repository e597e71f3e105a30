import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class ZLossTests: XCTestCase {
    func testMatchesNumPy() throws {
        try checkMetricLossFixtures(["auxz", "sphz"], minimumCount: 7) { prefix, x, p, reduction in
            prefix == "auxz"
                ? auxiliaryZLoss(x[0], coefficient: p["coefficient"]!, reduction: reduction)
                : sphericalZLoss(x[0], labels: x[1], a: p["a"]!, b: p["b"]!, reduction: reduction)
        }
    }

    func testGradients() {
        let o = sample([4, 5], scale: 2)
        let labels = Tensor([1, 4, 0, 2] as [Int64])
        checkGradients([o]) { xs in auxiliaryZLoss(xs[0], coefficient: 0.1) }
        checkGradients([sample([2, 3, 4])]) { xs in auxiliaryZLoss(xs[0], coefficient: 1, reduction: .none) }
        checkGradients([o]) { xs in sphericalZLoss(xs[0], labels: labels, a: 1, b: 1) }
        checkGradients([o]) { xs in sphericalZLoss(xs[0], labels: labels, a: 0.5, b: 3, reduction: .none) }
        checkSecondOrder([o]) { xs in sphericalZLoss(xs[0], labels: labels, a: 2, b: 0.5) }
        checkSecondOrder([o]) { xs in auxiliaryZLoss(xs[0], coefficient: 0.1) }
    }

    /// The spherical Z-loss is invariant to o → αo + β (α > 0); the softmax z-loss is not,
    /// and vanishes exactly when the logits are normalized log-probabilities (log Z = 0).
    func testInvariances() {
        let o = sample([3, 6], scale: 2)
        let labels = Tensor([5, 0, 2] as [Int64])
        let base = sphericalZLoss(o, labels: labels, a: 1.5, b: 2, reduction: .none)
        for (alpha, beta) in [(3.0, -7.0), (0.01, 100.0), (250.0, 0.5)] {
            let moved = sphericalZLoss(o * alpha + beta, labels: labels, a: 1.5, b: 2, reduction: .none)
            XCTAssertLessThan(moved.maxAbsDifference(base), 1e-10)
        }
        XCTAssertEqual(auxiliaryZLoss(o.logSoftmax(axis: 1)).item(), 0, accuracy: 1e-20)
        XCTAssertGreaterThan(auxiliaryZLoss(o + 3).item(), auxiliaryZLoss(o).item())
        // The target at the top with z_c ≫ b costs ≈ 0; far below costs ≈ b − z_c.
        let easy = Tensor([10, 0, 0, 0], shape: [1, 4])  // z_0 = √3
        XCTAssertLessThan(sphericalZLoss(easy, labels: Tensor([0] as [Int64]), a: 20, b: 1).item(), 1e-6)
        XCTAssertEqual(sphericalZLoss(easy, labels: Tensor([1] as [Int64]), a: 20, b: 1).item(),
                       1 + 1 / Foundation.sqrt(3), accuracy: 1e-6)
    }

    func testValidation() {
        // The label check sphericalZLoss runs (it stops with this message).
        XCTAssertThrowsError(try checkClassLabels(Tensor([7] as [Int64]), classes: 4, allowing: nil, op: "sphericalZLoss")) {
            XCTAssertTrue("\($0)".contains("label 7 is out of range for 4 classes"), "\($0)")
        }
    }
}
