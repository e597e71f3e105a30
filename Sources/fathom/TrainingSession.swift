import Fathom
import Foundation

/// One `fathom train` run: builds data, model, optimizer and schedule from a config,
/// restores a checkpoint when resuming, trains with progress and metrics, evaluates each
/// epoch and writes the summary.
struct TrainingSession {
    let config: TrainingConfig
    let resuming: Bool

    func run() throws {
        if let threads = config.threads { setNumThreads(threads) }
        let recipe = config.recipe
        let directory = URL(fileURLWithPath: config.out)
        let dataDirectory = config.dataDir.map { URL(fileURLWithPath: $0) }
        // Procedural data is generated only as far as the limit needs (example i depends only on the seed and i).
        var train = try DatasetCatalog.load(config.dataset, split: .train, directory: dataDirectory,
                                            shapesCount: config.trainLimit, seed: config.baseSeed)
        if let limit = config.trainLimit { train = train.prefix(limit) }
        let test = try DatasetCatalog.load(config.dataset, split: .test, directory: dataDirectory, seed: config.baseSeed)
        let normalizer = InputNormalizer(DatasetCatalog.normalization(config.dataset))

        manualSeed(config.baseSeed)
        let model = try ModelZoo.make(config.model, inputShape: train.imageShape, classCount: train.classCount)
        let optimizer = try recipe.makeOptimizer(model.parameters())
        if config.spawn?.step == 0 { manualSeed(config.seed) }  // branching before the first step
        func augmented(seed: UInt64) -> TransformedDataset<ImageDataset> {
            TransformedDataset(train, transform: Compose([RandomCrop(size: train.imageShape[1], padding: 4), RandomHorizontalFlip()]),
                               seed: seed)
        }
        let batchesPerEpoch = DataLoader(train, batchSize: recipe.batchSize, shuffle: true).batchCount
        let scheduler = LRScheduler(optimizer, try recipe.makeSchedule(totalSteps: batchesPerEpoch * recipe.epochs))
        let run = try RunDirectory(directory, config: config.json)
        let checkpointURL = run.file("checkpoint.safetensors")

        var progress = Progress(epoch: 0, step: 0)
        if resuming {
            let checkpoint = try TrainingCheckpoint.load(from: checkpointURL)
            try model.load(stateDict: checkpoint.model)
            try optimizer.load(stateDict: checkpoint.optimizer)
            scheduler.resume(at: checkpoint.schedulerStep)
            Generator.default.state = checkpoint.generator
            progress = Progress(epoch: checkpoint.epoch, step: checkpoint.step)
            print("Resuming \(directory.path) at epoch \(checkpoint.epoch + 1), step \(checkpoint.step).")
        }
        print("Training \(config.model) on \(config.dataset): \(train.count) train / \(test.count) test examples, "
              + "\(model.parameterCount) parameters, \(recipe.optimizer) lr \(recipe.lr), batch \(recipe.batchSize), "
              + "\(recipe.epochs) epochs, \(numThreads()) threads.")

        func saveCheckpoint(_ progress: Progress) throws {
            try TrainingCheckpoint(model: model.stateDict(), optimizer: optimizer.stateDict(), epoch: progress.epoch,
                                   step: progress.step, schedulerStep: scheduler.stepCount,
                                   generator: Generator.default.state,
                                   metadata: ["model": config.model, "dataset": config.dataset])
                .save(to: checkpointURL)
        }

        var trainSeconds = 0.0
        var lastTest = (loss: Double.nan, accuracy: Double.nan)
        let loop = TrainingLoop(model: model, optimizer: optimizer, scheduler: scheduler, normalizer: normalizer,
                                run: run, checkpointEvery: config.checkpointEvery)
        while progress.epoch < recipe.epochs {
            let started = Date()
            let position = progress.step - progress.epoch * batchesPerEpoch
            // A spawned run follows its parent's seed until the branch point, then its own.
            let seed = config.seed(atStep: progress.step)
            let branch = config.spawn.map(\.step).flatMap { $0 > progress.step ? $0 : nil }
            let epochResult: (loss: Double, accuracy: Double)
            if recipe.augment {
                let loader = DataLoader(augmented(seed: seed), batchSize: recipe.batchSize, shuffle: true, seed: seed)
                epochResult = try loop.epoch(loader, from: position, progress: &progress, total: recipe.epochs,
                                             stopAt: branch, save: saveCheckpoint)
            } else {
                let loader = DataLoader(train, batchSize: recipe.batchSize, shuffle: true, seed: seed)
                epochResult = try loop.epoch(loader, from: position, progress: &progress, total: recipe.epochs,
                                             stopAt: branch, save: saveCheckpoint)
            }
            if let branch, progress.step == branch {
                // Branch point: dropout and other draws now follow this run's seed.
                manualSeed(config.seed)
                print("Branched from \(config.spawn!.parent) at step \(branch); continuing with seed \(config.seed).")
                if progress.step - progress.epoch * batchesPerEpoch < batchesPerEpoch { continue }
            }
            let seconds = Date().timeIntervalSince(started)
            trainSeconds += seconds
            lastTest = evaluate(model, on: test, normalizer: normalizer)
            progress.epoch += 1
            try saveCheckpoint(progress)
            try run.log(["epoch": progress.epoch, "step": progress.step, "train_loss": epochResult.loss,
                         "train_accuracy": epochResult.accuracy, "test_loss": lastTest.loss,
                         "test_accuracy": lastTest.accuracy, "epoch_seconds": seconds])
            print(String(format: "epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  %.1f s",
                         progress.epoch, recipe.epochs, epochResult.loss, epochResult.accuracy * 100,
                         lastTest.loss, lastTest.accuracy * 100, seconds))
        }
        if lastTest.loss.isNaN { lastTest = evaluate(model, on: test, normalizer: normalizer) }
        let imagesPerSecond = trainSeconds > 0 ? Double(train.count * recipe.epochs) / trainSeconds : 0
        try run.writeSummary([
            "test_accuracy": lastTest.accuracy, "test_loss": lastTest.loss, "epochs": recipe.epochs,
            "train_seconds": trainSeconds, "images_per_second": imagesPerSecond, "seed": config.seed,
            "model": config.model, "dataset": config.dataset, "steps": progress.step,
        ])
        print(String(format: "test accuracy %.2f%%; run directory %@", lastTest.accuracy * 100, directory.path))
    }
}

/// How far training has got.
struct Progress {
    /// Epochs completed.
    var epoch: Int
    /// Optimizer steps taken.
    var step: Int
}

/// Subtracts the dataset's channel means and divides by its standard deviations.
struct InputNormalizer {
    let mean: Tensor?, std: Tensor?

    init(_ statistics: (mean: [Float], std: [Float])?) {
        mean = statistics.map { Tensor($0.mean, shape: [1, $0.mean.count, 1, 1]) }
        std = statistics.map { Tensor($0.std, shape: [1, $0.std.count, 1, 1]) }
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        guard let mean, let std else { return x }
        return (x - mean) / std
    }
}

/// Test loss and accuracy of `model` on `data`, normalized as in training (the library's
/// `evaluate(_:on:)`: evaluation mode, no gradients, modes restored).
func evaluate(_ model: Layer, on data: ImageDataset, normalizer: InputNormalizer, batchSize: Int = 1000) -> (loss: Double, accuracy: Double) {
    let batches = DataLoader(data, batchSize: batchSize, prefetch: 0).epoch(0).map {
        Batch(inputs: normalizer($0.inputs), labels: $0.labels)
    }
    let result = FathomDynamics.evaluate(model, on: batches)
    return (result.loss, 1 - result.error)
}
