import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class OptimizerTests: XCTestCase {
    /// Runs five steps with the fixture's gradients and compares with the NumPy reference.
    private func check(_ name: String, _ make: (Tensor) -> any Optimizer) throws {
        let c = try loadFixtures("optim")[name]!
        let p = c.inputs[0].tensor.requiringGrad()
        let optimizer = make(p)
        for g in c.inputs.dropFirst() {
            p.grad = g.tensor
            optimizer.step()
        }
        assertMatches(p, c.output, rtol: 1e-12, atol: 1e-12, name)
    }

    func testUpdatesMatchPyTorchsRules() throws {
        try check("sgd_plain") { SGD([$0], lr: 0.1) }
        try check("sgd_momentum_dampening_wd") { SGD([$0], lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }
        try check("sgd_nesterov") { SGD([$0], lr: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true) }
        try check("adam") { Adam([$0], lr: 0.01, weightDecay: 0.1) }
        try check("adamw") { AdamW([$0], lr: 0.01, weightDecay: 0.1) }
        try check("rmsprop") { RMSprop([$0], lr: 0.01) }
        try check("rmsprop_centered_momentum") { RMSprop([$0], lr: 0.01, weightDecay: 0.01, momentum: 0.5, centered: true) }
    }

    func testStateDictResumesExactly() throws {
        let c = try loadFixtures("optim")["adam"]!
        let grads = c.inputs.dropFirst().map(\.tensor)
        // Three steps, save, rebuild from the saved state, two more steps.
        let p = c.inputs[0].tensor.requiringGrad()
        let first = Adam([p], lr: 0.01, weightDecay: 0.1)
        for g in grads.prefix(3) { p.grad = g; first.step() }
        let saved = first.stateDict()
        XCTAssertEqual(saved.map(\.name), ["state.0.0.exp_avg", "state.0.0.exp_avg_sq", "state.0.0.step"])
        let second = Adam([p], lr: 0.01, weightDecay: 0.1)
        try second.load(stateDict: saved)
        for g in grads.suffix(2) { p.grad = g; second.step() }
        assertMatches(p, c.output, rtol: 0, atol: 0, "resumed adam")
    }

    func testParameterGroupsAndZeroGrad() {
        let a = Tensor([1.0]).requiringGrad(), b = Tensor([1.0]).requiringGrad()
        let sgd = SGD(groups: [ParameterGroup([a], .init(lr: 0.1)), ParameterGroup([b], .init(lr: 0.5))])
        a.grad = Tensor([1.0]); b.grad = Tensor([1.0])
        sgd.step()
        XCTAssertEqual(a.item(), 0.9, accuracy: 1e-15)
        XCTAssertEqual(b.item(), 0.5, accuracy: 1e-15)
        sgd.zeroGrad()
        XCTAssertNil(a.grad)
    }

    func testSchedules() {
        XCTAssertEqual((0..<7).map { StepLR(stepSize: 3, gamma: 0.5).lr(at: $0, base: 1) }, [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
        XCTAssertEqual((0..<5).map { MultiStepLR(milestones: [3, 1]).lr(at: $0, base: 1) }.map { ($0 * 1e6).rounded() / 1e6 }, [1, 0.1, 0.1, 0.01, 0.01])
        let cosine = CosineAnnealingLR(tMax: 10, minLR: 0.1)
        XCTAssertEqual(cosine.lr(at: 0, base: 1), 1, accuracy: 1e-12)
        XCTAssertEqual(cosine.lr(at: 5, base: 1), 0.55, accuracy: 1e-12)
        XCTAssertEqual(cosine.lr(at: 10, base: 1), 0.1, accuracy: 1e-12)
        let restarts = CosineAnnealingWarmRestarts(t0: 2, tMult: 2)
        XCTAssertEqual((0..<7).map { restarts.lr(at: $0, base: 1) }, [1, 0.5, 1, cos(Double.pi / 4) / 2 + 0.5, 0.5, (1 + cos(3 * Double.pi / 4)) / 2, 1].map { $0 }, "")
        let warm = LinearWarmup(steps: 4, startFactor: 0.25, then: ExponentialLR(gamma: 0.5))
        XCTAssertEqual((0..<7).map { warm.lr(at: $0, base: 2) }, [0.5, 0.875, 1.25, 1.625, 2, 1, 0.5])
        // PyTorch: the peak is at step pctStart·total − 1, the last rate at step total − 1.
        let cycle = OneCycleLR(maxLR: 1, totalSteps: 10, pctStart: 0.5)
        XCTAssertEqual(cycle.lr(at: 0, base: 0), 0.04, accuracy: 1e-12)
        XCTAssertEqual(cycle.lr(at: 4, base: 0), 1, accuracy: 1e-12)
        XCTAssertEqual(cycle.lr(at: 2, base: 0), 0.04 + 0.96 / 2, accuracy: 1e-12)
        XCTAssertEqual(cycle.lr(at: 9, base: 0), 0.04 / 1e4, accuracy: 1e-15)

        let p = Tensor([0.0]).requiringGrad()
        let sgd = SGD([p], lr: 1)
        let scheduler = LRScheduler(sgd, StepLR(stepSize: 1, gamma: 0.1))
        scheduler.step()
        scheduler.step()
        XCTAssertEqual(sgd.learningRates[0], 0.01, accuracy: 1e-15)
        scheduler.resume(at: 1)
        XCTAssertEqual(sgd.learningRates[0], 0.1, accuracy: 1e-15)
    }

    func testGradientClipping() {
        let a = Tensor([3.0, 0]).requiringGrad(), b = Tensor([4.0]).requiringGrad()
        a.grad = Tensor([3.0, 0]); b.grad = Tensor([4.0])
        XCTAssertEqual(clipGradNorm([a, b], maxNorm: 1), 5, accuracy: 1e-12)
        XCTAssertEqual(a.grad!.scalars(as: Double.self)[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(b.grad!.scalars(as: Double.self)[0], 0.8, accuracy: 1e-6)
        b.grad = Tensor([-4.0])
        clipGradValue([b], maxValue: 0.5)
        XCTAssertEqual(b.grad!.scalars(as: Double.self), [-0.5])
    }
}
