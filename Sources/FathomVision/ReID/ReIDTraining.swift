import FathomNN
import FathomTensor

/// Hyperparameters of `ReIDTrainer` (BoT-style defaults scaled to the shapes task).
public struct ReIDTrainingConfig: Sendable {
    /// Identities per batch (P) and images per identity (K).
    public var p: Int = 16, k: Int = 4
    public var lr: Double = 1e-3
    public var weightDecay: Double = 5e-4
    /// Triplet margin (BoT: 0.3) and ID-loss label smoothing ε (BoT: 0.1).
    public var margin: Double = 0.3
    public var labelSmoothing: Double = 0.1
    /// Weights of the two losses in `idWeight·ID + tripletWeight·triplet`.
    public var idWeight: Double = 1, tripletWeight: Double = 1
    /// Seed of the P×K batch order.
    public var seed: UInt64 = 0

    public init() {}
}

/// Means over one epoch.
public struct ReIDEpochStats: Sendable {
    public var idLoss: Double, tripletLoss: Double
    /// Training accuracy of the ID classifier.
    public var accuracy: Double
    public var batches: Int
}

/// Trains a `ReIDNet` with the BoT recipe: ID loss (cross-entropy with label smoothing) on
/// the BNNeck logits plus batch-hard triplet loss on the pooled features, P×K batches, Adam.
public final class ReIDTrainer {
    public let model: ReIDNet
    public let config: ReIDTrainingConfig
    public private(set) var optimizer: Adam
    private var epoch = 0

    public init(model: ReIDNet, config: ReIDTrainingConfig) {
        self.model = model
        self.config = config
        optimizer = Adam(model.trainableParameters(), lr: config.lr, weightDecay: config.weightDecay)
    }

    /// A new optimizer over the current parameters (after `resetClassifier`: the old one
    /// still holds the previous classifier), with fresh Adam moments.
    public func resetOptimizer() {
        optimizer = Adam(model.trainableParameters(), lr: config.lr, weightDecay: config.weightDecay)
    }

    /// Sets the learning rate of every parameter group (step schedules).
    public func setLearningRate(_ lr: Double) {
        for g in optimizer.groups.indices { optimizer.groups[g].options.lr = lr }
    }

    /// One epoch over `images` `[N, C, H, W]` with identity `labels` (in `0..<classCount` of
    /// the model's classifier; negative labels are skipped), in P×K batches.
    @discardableResult
    public func trainEpoch(images: Tensor, labels: [Int]) -> ReIDEpochStats {
        precondition(images.shape[0] == labels.count, "Fathom.ReIDTrainer: \(images.shape[0]) images but \(labels.count) labels")
        let sampler = PKSampler(labels: labels, p: config.p, k: config.k, seed: config.seed)
        model.train()
        var idSum = 0.0, tripletSum = 0.0, correct = 0, seen = 0
        let batches = sampler.batches(epoch: epoch)
        for batch in batches {
            let x = images.indexSelect(axis: 0, index: Tensor(batch.map(Int64.init)))
            let y = Tensor(batch.map { Int64(labels[$0]) })
            let out = model.trainingOutput(x)
            let id = idLoss(out.logits, labels: y, epsilon: config.labelSmoothing)
            let triplet = batchHardTripletLoss(out.feature, labels: y, margin: config.margin)
            let loss = config.idWeight * id + config.tripletWeight * triplet
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            idSum += id.item()
            tripletSum += triplet.item()
            let predicted = out.logits.argmax(axis: 1).scalars(as: Int64.self)
            let truth = y.scalars(as: Int64.self)
            correct += zip(predicted, truth).filter { $0 == $1 }.count
            seen += batch.count
        }
        epoch += 1
        let n = Double(Swift.max(batches.count, 1))
        return ReIDEpochStats(idLoss: idSum / n, tripletLoss: tripletSum / n,
                              accuracy: Double(correct) / Double(Swift.max(seen, 1)), batches: batches.count)
    }
}

/// The retrieval features (post-BNNeck, evaluation mode) of `images` `[N, C, H, W]`,
/// `[N, featureCount]` float32, computed in batches without recording gradients. The
/// model's training/evaluation mode is restored afterwards.
public func extractFeatures(_ model: ReIDNet, images: Tensor, batchSize: Int = 256) -> Tensor {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    let n = images.shape[0]
    let parts: [Tensor] = noGrad {
        stride(from: 0, to: n, by: batchSize).map { start in
            model(images[start..<Swift.min(start + batchSize, n)])
        }
    }
    return parts.count == 1 ? parts[0] : Tensor.cat(parts, axis: 0)
}
