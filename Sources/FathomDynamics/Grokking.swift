import FathomNN
import FathomTensor
import Foundation

/// The modular-addition task of the grokking literature (Power et al. 2022): every pair
/// `(a, b)` in `0..<p` × `0..<p` labeled `(a + b) mod p`, split at random (seeded) into a
/// training set of `Int(trainFraction · p²)` pairs and a test set of the rest.
public struct ModularAddition {
    public let p: Int
    /// `[n, 2]` int64 operands and `[n]` int64 labels of each split.
    public let trainInputs: Tensor, trainLabels: Tensor, testInputs: Tensor, testLabels: Tensor

    public init(p: Int, trainFraction: Double, seed: UInt64) {
        precondition(p >= 2, "Fathom.ModularAddition: p must be at least 2, got \(p)")
        precondition(trainFraction > 0 && trainFraction < 1, "Fathom.ModularAddition: trainFraction must be in (0, 1), got \(trainFraction)")
        self.p = p
        var order = Array(0..<(p * p))
        var generator = Generator(seed: seed)
        order.shuffle(using: &generator)
        let trainCount = Swift.max(1, Swift.min(p * p - 1, Int(trainFraction * Double(p * p))))
        func split(_ indices: ArraySlice<Int>) -> (Tensor, Tensor) {
            let pairs = indices.flatMap { [Int64($0 / p), Int64($0 % p)] }
            let labels = indices.map { Int64(($0 / p + $0 % p) % p) }
            return (Tensor(pairs, shape: [indices.count, 2]), Tensor(labels, shape: [indices.count]))
        }
        (trainInputs, trainLabels) = split(order[..<trainCount])
        (testInputs, testLabels) = split(order[trainCount...])
    }
}

/// The grokking model: one embedding table shared by both operands; the two embeddings are
/// concatenated and fed to a one-hidden-layer ReLU MLP that scores the `p` answers.
/// Input `[n, 2]` int64, output `[n, p]` logits. State-dict keys `embedding.weight`,
/// `hidden.weight`, `hidden.bias`, `output.weight`, `output.bias`.
public final class GrokkingMLP: Layer {
    public let embedding: Embedding
    public let hidden: Linear
    public let output: Linear

    public init(p: Int, embeddingDim: Int = 128, hiddenDim: Int = 256, generator: Generator? = nil) {
        embedding = Embedding(p, embeddingDim, generator: generator)
        hidden = Linear(2 * embeddingDim, hiddenDim, generator: generator)
        output = Linear(hiddenDim, p, generator: generator)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let e = embedding(input)  // [n, 2, d]
        return output(hidden(e.reshaped([input.shape[0], 2 * embedding.embeddingDim])).relu())
    }
}

/// Settings of a grokking run (`fathom grok`). Defaults: p = 97, 40% of the pairs for
/// training, full-batch AdamW (lr 1e-3, β₂ 0.98, weight decay 1), softmax cross-entropy.
public struct GrokkingConfig: Sendable {
    public enum Loss: String, Sendable, CaseIterable {
        /// Softmax cross-entropy in float32 (`crossEntropy`).
        case softmax
        /// StableMax cross-entropy, computed in float64 as the authors do (`stableMaxCrossEntropy`).
        case stablemax
    }

    public enum OptimizerKind: String, Sendable, CaseIterable {
        /// AdamW (decoupled weight decay).
        case adamw
        /// ⊥AdamW: `PerpendicularGradient` around AdamW.
        case perpAdamW = "perp-adamw"
    }

    public var p = 97
    public var trainFraction = 0.4
    public var steps = 3000
    public var lr = 1e-3
    public var weightDecay = 1.0
    public var beta1 = 0.9
    public var beta2 = 0.98
    public var loss = Loss.softmax
    public var optimizer = OptimizerKind.adamw
    public var embeddingDim = 128
    public var hiddenDim = 256
    /// Metrics are recorded every `logEvery` steps (and after the last step).
    public var logEvery = 50
    /// Seeds the split (`seed`) and the initialization (`seed + 1`).
    public var seed: UInt64 = 0

    public init() {}
}

/// Metrics of the model after `step` full-batch updates (step 0: at initialization).
public struct GrokkingRecord: Sendable {
    public var step: Int
    public var trainLoss: Double, trainAccuracy: Double
    public var testLoss: Double, testAccuracy: Double
    /// Sum of squares of all parameters (weight decay and ⊥Grad act on it).
    public var weightNormSquared: Double
}

/// The outcome of `trainGrokking`.
public struct GrokkingResult: Sendable {
    public var config: GrokkingConfig
    public var trainCount: Int, testCount: Int
    public var parameterCount: Int
    public var history: [GrokkingRecord]
    /// The first recorded step at which training accuracy is ≥ 99% (nil: never). Steps count
    /// updates taken, so the resolution is `logEvery`: the threshold was crossed after step
    /// `trainAccuracy99Step − logEvery` and at or before `trainAccuracy99Step`.
    public var trainAccuracy99Step: Int?
    /// The first recorded step at which test accuracy is ≥ 99% (nil: never), same resolution.
    /// Grokking is `testAccuracy99Step` ≫ `trainAccuracy99Step` (delayed generalization).
    public var testAccuracy99Step: Int?
    public var seconds: Double

    public var final: GrokkingRecord { history[history.count - 1] }
}

/// Trains `GrokkingMLP` on `ModularAddition` full-batch (one update per step on the whole
/// training set, float32 model), recording train and test loss and accuracy every
/// `config.logEvery` steps; `onRecord` sees each record as it is made (progress, logs).
/// The training metrics of a record come from the forward pass of the next update, so
/// recording costs only the test-set forward.
public func trainGrokking(_ config: GrokkingConfig, onRecord: ((GrokkingRecord) -> Void)? = nil) -> GrokkingResult {
    precondition(config.steps >= 0 && config.logEvery > 0, "Fathom.trainGrokking: need steps >= 0 and logEvery > 0")
    let data = ModularAddition(p: config.p, trainFraction: config.trainFraction, seed: config.seed)
    let model = GrokkingMLP(p: config.p, embeddingDim: config.embeddingDim, hiddenDim: config.hiddenDim,
                            generator: Generator(seed: config.seed &+ 1))
    let parameters = model.parameters()
    let adamW = Adam(groups: [ParameterGroup(parameters, Adam.Options(
        lr: config.lr, beta1: config.beta1, beta2: config.beta2, epsilon: 1e-8,
        weightDecay: config.weightDecay, decoupledWeightDecay: true))])
    let optimizer: Optimizer = config.optimizer == .adamw ? adamW : PerpendicularGradient(adamW)

    func lossAndAccuracy(_ logits: Tensor, _ labels: Tensor) -> (loss: Tensor, accuracy: Double) {
        let loss = config.loss == .softmax ? crossEntropy(logits, labels)
                                           : stableMaxCrossEntropy(logits.to(.float64), labels)
        let correct = noGrad { logits.detach().argmax(axis: 1).eq(labels).to(.float64).mean().item() }
        return (loss, correct)
    }
    func normSquared() -> Double { noGrad { parameters.reduce(0) { $0 + ($1 * $1).sum().item() } } }
    func test() -> (Double, Double) {
        noGrad {
            let (loss, accuracy) = lossAndAccuracy(model(data.testInputs), data.testLabels)
            return (loss.item(), accuracy)
        }
    }

    var history: [GrokkingRecord] = []
    func record(_ step: Int, _ trainLoss: Double, _ trainAccuracy: Double) {
        let (testLoss, testAccuracy) = test()
        let r = GrokkingRecord(step: step, trainLoss: trainLoss, trainAccuracy: trainAccuracy, testLoss: testLoss,
                               testAccuracy: testAccuracy, weightNormSquared: normSquared())
        history.append(r)
        onRecord?(r)
    }

    let start = Date()
    model.train()
    for step in 0...config.steps {
        let logits = model(data.trainInputs)
        let (loss, accuracy) = lossAndAccuracy(logits, data.trainLabels)
        if step % config.logEvery == 0 || step == config.steps { record(step, loss.item(), accuracy) }
        if step == config.steps { break }  // the last forward only measures
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
    }
    let seconds = Date().timeIntervalSince(start)
    return GrokkingResult(
        config: config, trainCount: data.trainLabels.shape[0], testCount: data.testLabels.shape[0],
        parameterCount: parameters.reduce(0) { $0 + $1.shape.reduce(1, *) }, history: history,
        trainAccuracy99Step: history.first { $0.trainAccuracy >= 0.99 }?.step,
        testAccuracy99Step: history.first { $0.testAccuracy >= 0.99 }?.step, seconds: seconds)
}
