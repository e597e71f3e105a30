import FathomNN
import FathomTensor

/// Linear-probe evaluation of frozen representations: multinomial logistic regression on
/// the features, the standard protocol of SimCLR/MoCo/BYOL papers (there: SGD/L-BFGS on
/// ImageNet features; here a fixed budget of Adam epochs).
///
/// Features are standardized with the training set's per-dimension mean and standard
/// deviation first (a fixed affine map, so still a linear probe), which makes one learning
/// rate work across encoders whose feature scales differ by orders of magnitude.
public struct LinearProbe {
    public let classifier: Linear
    public let mean: Tensor, std: Tensor
    /// Training cross-entropy after the last epoch.
    public let finalLoss: Double

    /// Fits the probe on `features` `[N, D]` (float32) and int64 `labels` `[N]`.
    ///
    /// - Parameters:
    ///   - epochs: passes over the data (the fixed budget), minibatches of `batchSize` in a
    ///     seeded random order.
    ///   - lr: Adam learning rate; `weightDecay`: L2 penalty (Adam's coupled form).
    public static func fit(features: Tensor, labels: Tensor, classCount: Int, epochs: Int = 100, batchSize: Int = 256,
                           lr: Double = 1e-2, weightDecay: Double = 1e-4, seed: UInt64 = 0) -> LinearProbe {
        precondition(features.rank == 2 && labels.rank == 1 && labels.shape[0] == features.shape[0] && labels.dtype == .int64,
                     "Fathom.LinearProbe.fit: need features [N, D] and int64 labels [N], got \(features.shape) and \(labels.dtype) \(labels.shape)")
        precondition(classCount >= 2 && epochs >= 1 && batchSize >= 1, "Fathom.LinearProbe.fit: need classCount ≥ 2, epochs ≥ 1, batchSize ≥ 1")
        let x = features.to(.float32).detach()
        let mean = x.mean(axis: 0, keepDims: true)
        let std = (x.variance(axes: [0], correction: 0, keepDims: true) + 1e-6).sqrt()
        let z = ((x - mean) / std).contiguous()
        let generator = Generator(seed: seed)
        let classifier = Linear(x.shape[1], classCount, generator: generator)
        let optimizer = Adam(classifier.parameters(), lr: lr, weightDecay: weightDecay)
        let n = x.shape[0]
        var lastLoss = 0.0
        for _ in 0..<epochs {
            let order = Tensor.randperm(n, generator: generator)
            var total = 0.0
            for start in stride(from: 0, to: n, by: batchSize) {
                let index = order.select([.range(start: start, end: Swift.min(start + batchSize, n))])
                let loss = crossEntropy(classifier(z.indexSelect(axis: 0, index: index)), labels.indexSelect(axis: 0, index: index))
                loss.backward()
                optimizer.step()
                optimizer.zeroGrad()
                total += loss.item() * Double(index.shape[0])
            }
            lastLoss = total / Double(n)
        }
        return LinearProbe(classifier: classifier, mean: mean, std: std, finalLoss: lastLoss)
    }

    /// Predicted classes (int64 `[N]`) of `features` `[N, D]`.
    public func predict(_ features: Tensor) -> Tensor {
        noGrad { classifier((features.to(.float32) - mean) / std).argmax(axis: 1) }
    }

    /// Fraction of `features` whose predicted class equals `labels`.
    public func accuracy(features: Tensor, labels: Tensor) -> Double {
        let n = Swift.max(labels.count, 1)
        return noGrad { predict(features).eq(labels).to(.float64).sum().item() } / Double(n)
    }
}
