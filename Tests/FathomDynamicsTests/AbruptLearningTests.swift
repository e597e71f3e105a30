import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomDynamics

/// The ghost-mechanism toy (dx/dt = a·x² + r, sigmoid read-out, delayed activation).
final class AbruptLearningTests: XCTestCase {
    /// The loss's gradient with respect to r and a (through the Euler recursion, the clamp
    /// and the sigmoid read-out) matches central differences in float64.
    func testLossGradientMatchesFiniteDifferences() {
        let model = GhostModel(GhostModelConfig(delay: 5, gain: 3))
        let gain = Tensor([3.0, 1.5], shape: [2], dtype: .float64)
        // r below and above the bifurcation; neither trajectory reaches the clamp.
        let r = Tensor([-0.3, 0.2], shape: [2], dtype: .float64), a = Tensor([1.0, 0.8], shape: [2], dtype: .float64)
        checkGradients([r, a]) { xs in model.loss(r: xs[0], a: xs[1], gain: gain).sum() }
    }

    /// The target switches on at step `delay`; the trajectory for r < 0 never does.
    func testTargetsAndStuckTrajectory() {
        let config = GhostModelConfig(delay: 3, horizon: 5)
        XCTAssertEqual(config.targets, [0, 0, 1, 1, 1])
        let y = GhostModel(config).outputs(r: Tensor([-0.5], shape: [1], dtype: .float64),
                                           a: Tensor([1.0], shape: [1], dtype: .float64),
                                           gain: Tensor([5.0], shape: [1], dtype: .float64)).scalars(as: Double.self)
        XCTAssertEqual(y.count, 5)
        XCTAssertTrue(y.allSatisfy { $0 < 0.5 }, "\(y)")
    }

    /// A synthetic plateau-then-cliff curve and a smooth exponential decay are told apart.
    func testLossCurveAnalysis() {
        let cliff = (0..<100).map { $0 < 60 ? 0.5 - 0.001 * Double($0) : 0.05 }
        let a = LossCurveAnalysis(losses: cliff)
        XCTAssertEqual(a.dropStep, 60)
        XCTAssertEqual(a.plateauSteps, 60)
        XCTAssertTrue(a.abrupt)
        XCTAssertEqual(a.outcome, .learned)
        let smooth = LossCurveAnalysis(losses: (0..<100).map { 0.5 * exp(-0.05 * Double($0)) })
        XCTAssertFalse(smooth.abrupt, "dropFraction \(smooth.dropFraction)")
        XCTAssertEqual(LossCurveAnalysis(losses: [0.5, 0.5, 0.5]).outcome, .noLearning)
        XCTAssertEqual(LossCurveAnalysis(losses: (0..<20).map { $0 % 2 == 0 ? 0.5 : 0.1 }).outcome, .oscillating)
    }

    /// A short run at a small learning rate: a long plateau, then most of the decrease in a
    /// few steps, ending with a small r > 0 (a ghost, not a fixed point, times the switch).
    func testPlateauThenSuddenDrop() throws {
        let config = GhostModelConfig(delay: 10)
        let run = trainGhostModel(config, learningRates: [0.01], steps: 250)[0]
        XCTAssertEqual(run.outcome, .learned)
        let plateau = try XCTUnwrap(run.analysis.plateauSteps), drop = try XCTUnwrap(run.analysis.dropStep)
        XCTAssertGreaterThan(plateau, 100, "the loss should sit on a plateau first")
        XCTAssertLessThan(abs(drop - plateau), 10, "the drop should be sudden (plateau \(plateau), drop \(drop))")
        XCTAssertTrue(run.analysis.abrupt)
        XCTAssertGreaterThan(run.losses[plateau - 20], 0.35, "still on the plateau 20 steps before the drop")
        XCTAssertLessThan(run.analysis.finalLoss, 0.2)
        XCTAssertGreaterThan(run.finalR, 0, "learning crossed the bifurcation into the ghost regime")
        XCTAssertLessThan(run.finalR, 1)
    }

    /// Sweeping the learning rate: small rates learn, larger ones oscillate or fall into the
    /// no-learning zone (saturated read-out, vanishing gradient), so a critical rate exists.
    func testSweepFindsCriticalRateAndNoLearningZone() throws {
        let rates = [0.01, 0.3, 3.0]
        let sweep = sweepLearningRates(GhostModelConfig(delay: 10), learningRates: rates, steps: 250)
        XCTAssertEqual(sweep.runs.map(\.learningRate), rates)
        XCTAssertEqual(sweep.runs[0].outcome, .learned)
        XCTAssertEqual(sweep.largestLearnedRate, 0.01)
        XCTAssertEqual(sweep.criticalLearningRate, 0.3)
        let stuck = sweep.runs[2]
        XCTAssertEqual(stuck.outcome, .noLearning)
        XCTAssertEqual(sweep.noLearningZoneOnset, 3.0)
        XCTAssertGreaterThan(stuck.analysis.finalLoss, 0.4, "a confident wrong output")
        XCTAssertLessThan(stuck.finalGradientNorm, 1e-3, "gradients vanish in the no-learning zone")
        let rates4 = LearningRateSweep.logSpaced(from: 0.01, to: 1, count: 3)
        XCTAssertEqual(rates4[1], 0.1, accuracy: 1e-12)
    }
}
