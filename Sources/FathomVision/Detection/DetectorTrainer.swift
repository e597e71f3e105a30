// A small, deterministic training loop for `AnchorFreeDetector` on `ShapesDetectionDataset`.

import Foundation
import FathomData
import FathomNN
import FathomTensor

/// How `DetectorTrainer` optimises.
public struct DetectorTrainingOptions: Sendable {
    /// The optimiser.
    public enum OptimizerKind: String, Sendable, CaseIterable {
        /// AdamW (decoupled weight decay).
        case adamw
        /// SGD with Nesterov momentum 0.9.
        case sgd
    }

    public var loss: DetectorLossOptions
    /// Optimiser steps (one batch each).
    public var steps: Int
    public var batchSize: Int = 16
    /// Peak learning rate (after warm-up).
    public var lr: Double = 6e-3
    public var weightDecay: Double = 0.05
    public var optimizer: OptimizerKind = .adamw
    /// Linear warm-up steps from lr/10 (then cosine decay to lr/20 over the remaining steps).
    public var warmupSteps: Int = 50
    /// Gradient-norm clipping (≤ 0: none).
    public var clipNorm: Double = 10
    /// Seed of the batch order (the weights are seeded by the detector's own seed).
    public var seed: UInt64 = 0
    /// Steps per loss-curve record (the record is the mean over the window).
    public var logEvery: Int = 10

    public init(loss: DetectorLossOptions, steps: Int, batchSize: Int = 16, lr: Double = 6e-3, weightDecay: Double = 0.05,
                optimizer: OptimizerKind = .adamw, warmupSteps: Int = 50, clipNorm: Double = 10, seed: UInt64 = 0, logEvery: Int = 10) {
        self.loss = loss
        self.steps = steps
        self.batchSize = batchSize
        self.lr = lr
        self.weightDecay = weightDecay
        self.optimizer = optimizer
        self.warmupSteps = warmupSteps
        self.clipNorm = clipNorm
        self.seed = seed
        self.logEvery = logEvery
    }
}

/// One point of the loss curve: means over the steps since the previous record.
public struct DetectorTrainingRecord: Sendable {
    public let step: Int
    public let loss: Double
    public let classification: Double
    public let box: Double
    /// Mean positives per image.
    public let positivesPerImage: Double
    /// Mean IoU of the positives' boxes with their objects.
    public let meanIoU: Double
    public let lr: Double
}

/// Trains a detector for a fixed step budget, epochs of shuffled images (the order a function of
/// `options.seed` and the epoch), and returns the loss curve.
public final class DetectorTrainer {
    public let detector: AnchorFreeDetector
    public let dataset: ShapesDetectionDataset
    public let options: DetectorTrainingOptions
    public let optimizer: any Optimizer
    private let scheduler: LRScheduler
    /// Steps taken so far.
    public private(set) var step = 0
    private var order: [Int] = []
    private var cursor = 0
    private var epoch = 0

    public init(detector: AnchorFreeDetector, dataset: ShapesDetectionDataset, options: DetectorTrainingOptions) {
        precondition(options.steps >= 0 && options.batchSize > 0 && dataset.count > 0,
                     "Fathom.DetectorTrainer: need steps ≥ 0, batchSize > 0 and a non-empty dataset")
        self.detector = detector
        self.dataset = dataset
        self.options = options
        let parameters = detector.parameters()
        switch options.optimizer {
        case .adamw: optimizer = AdamW(parameters, lr: options.lr, weightDecay: options.weightDecay)
        case .sgd: optimizer = SGD(parameters, lr: options.lr, momentum: 0.9, weightDecay: options.weightDecay, nesterov: true)
        }
        let warmup = Swift.max(1, Swift.min(options.warmupSteps, options.steps / 2))
        scheduler = LRScheduler(optimizer, LinearWarmup(steps: warmup, startFactor: 0.1, endFactor: 1,
                                                        then: CosineAnnealingLR(tMax: Swift.max(1, options.steps - warmup), minLR: options.lr / 20)))
    }

    /// The next batch's image indices (reshuffled every epoch; a partial last batch is dropped
    /// when the dataset holds at least one full batch).
    private func nextIndices() -> [Int] {
        let size = Swift.min(options.batchSize, dataset.count)
        if cursor + size > order.count {
            order = Tensor.randperm(dataset.count, seed: options.seed &+ UInt64(epoch) &* 0x9E37_79B9).scalars(as: Int64.self).map { Int($0) }
            cursor = 0
            epoch += 1
        }
        defer { cursor += size }
        return Array(order[cursor..<(cursor + size)])
    }

    /// One optimiser step on the next batch; returns its loss terms.
    @discardableResult
    public func trainStep() -> DetectorLossTerms {
        detector.train()
        let (images, objects) = dataset.batch(at: nextIndices())
        let output = detector(images)
        let terms = detectorLoss(output, priors: detector.priors(height: images.shape[2], width: images.shape[3]),
                                 groundTruth: objects.map { DetectorGroundTruth($0, rotated: detector.config.rotated) },
                                 options: options.loss)
        optimizer.zeroGrad()
        terms.total.backward()
        if options.clipNorm > 0 { _ = clipGradNorm(detector.parameters(), maxNorm: options.clipNorm) }
        optimizer.step()
        scheduler.step()
        step += 1
        return terms
    }

    /// Runs the remaining steps of the budget; `progress` sees each record as it is made.
    @discardableResult
    public func train(progress: ((DetectorTrainingRecord) -> Void)? = nil) -> [DetectorTrainingRecord] {
        var curve: [DetectorTrainingRecord] = []
        var sums = (loss: 0.0, cls: 0.0, box: 0.0, positives: 0.0, iou: 0.0, count: 0.0)
        let every = Swift.max(1, options.logEvery)
        while step < options.steps {
            let lr = optimizer.learningRates.first ?? options.lr
            let terms = trainStep()
            sums.loss += terms.total.item()
            sums.cls += terms.classification.item()
            sums.box += terms.box.item()
            sums.positives += Double(terms.positives) / Double(Swift.min(options.batchSize, dataset.count))
            sums.iou += terms.meanIoU
            sums.count += 1
            if step % every == 0 || step == options.steps {
                let record = DetectorTrainingRecord(step: step, loss: sums.loss / sums.count, classification: sums.cls / sums.count,
                                                    box: sums.box / sums.count, positivesPerImage: sums.positives / sums.count,
                                                    meanIoU: sums.iou / sums.count, lr: lr)
                curve.append(record)
                progress?(record)
                sums = (0, 0, 0, 0, 0, 0)
            }
        }
        return curve
    }
}
