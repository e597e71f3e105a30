import ArgumentParser
import Fathom
import Foundation

/// `fathom ssl`: SimCLR self-supervised pre-training of a small CNN encoder, then the
/// standard evaluations of the frozen representation — linear probe and weighted k-NN —
/// against baselines with the same encoder: randomly initialized (no training) and trained
/// with labels (cross-entropy) for the same number of steps. RankMe of the representation
/// is logged during training.
struct SSL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssl", abstract: "Self-supervised SimCLR pre-training with linear-probe, k-NN and RankMe evaluation.")

    @Option(help: "Dataset: shapes or mnist.") var dataset = "shapes"
    @Option(help: "Directory with the MNIST files (default: the download cache).") var dataDir: String?
    @Option(help: "Optimization steps (ignored when --epochs is given).") var steps = 200
    @Option(help: "Epochs over the training images (overrides --steps).") var epochs: Int?
    @Option(help: "Images per batch (each gives two views).") var batchSize = 128
    @Option(help: "NT-Xent temperature τ.") var temperature = 0.5
    @Option(help: "Adam learning rate of SimCLR and the supervised baseline.") var lr = 1e-3
    @Option(help: "Seed of the initialization, batch order and augmentations.") var seed: UInt64 = 0
    @Option(help: "Baselines: comma-separated random,supervised, or none.") var baseline = "random,supervised"
    @Option(help: "Training images (shapes are generated; MNIST uses the first ones).") var trainCount = 6000
    @Option(help: "Test images for the probes.") var testCount = 2000
    @Option(help: "Encoder width w (channels w, 2w, 4w; representation 4w).") var width = 16
    @Option(help: "Output dimension of the projection head.") var projectionDim = 64
    @Option(help: "Log loss and RankMe every N steps.") var logEvery = 25
    @Option(help: "Training images whose representations RankMe is computed on.") var rankmeSamples = 1024
    @Option(help: "Adam epochs of the linear probe.") var probeEpochs = 50
    @Option(help: "Neighbours of the k-NN evaluation.") var k = 20
    @Option(help: "Run directory (default: runs/ssl-<dataset>-seed<seed>).") var out: String?

    private var baselines: [String] {
        baseline == "none" ? [] : baseline.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func validate() throws {
        if !["shapes", "mnist"].contains(dataset) { throw ValidationError("--dataset must be shapes or mnist, got \(dataset)") }
        if steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if batchSize < 2 { throw ValidationError("--batch-size must be at least 2 (NT-Xent needs negatives), got \(batchSize)") }
        if !(temperature > 0) || !(lr > 0) { throw ValidationError("--temperature and --lr must be positive") }
        if let bad = baselines.first(where: { !["random", "supervised"].contains($0) }) {
            throw ValidationError("--baseline takes random, supervised (comma-separated) or none; got \(bad)")
        }
        if trainCount < batchSize { throw ValidationError("--train-count (\(trainCount)) must be at least --batch-size (\(batchSize))") }
        if testCount < 1 || width < 1 || projectionDim < 1 || logEvery < 1 || rankmeSamples < 2 || probeEpochs < 1 || k < 1 {
            throw ValidationError("--test-count, --width, --projection-dim, --log-every, --probe-epochs, --k must be ≥ 1 and --rankme-samples ≥ 2")
        }
    }

    func run() throws {
        let started = Date()
        let directory = dataDir.map { URL(fileURLWithPath: $0) }
        let train = try DatasetCatalog.load(dataset, split: .train, directory: directory, shapesCount: trainCount, seed: seed).prefix(trainCount)
        let test = try DatasetCatalog.load(dataset, split: .test, directory: directory, shapesCount: testCount, seed: seed).prefix(testCount)
        let trainBatch = train.batch(at: Array(0..<train.count)), testBatch = test.batch(at: Array(0..<test.count))
        let classCount = train.classCount, inputChannels = train.imageShape[0]
        let stepsPerEpoch = train.count / batchSize
        let totalSteps = epochs.map { $0 * stepsPerEpoch } ?? steps
        let normalizer = InputNormalizer(DatasetCatalog.normalization(dataset))
        let trainImages = normalizer(trainBatch.inputs), testImages = normalizer(testBatch.inputs)
        let rankmeImages = trainImages.select([.range(start: 0, end: Swift.min(rankmeSamples, train.count))])

        let outDirectory = URL(fileURLWithPath: out ?? "runs/ssl-\(dataset)-seed\(seed)")
        let run = try RunDirectory(outDirectory, config: [
            "command": "ssl", "dataset": dataset, "steps": totalSteps, "batch_size": batchSize, "temperature": temperature,
            "lr": lr, "seed": Int(seed), "baselines": baselines, "train_count": train.count, "test_count": test.count,
            "width": width, "projection_dim": projectionDim, "log_every": logEvery, "rankme_samples": rankmeImages.shape[0],
            "probe_epochs": probeEpochs, "k": k, "knn_temperature": 0.07, "optimizer": "adam",
            "augmentation": "random resized crop (0.2-1, 3/4-4/3), flip 0.5, jitter 0.8 (b 0.4, c 0.4), blur 0.5 (sigma 0.1-2)",
        ])
        print("SimCLR on \(dataset): \(train.count) train / \(test.count) test images, \(totalSteps) steps of \(batchSize) images "
              + "(two views each), τ = \(temperature)")

        // SimCLR.
        let simclrEncoder = ConvEncoder(inputChannels: inputChannels, width: width, generator: Generator(seed: seed))
        let simclr = SimCLR(encoder: simclrEncoder,
                            projector: ProjectionHead(inFeatures: simclrEncoder.featureCount, outFeatures: projectionDim,
                                                      generator: Generator(seed: seed &+ 1)),
                            temperature: temperature)
        let optimizer = Adam(simclr.parameters(), lr: lr)
        let views = TwoViewAugmentation()
        var losses: [(step: Int, loss: Double)] = [], ranks: [(step: Int, rank: Double, projection: Double)] = []
        func logRank(_ step: Int, loss: Double?) throws {
            let h = simclr.features(rankmeImages)
            let z = noGrad { () -> Tensor in
                simclr.eval()
                defer { simclr.train() }
                return simclr.projector(h)
            }
            let rank = rankMe(h), projected = rankMe(z)
            ranks.append((step, rank, projected))
            var record: [String: Any] = ["step": step, "rankme": rank, "rankme_projection": projected,
                                         "seconds": Date().timeIntervalSince(started)]
            if let loss { record["loss"] = loss }
            try run.log(record)
            print(String(format: "step %d/%d  loss %@  RankMe %.2f (projection %.2f)", step, totalSteps,
                         loss.map { String(format: "%.4f", $0) } ?? "-", rank, projected))
        }
        try logRank(0, loss: nil)
        let simclrStart = Date()
        forEachBatch(totalSteps, examples: train.count) { step, indices in
            let images = trainBatch.inputs.indexSelect(axis: 0, index: indices)
            let loss = simclr.trainStep(images, augmentation: views, seed: seed &* 1_000_003 &+ UInt64(step),
                                        optimizer: optimizer, normalize: { normalizer($0) })
            losses.append((step, loss))
            if step % logEvery == 0 || step == totalSteps { try? logRank(step, loss: loss) }
        }
        let simclrSeconds = Date().timeIntervalSince(simclrStart)
        let result = evaluate(simclrEncoder, trainImages: trainImages, trainLabels: trainBatch.labels, testImages: testImages,
                              testLabels: testBatch.labels, rankmeImages: rankmeImages, classCount: classCount)
        print(String(format: "SimCLR: linear probe %.2f%%, k-NN %.2f%%, RankMe %.2f (%.0f s of training)",
                     100 * result.probe, 100 * result.knn, result.rank, simclrSeconds))

        var summary: [String: Any] = [
            "dataset": dataset, "steps": totalSteps, "batch_size": batchSize, "temperature": temperature, "seed": Int(seed),
            "linear_probe_accuracy": result.probe, "knn_accuracy": result.knn, "rankme": result.rank,
            "rankme_projection": ranks.last?.projection ?? NSNull(), "final_loss": losses.last?.loss ?? NSNull(),
            "initial_loss": losses.first?.loss ?? NSNull(), "train_seconds": simclrSeconds,
            "representation_dim": simclrEncoder.featureCount, "knn_k": k, "knn_temperature": 0.07,
        ]
        var report = Report(title: "SimCLR on \(dataset) (seed \(seed))", paragraph:
            "SimCLR (Chen et al. 2020): a \(simclrEncoder.featureCount)-dimensional conv encoder (widths \(width)-\(2 * width)-\(4 * width), "
            + "BN, global average pooling) with a Linear-BN-ReLU-Linear projection head to \(projectionDim) dimensions, trained "
            + "with NT-Xent (τ = \(temperature)) on two augmented views per image for \(totalSteps) steps of \(batchSize) images "
            + "(Adam, lr \(lr)). Evaluation on the frozen encoder: a linear probe (logistic regression on standardized features, "
            + "Adam, \(probeEpochs) epochs, test accuracy) and a weighted k-NN (cosine similarity, k = \(k), votes exp(s/0.07), as "
            + "InstDisc/DINO). RankMe (Garrido et al. 2023) of the representations of \(rankmeImages.shape[0]) training images. "
            + "Baselines use the same encoder: random initialization, and cross-entropy training with labels for the same steps.")
        report.add("linear probe accuracy (SimCLR)", result.probe)
        report.add("k-NN accuracy (SimCLR)", result.knn)
        report.add("RankMe (SimCLR)", result.rank)

        var baselineSummary: [String: Any] = [:]
        for name in baselines {
            let encoder = ConvEncoder(inputChannels: inputChannels, width: width, generator: Generator(seed: seed))
            var extra: [String: Any] = [:]
            if name == "supervised" {
                let (seconds, finalLoss) = trainSupervised(encoder, images: trainBatch.inputs, labels: trainBatch.labels,
                                                           classCount: classCount, steps: totalSteps, normalizer: normalizer)
                extra = ["train_seconds": seconds, "final_loss": finalLoss]
            }
            let r = evaluate(encoder, trainImages: trainImages, trainLabels: trainBatch.labels, testImages: testImages,
                             testLabels: testBatch.labels, rankmeImages: rankmeImages, classCount: classCount)
            baselineSummary[name] = ["linear_probe_accuracy": r.probe, "knn_accuracy": r.knn, "rankme": r.rank].merging(extra) { a, _ in a }
            summary["\(name)_linear_probe_accuracy"] = r.probe
            summary["\(name)_knn_accuracy"] = r.knn
            report.add("linear probe / k-NN accuracy, RankMe (\(name))", String(format: "%.4f / %.4f, %.2f", r.probe, r.knn, r.rank))
            print(String(format: "%@ encoder: linear probe %.2f%%, k-NN %.2f%%, RankMe %.2f", name, 100 * r.probe, 100 * r.knn, r.rank))
        }
        summary["baselines"] = baselineSummary

        var lossPlot = SVGPlot(title: "SimCLR NT-Xent loss on \(dataset)", xLabel: "step", yLabel: "NT-Xent loss")
        lossPlot.add("loss", x: losses.map { Double($0.step) }, y: losses.map(\.loss))
        try lossPlot.write(to: run.file("loss.svg"))
        var rankPlot = SVGPlot(title: "RankMe of the embeddings during SimCLR", xLabel: "step", yLabel: "RankMe")
        rankPlot.add("encoder (\(simclrEncoder.featureCount)-d)", x: ranks.map { Double($0.step) }, y: ranks.map(\.rank))
        rankPlot.add("projection (\(projectionDim)-d)", x: ranks.map { Double($0.step) }, y: ranks.map(\.projection))
        try rankPlot.write(to: run.file("rankme.svg"))
        try writeEmbeddingPCA(extractFeatures(simclrEncoder, images: testImages.select([.range(start: 0, end: Swift.min(test.count, 1000))])),
                              labels: testBatch.labels.scalars(as: Int64.self).map(Int.init),
                              title: "PCA of SimCLR encoder features (test images)", labelName: { "class \($0)" },
                              to: run.file("embeddings_pca.svg"))
        report.image("NT-Xent loss", "loss.svg")
        report.image("RankMe of encoder and projection embeddings", "rankme.svg")
        report.image("PCA of the SimCLR encoder's test features, coloured by class", "embeddings_pca.svg")
        try run.writeSummary(summary)
        try report.write(to: run.file("report.md"))
        print("run directory \(outDirectory.path)")
    }

    /// Calls `body(step, indices)` for steps 1…`count`, each with `batchSize` indices of a
    /// seeded permutation per epoch (the last partial batch of an epoch is dropped).
    private func forEachBatch(_ count: Int, examples: Int, _ body: (Int, Tensor) -> Void) {
        let perEpoch = examples / batchSize
        var order = Tensor.randperm(examples, seed: seed)
        for step in 1...count {
            let position = (step - 1) % perEpoch
            if position == 0 && step > 1 { order = Tensor.randperm(examples, seed: seed &+ UInt64(step)) }
            body(step, order.select([.range(start: position * batchSize, end: (position + 1) * batchSize)]))
        }
    }

    /// Cross-entropy training of `encoder` + a linear head, one augmented view per image,
    /// the same batches, steps and optimizer as SimCLR. Returns seconds and the last loss.
    private func trainSupervised(_ encoder: ConvEncoder, images: Tensor, labels: Tensor, classCount: Int, steps: Int,
                                 normalizer: InputNormalizer) -> (Double, Double) {
        let head = Linear(encoder.featureCount, classCount, generator: Generator(seed: seed &+ 2))
        let model = Sequential(encoder, head)
        let optimizer = Adam(model.parameters(), lr: lr)
        let augmentation = SimCLRAugmentation()
        let start = Date()
        var last = 0.0
        model.train()
        forEachBatch(steps, examples: labels.shape[0]) { step, indices in
            let x = normalizer(augmentation(images.indexSelect(axis: 0, index: indices), seed: seed &* 1_000_003 &+ UInt64(step)))
            let loss = crossEntropy(model(x), labels.indexSelect(axis: 0, index: indices))
            loss.backward()
            optimizer.step()
            optimizer.zeroGrad()
            last = loss.item()
        }
        return (Date().timeIntervalSince(start), last)
    }

    private func evaluate(_ encoder: Layer, trainImages: Tensor, trainLabels: Tensor, testImages: Tensor, testLabels: Tensor,
                          rankmeImages: Tensor, classCount: Int) -> (probe: Double, knn: Double, rank: Double) {
        let trainFeatures = extractFeatures(encoder, images: trainImages), testFeatures = extractFeatures(encoder, images: testImages)
        let probe = LinearProbe.fit(features: trainFeatures, labels: trainLabels, classCount: classCount, epochs: probeEpochs,
                                    seed: seed)
        let knn = KNNClassifier(features: trainFeatures, labels: trainLabels, classCount: classCount, k: k, temperature: 0.07)
        return (probe.accuracy(features: testFeatures, labels: testLabels), knn.accuracy(features: testFeatures, labels: testLabels),
                rankMe(extractFeatures(encoder, images: rankmeImages)))
    }
}
