import FathomNN
import FathomTensor
import Foundation

// The ghost-mechanism toy of Dinc et al., "A ghost mechanism: an analytical model of abrupt
// learning" (arXiv 2501.02378): a one-dimensional system dx/dt = a·x² + r trained so that a
// sigmoid read-out of x switches on after a delay. For r < 0 the flow has a stable fixed point
// and x never crosses the read-out threshold; for small r > 0 the fixed points are gone but
// their "ghost" near x = 0 slows x down for ~π/√(a·r), so the switch time is set by r. Training
// r by gradient descent shows a long plateau, then a sudden drop when the ghost's passage time
// first fits inside the trial; too large a learning rate overshoots into an oscillatory minimum
// or into a no-learning zone (x escapes before the delay, the read-out saturates, gradients
// vanish).

/// Settings of the ghost-mechanism toy model and its delayed-activation task.
///
/// The system is Euler-discretised, x_{t+1} = clamp(x_t + dt·(a·x_t² + r), ±xMax), from x_0 = x0,
/// for `horizon` steps; the read-out is y_t = σ(gain·x_t) and the target is 0 for t < `delay`
/// and 1 from step `delay` on (steps counted from 1). The loss is the mean squared error
/// over the trial. `gain` is the read-out confidence (the inverse temperature of the sigmoid).
public struct GhostModelConfig: Codable, Sendable, Equatable {
    /// The step T at which the output must switch on.
    public var delay: Int
    /// The trial length in steps (default 2·delay).
    public var horizon: Int
    /// The Euler time step.
    public var dt: Double
    /// The initial state x_0.
    public var x0: Double
    /// The initial r (negative: a stable fixed point exists, the output never switches on).
    public var r0: Double
    /// The initial quadratic coefficient a.
    public var a0: Double
    /// The read-out gain (confidence): y = σ(gain·x).
    public var gain: Double
    /// States are clamped to [−xMax, xMax] (the continuous system blows up in finite time).
    public var xMax: Double
    /// Also train a (the "extra trainable rank": a sloppy second parameter, since only the
    /// product a·r sets the passage time).
    public var trainQuadratic: Bool

    public init(delay: Int = 20, horizon: Int? = nil, dt: Double = 0.5, x0: Double = -1, r0: Double = -0.5,
                a0: Double = 1, gain: Double = 5, xMax: Double = 10, trainQuadratic: Bool = false) {
        precondition(delay >= 1, "GhostModelConfig: delay must be at least 1, got \(delay)")
        self.delay = delay
        self.horizon = horizon ?? 2 * delay
        precondition(self.horizon > delay, "GhostModelConfig: horizon \(self.horizon) must exceed delay \(delay)")
        self.dt = dt; self.x0 = x0; self.r0 = r0; self.a0 = a0; self.gain = gain; self.xMax = xMax
        self.trainQuadratic = trainQuadratic
    }

    /// The target of every step: 0 before `delay`, 1 from it on.
    public var targets: [Double] { (1...horizon).map { $0 >= delay ? 1 : 0 } }
}

/// The ghost-mechanism model evaluated for K independent copies at once ("lanes"), each with
/// its own parameters; lanes never interact, so one backward pass of the summed loss gives
/// every lane its own gradient (used to sweep learning rates in one run).
public struct GhostModel {
    public var config: GhostModelConfig
    public init(_ config: GhostModelConfig) { self.config = config }

    /// The per-lane loss `[K]` (recorded on the tape) for parameters r and a (`[K]` each,
    /// float64) and read-out gains (`[K]` or one element).
    public func loss(r: Tensor, a: Tensor, gain: Tensor) -> Tensor {
        (outputs(r: r, a: a, gain: gain) - targetTensor(dtype: r.dtype)).square().mean(axes: [0])
    }

    /// The read-out y_t of every step and lane, `[horizon, K]`.
    public func outputs(r: Tensor, a: Tensor, gain: Tensor) -> Tensor {
        var x = Tensor.full(r.shape, config.x0, dtype: r.dtype)
        var ys: [Tensor] = []
        ys.reserveCapacity(config.horizon)
        for _ in 0..<config.horizon {
            x = (x + (a * x * x + r) * config.dt).clamp(min: -config.xMax, max: config.xMax)
            ys.append((x * gain).sigmoid())
        }
        return Tensor.stack(ys, axis: 0)
    }

    /// The targets as a `[horizon, 1]` column (broadcast over lanes).
    func targetTensor(dtype: DType) -> Tensor {
        Tensor(config.targets, shape: [config.horizon, 1], dtype: dtype)
    }
}

/// What gradient descent did with one learning rate.
public enum LearningOutcome: String, Codable, Sendable {
    /// The loss fell below half its initial value and settled.
    case learned
    /// The loss keeps jumping in the last tenth of training (the oscillatory minimum, or a
    /// drop still under way).
    case oscillating
    /// The loss stayed high and settled: the no-learning zone (or a plateau not yet left).
    case noLearning = "no_learning"
}

/// Plateau and drop of a loss curve.
///
/// With L₀ the first loss and L_end the mean loss of the last tenth of the steps:
/// - `plateauSteps`: the first step whose loss is at most L₀ − ½(L₀ − L_end), i.e. how long
///   the loss took to cover half its total decrease (nil when it did not decrease);
/// - `dropStep`: the step with the largest one-step decrease L_{s−1} − L_s;
/// - `dropFraction`: that largest decrease over the total decrease L₀ − L_end — near 0 for
///   smooth learning, a sizeable fraction (≥ 0.1) for a sudden drop;
/// - `abrupt`: the loss at least halved, `dropFraction` ≥ 0.1 and the drop came after a
///   plateau of at least 10 steps.
public struct LossCurveAnalysis: Codable, Sendable, Equatable {
    public var initialLoss: Double
    public var finalLoss: Double
    /// max − min of the loss over the last tenth of the steps.
    public var finalSpread: Double
    public var plateauSteps: Int?
    public var dropStep: Int?
    public var dropFraction: Double
    public var abrupt: Bool

    public init(losses: [Double]) {
        precondition(losses.count >= 2, "LossCurveAnalysis: need at least 2 losses, got \(losses.count)")
        let window = losses.suffix(max(1, losses.count / 10))
        initialLoss = losses[0]
        finalLoss = window.reduce(0, +) / Double(window.count)
        finalSpread = window.max()! - window.min()!
        let decrease = initialLoss - finalLoss, half = initialLoss - 0.5 * decrease
        if decrease > 0 {
            plateauSteps = losses.firstIndex { $0 <= half }
            var best = 0.0, at = 1
            for s in 1..<losses.count where losses[s - 1] - losses[s] > best { best = losses[s - 1] - losses[s]; at = s }
            dropStep = best > 0 ? at : nil
            dropFraction = best / decrease
        } else {
            plateauSteps = nil; dropStep = nil; dropFraction = 0
        }
        abrupt = finalLoss <= 0.5 * initialLoss && dropFraction >= 0.1 && (plateauSteps ?? 0) >= 10
    }

    /// learned / oscillating / no-learning, by the thresholds of `LearningOutcome`: a spread in
    /// the last tenth above 5% of L₀ is oscillating.
    public var outcome: LearningOutcome {
        if finalSpread > 0.05 * initialLoss { return .oscillating }
        return finalLoss <= 0.5 * initialLoss ? .learned : .noLearning
    }
}

/// One gradient-descent run of the ghost model at one learning rate.
public struct AbruptLearningRun: Codable, Sendable {
    public var learningRate: Double
    public var gain: Double
    /// The loss before each update (step 0 is the initial loss).
    public var losses: [Double]
    public var finalR: Double
    public var finalA: Double
    /// |∇L| at the last step (tiny in the no-learning zone).
    public var finalGradientNorm: Double
    public var analysis: LossCurveAnalysis
    public var outcome: LearningOutcome { analysis.outcome }
}

/// Trains one ghost model per (learning rate, gain) lane with plain gradient descent,
/// r ← r − η·∂L/∂r (and a likewise when `config.trainQuadratic`), gradients from the tape.
///
/// - Parameters:
///   - gains: one read-out gain per lane (default: `config.gain` for all).
///   - steps: gradient steps (the curve has `steps` losses).
public func trainGhostModel(_ config: GhostModelConfig, learningRates: [Double], gains: [Double]? = nil,
                            steps: Int) -> [AbruptLearningRun] {
    precondition(!learningRates.isEmpty && steps >= 2, "trainGhostModel: need learning rates and at least 2 steps")
    let gainValues = gains ?? Array(repeating: config.gain, count: learningRates.count)
    precondition(gainValues.count == learningRates.count,
                 "trainGhostModel: \(gainValues.count) gains for \(learningRates.count) learning rates; pass one per lane")
    let k = learningRates.count
    let model = GhostModel(config)
    var r = [Double](repeating: config.r0, count: k), a = [Double](repeating: config.a0, count: k)
    let gain = Tensor(gainValues, shape: [k], dtype: .float64)
    var curves = [[Double]](repeating: [], count: k)
    var gradNorm = [Double](repeating: 0, count: k)
    for _ in 0..<steps {
        let rT = Tensor(r, shape: [k], dtype: .float64).requiringGrad()
        let aT = Tensor(a, shape: [k], dtype: .float64).requiringGrad(config.trainQuadratic)
        let loss = model.loss(r: rT, a: aT, gain: gain)
        let values = loss.scalars(as: Double.self)
        let wrt = config.trainQuadratic ? [rT, aT] : [rT]
        let grads = gradients(of: [loss.sum()], wrt: wrt).map { $0.scalars(as: Double.self) }
        for i in 0..<k {
            curves[i].append(values[i])
            let gr = grads[0][i], ga = config.trainQuadratic ? grads[1][i] : 0
            gradNorm[i] = (gr * gr + ga * ga).squareRoot()
            r[i] -= learningRates[i] * gr
            if config.trainQuadratic { a[i] -= learningRates[i] * ga }
        }
    }
    return (0..<k).map { i in
        AbruptLearningRun(learningRate: learningRates[i], gain: gainValues[i], losses: curves[i], finalR: r[i],
                          finalA: a[i], finalGradientNorm: gradNorm[i], analysis: LossCurveAnalysis(losses: curves[i]))
    }
}

/// A learning-rate sweep of the ghost model and its critical learning rate.
public struct LearningRateSweep: Codable, Sendable {
    public var runs: [AbruptLearningRun]
    /// The smallest swept rate above a rate that learned whose run failed (oscillating or no
    /// learning): beyond it gradient descent no longer converges. Nil if none failed.
    public var criticalLearningRate: Double?
    /// The largest rate below `criticalLearningRate` that learned.
    public var largestLearnedRate: Double?
    /// The smallest rate above the critical one at which the run ended in the no-learning
    /// zone (loss settled high, read-out saturated).
    public var noLearningZoneOnset: Double?

    public init(runs: [AbruptLearningRun]) {
        let sorted = runs.sorted { $0.learningRate < $1.learningRate }
        self.runs = sorted
        var sawLearned = false
        for run in sorted {
            if run.outcome == .learned { sawLearned = true; largestLearnedRate = run.learningRate; continue }
            if sawLearned { criticalLearningRate = run.learningRate; break }
        }
        if let critical = criticalLearningRate {
            noLearningZoneOnset = sorted.first { $0.learningRate >= critical && $0.outcome == .noLearning }?.learningRate
        }
    }

    /// `count` log-spaced rates from `low` to `high`, both included.
    public static func logSpaced(from low: Double, to high: Double, count: Int) -> [Double] {
        precondition(low > 0 && high > low && count >= 2, "logSpaced: need 0 < low < high and count ≥ 2")
        let step = Foundation.log(high / low) / Double(count - 1)
        return (0..<count).map { low * Foundation.exp(step * Double($0)) }
    }
}

/// Sweeps `learningRates` (one lane each, all trained together) and finds the critical rate.
public func sweepLearningRates(_ config: GhostModelConfig, learningRates: [Double], gain: Double? = nil,
                               steps: Int) -> LearningRateSweep {
    let gains = Array(repeating: gain ?? config.gain, count: learningRates.count)
    return LearningRateSweep(runs: trainGhostModel(config, learningRates: learningRates, gains: gains, steps: steps))
}
