import FathomNN
import FathomTensor
import Foundation

/// Settings of a small vanilla tanh RNN trained on the delayed-activation task: a single input
/// pulse at step 1 (zero afterwards), a sigmoid read-out y_t = σ(gain·(w·h_t + b)) that must
/// be 0 before step `delay` and 1 from it on, the mean squared error over the trial, plain SGD.
///
/// The best constant output (½) leaves a loss of ¼; the network sits on that plateau until
/// its recurrent dynamics grow a slow region (a ghost) that times the switch, then the loss
/// drops abruptly.
public struct DelayedActivationRNNConfig: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var delay: Int
    /// Trial length in steps (default 2·delay).
    public var horizon: Int
    public var gain: Double
    public var learningRate: Double
    public var steps: Int
    public var seed: UInt64

    public init(hiddenSize: Int = 16, delay: Int = 10, horizon: Int? = nil, gain: Double = 1,
                learningRate: Double = 0.05, steps: Int = 800, seed: UInt64 = 0) {
        precondition(hiddenSize >= 1 && delay >= 1 && steps >= 2, "DelayedActivationRNNConfig: sizes and steps must be positive")
        self.hiddenSize = hiddenSize; self.delay = delay; self.horizon = horizon ?? 2 * delay
        precondition(self.horizon > delay, "DelayedActivationRNNConfig: horizon \(self.horizon) must exceed delay \(delay)")
        self.gain = gain; self.learningRate = learningRate; self.steps = steps; self.seed = seed
    }
}

/// The loss curve of one RNN run and its plateau/drop analysis (see `LossCurveAnalysis`).
public struct DelayedActivationRNNRun: Codable, Sendable {
    public var config: DelayedActivationRNNConfig
    /// The loss before each update.
    public var losses: [Double]
    public var analysis: LossCurveAnalysis
    /// Fraction of the trial's steps whose thresholded output (y > ½) matches the target, at the end.
    public var finalAccuracy: Double
}

/// Trains a fresh `RNN(1, hiddenSize)` + `Linear(hiddenSize, 1)` read-out on the
/// delayed-activation task (float32, full-trial gradient every step).
public func trainDelayedActivationRNN(_ config: DelayedActivationRNNConfig) -> DelayedActivationRNNRun {
    let generator = Generator(seed: config.seed)
    let rnn = RNN(1, config.hiddenSize, generator: generator)
    let readout = Linear(config.hiddenSize, 1, generator: generator)
    var pulse = [Float](repeating: 0, count: config.horizon)
    pulse[0] = 1
    let input = Tensor(pulse, shape: [1, config.horizon, 1])
    let targets = (1...config.horizon).map { Float($0 >= config.delay ? 1 : 0) }
    let target = Tensor(targets, shape: [1, config.horizon, 1])
    let optimizer = SGD(rnn.parameters() + readout.parameters(), lr: config.learningRate)
    var losses: [Double] = []
    var outputs: [Float] = []
    for _ in 0..<config.steps {
        optimizer.zeroGrad()
        let y = (readout(rnn(input).output) * config.gain).sigmoid()
        let loss = (y - target).square().mean()
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
        outputs = y.detach().scalars(as: Float.self)
    }
    let correct = zip(outputs, targets).filter { ($0 > 0.5) == ($1 > 0.5) }.count
    return DelayedActivationRNNRun(config: config, losses: losses, analysis: LossCurveAnalysis(losses: losses),
                                   finalAccuracy: Double(correct) / Double(config.horizon))
}
