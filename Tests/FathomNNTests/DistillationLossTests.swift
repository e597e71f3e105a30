import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class DistillationLossTests: XCTestCase {
    func testMatchesNumPy() throws {
        try checkMetricLossFixtures(["kd", "feat"], minimumCount: 6) { prefix, x, p, reduction in
            prefix == "kd"
                ? distillationLoss(student: x[0], teacher: x[1], temperature: p["temperature"]!, reduction: reduction)
                : featureDistillationLoss(student: x[0], teacher: x[1], reduction: reduction)
        }
    }

    func testGradients() {
        let s = sample([3, 4], scale: 2), t = sample([3, 4], offset: 0.7, scale: 1.5)
        checkGradients([s, t]) { xs in distillationLoss(student: xs[0], teacher: xs[1], temperature: 3) }
        checkGradients([s, t]) { xs in distillationLoss(student: xs[0], teacher: xs[1], temperature: 0.5, reduction: .none) }
        checkSecondOrder([s, t]) { xs in distillationLoss(student: xs[0], teacher: xs[1], temperature: 2) }
        let w = sample([4, 4], offset: 0.3, scale: 0.5)
        checkGradients([s, t, w]) { xs in
            featureDistillationLoss(student: xs[0], teacher: xs[1], projection: { $0.matmul(xs[2]) })
        }
    }

    /// The loss is T²·KL(p‖q): zero for equal logits, equal to the PyTorch-convention klDiv
    /// form, and the student gradient is T·(q − p)/N.
    func testProperties() {
        let s = sample([3, 5], scale: 2), t = sample([3, 5], offset: 1, scale: 2)
        XCTAssertEqual(distillationLoss(student: s, teacher: s, temperature: 4).item(), 0, accuracy: 1e-14)
        let T = 3.0
        let viaKL = klDiv((s / T).logSoftmax(axis: 1), (t / T).softmax(axis: 1), reduction: .batchMean) * (T * T)
        XCTAssertEqual(distillationLoss(student: s, teacher: t, temperature: T).item(), viaKL.item(), accuracy: 1e-12)
        let leaf = s.requiringGrad()
        distillationLoss(student: leaf, teacher: t, temperature: T).backward()
        let expected = ((s / T).softmax(axis: 1) - (t / T).softmax(axis: 1)) * (T / 3)
        XCTAssertLessThan(leaf.grad!.maxAbsDifference(expected), 1e-12)
    }
}
