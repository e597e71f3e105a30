import ArgumentParser
import Fathom
import Foundation

/// `fathom reid generate`: generative augmentation for re-ID and its per-sample quality.
/// A conditional VAE learns the source training set; M images per identity are generated,
/// scored in the feature space of a re-ID model trained on real data only
/// (`GeneratedSampleQuality`: identity consistency + diversity), and three re-ID models
/// with one seed and one budget are compared — real only, real + all generated, real +
/// the kept generated images.
struct ReIDGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Augment re-ID training with cVAE-generated images; compare no, all and quality-filtered generated data.")

    @OptionGroup var data: ReIDDataOptions
    @OptionGroup var training: ReIDTrainOptions
    @Option(help: "Epochs of each re-ID model (P×K batches over the identities: the same steps with or without generated images).") var epochs = 60
    @Option(help: "Base channel width of the re-ID backbone.") var width = 16
    @Option(help: "Seed of the re-ID weights and batch order (shared by the three models) and of the generator.") var seed: UInt64 = 0
    @Option(help: "Scorer: a model.safetensors from fathom reid train (default: the real-only model trained here).") var checkpoint: String?
    @Option(help: "Generated images per identity (M).") var perIdentity = 8
    @Option(help: "cVAE training steps.") var generatorSteps = 3000
    @Option(help: "cVAE batch size.") var generatorBatch = 64
    @Option(help: "cVAE Adam learning rate.") var generatorLr = 1e-3
    @Option(help: "cVAE latent dimensions.") var latents = 16
    @Option(help: "cVAE hidden width.") var hidden = 256
    @Option(help: "cVAE KL weight β.") var beta = 1.0
    @Option(help: "Sampling temperature: z ~ N(0, t²I).") var temperature = 1.0
    @Option(help: "Consistency threshold: this quantile of the real images' cosines to their centroids.") var consistencyQuantile = 0.1
    @Option(help: "Near-copy distance: this fraction of the median real nearest-same-identity distance.") var nearCopyFraction = 0.5
    @Option(help: "Run directory (default: runs/reid-generate-s<seed>).") var out: String?

    func validate() throws {
        if epochs < 1 || width < 1 || perIdentity < 1 || generatorSteps < 1 || generatorBatch < 1 || latents < 1 || hidden < 1 {
            throw ValidationError("--epochs, --width, --per-identity, --generator-steps, --generator-batch, --latents and --hidden must be positive")
        }
        if !(0...1).contains(consistencyQuantile) { throw ValidationError("--consistency-quantile must lie in [0, 1], got \(consistencyQuantile)") }
        if nearCopyFraction < 0 { throw ValidationError("--near-copy-fraction must not be negative") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: out ?? "runs/reid-generate-s\(seed)")
        let run = try RunDirectory(directory, config: data.config.merging([
            "command": "reid generate", "epochs": epochs, "width": width, "seed": Int(seed), "p": training.p, "k": training.k,
            "lr": training.lr, "per_identity": perIdentity, "generator_steps": generatorSteps, "generator_batch": generatorBatch,
            "generator_lr": generatorLr, "latents": latents, "hidden": hidden, "beta": beta, "temperature": temperature,
            "consistency_quantile": consistencyQuantile, "near_copy_fraction": nearCopyFraction,
            "checkpoint": checkpoint ?? NSNull(),
        ]) { a, _ in a })
        let source = data.dataset(.source)
        let samples = source.train
        let images = source.images(samples)
        let labels = samples.map(\.identity)
        let side = source.imageSize
        let start = Date()

        // 1. The conditional generator.
        print("Training the cVAE on \(samples.count) images of \(data.trainIds) identities, \(generatorSteps) steps.")
        let cvae = ConditionalVAE(imageShape: [1, side, side], identityCount: data.trainIds, latentCount: latents,
                                  hidden: hidden, generator: Generator(seed: seed &+ 100))
        let records = cvae.train(images: images, labels: labels, steps: generatorSteps, batchSize: generatorBatch,
                                 lr: generatorLr, beta: beta, logEvery: Swift.max(1, generatorSteps / 50),
                                 generator: Generator(seed: seed &+ 101))
        for r in records {
            try run.log(["phase": "cvae", "step": r.step, "loss": r.total, "reconstruction": r.reconstruction, "kl": r.kl])
        }
        if let last = records.last { print(String(format: "cVAE: reconstruction %.2f, KL %.2f per image", last.reconstruction, last.kl)) }
        let sampling = Generator(seed: seed &+ 102)
        let generatedParts = (0..<data.trainIds).map { cvae.generate(identity: $0, count: perIdentity, temperature: temperature, generator: sampling) }
        let generated = Tensor.cat(generatedParts, axis: 0)
        let generatedLabels = (0..<data.trainIds).flatMap { Array(repeating: $0, count: perIdentity) }
        let generatorSeconds = Date().timeIntervalSince(start)

        // 2. Three re-ID models, one seed, one budget.
        func trainModel(_ name: String, _ x: Tensor, _ y: [Int]) throws -> ReIDNet {
            let model = ReIDNet(classCount: data.trainIds, width: width, generator: Generator(seed: seed))
            let trainer = ReIDTrainer(model: model, config: training.config(seed: seed))
            for epoch in 0..<epochs {
                trainer.setLearningRate(epoch >= (3 * epochs) / 4 && epochs >= 4 ? training.lr * 0.1 : training.lr)
                let stats = trainer.trainEpoch(images: x, labels: y)
                try run.log(["phase": name, "epoch": epoch + 1, "id_loss": stats.idLoss, "triplet_loss": stats.tripletLoss,
                             "train_accuracy": stats.accuracy])
            }
            return model
        }
        print("Training the real-only re-ID model (\(epochs) epochs).")
        let realModel = try trainModel("real", images, labels)
        let scorer = try checkpoint.map { try loadReIDCheckpoint($0).model } ?? realModel

        // 3. Per-sample quality in the scorer's feature space.
        var qualityConfig = GeneratedSampleQualityConfig()
        qualityConfig.realConsistencyQuantile = consistencyQuantile
        qualityConfig.nearCopyFraction = nearCopyFraction
        let quality = GeneratedSampleQuality(realFeatures: extractFeatures(scorer, images: images), realLabels: labels,
                                             generatedFeatures: extractFeatures(scorer, images: generated),
                                             generatedLabels: generatedLabels, config: qualityConfig)
        let kept = quality.keptIndices
        let drops = quality.dropCounts
        print(String(format: "kept %d of %d generated images (%.1f%%); τ = %.3f, δ = %.3f; dropped: %@", kept.count, generatedLabels.count,
                     100 * quality.keptFraction, quality.consistencyThreshold, quality.distanceThreshold,
                     drops.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", ")))

        print("Training real + all generated.")
        let allModel = try trainModel("all_generated", Tensor.cat([images, generated], axis: 0), labels + generatedLabels)
        print("Training real + filtered generated.")
        let filteredModel: ReIDNet
        if kept.isEmpty {
            print("no generated image passed the filter: the filtered model is the real-only model")
            filteredModel = realModel
        } else {
            let keptImages = generated.indexSelect(axis: 0, index: Tensor(kept.map(Int64.init)))
            filteredModel = try trainModel("filtered", Tensor.cat([images, keptImages], axis: 0), labels + kept.map { generatedLabels[$0] })
        }

        let real = evaluateReID([realModel], on: source, rerank: nil)
        let all = evaluateReID([allModel], on: source, rerank: nil)
        let filtered = evaluateReID([filteredModel], on: source, rerank: nil)
        print("real only:            " + real.line)
        print("real + all generated: " + all.line)
        print("real + filtered:      " + filtered.line)

        // JSON has no NaN: an empty mean is written as null.
        func mean(_ values: [Double]) -> Any { values.isEmpty ? NSNull() : values.reduce(0, +) / Double(values.count) }
        let scores = quality.scores
        var summary: [String: Any] = [
            "map_real": real.plain.mAP, "map_all_generated": all.plain.mAP, "map_filtered": filtered.plain.mAP,
            "rank1_real": real.plain.rank(1), "rank1_all_generated": all.plain.rank(1), "rank1_filtered": filtered.plain.rank(1),
            "kept_fraction": quality.keptFraction, "kept_count": kept.count, "generated_count": generatedLabels.count,
            "consistency_threshold": quality.consistencyThreshold, "distance_threshold": quality.distanceThreshold,
            "mean_consistency": mean(scores.map(\.consistency)),
            "mean_consistency_kept": mean(scores.filter(\.keep).map(\.consistency)),
            "nearest_is_own_fraction": Double(scores.filter { $0.nearestIdentity == $0.identity }.count) / Double(Swift.max(scores.count, 1)),
            "mean_nearest_real_distance": mean(scores.map(\.nearestRealDistance)),
            "generator_seconds": generatorSeconds, "total_seconds": Date().timeIntervalSince(start),
            "cvae_reconstruction": records.last?.reconstruction ?? 0, "cvae_kl": records.last?.kl ?? 0,
        ]
        for reason in [GeneratedSampleDropReason.wrongIdentity, .lowConsistency, .nearCopyOfReal, .nearCopyOfGenerated] {
            summary["dropped_" + reason.rawValue] = drops[reason] ?? 0
        }
        try run.writeSummary(summary)
        try writeSampleGrid(real: images, realLabels: labels, generated: generated, quality: quality, to: run.file("samples.png"))

        var report = Report(title: "Generated data for re-ID (cVAE augmentation, per-sample quality filter)", paragraph:
            "A conditional VAE (identity embedding at the encoder input and beside z; Bernoulli decoder; \(generatorSteps) steps) "
            + "generated \(perIdentity) images per training identity. Each was scored in the feature space of "
            + (checkpoint == nil ? "the real-only model" : "the checkpoint \(checkpoint!)")
            + ": kept iff its nearest real centroid is its own identity, its cosine to that centroid is at least τ (the "
            + "\(consistencyQuantile) quantile of the real images' cosines) and it is at least δ (\(nearCopyFraction) × the median "
            + "real nearest-neighbour distance) from every real image and every kept generated image of its identity. Three "
            + "re-ID models (seed \(seed), \(epochs) epochs of P×K = \(training.p)×\(training.k)) were trained on real, real + all, "
            + "real + kept images and evaluated on the source query/gallery.")
        report.add("mAP real / all / filtered", String(format: "%.3f / %.3f / %.3f", real.plain.mAP, all.plain.mAP, filtered.plain.mAP))
        report.add("rank-1 real / all / filtered", String(format: "%.3f / %.3f / %.3f", real.plain.rank(1), all.plain.rank(1), filtered.plain.rank(1)))
        report.add("kept", String(format: "%d of %d (%.1f%%)", kept.count, generatedLabels.count, 100 * quality.keptFraction))
        report.add("τ / δ", String(format: "%.3f / %.3f", quality.consistencyThreshold, quality.distanceThreshold))
        report.add("dropped by reason", drops.map { "\($0.key.rawValue): \($0.value)" }.sorted().joined(separator: ", "))
        report.image("Rows: identities. First two columns real (gray frame), then generated: kept (green) or dropped (red)", "samples.png")
        try report.write(to: run.file("report.md"))
        print("run directory \(directory.path)")
    }

    /// A grid: one row per identity (up to 10), two real images in gray frames, then up to
    /// 10 generated images framed green (kept) or red (dropped).
    private func writeSampleGrid(real: Tensor, realLabels: [Int], generated: Tensor, quality: GeneratedSampleQuality, to url: URL) throws {
        let side = real.shape[2], tile = side + 4
        let rows = Swift.min(10, data.trainIds), generatedColumns = Swift.min(10, perIdentity), columns = 2 + generatedColumns
        let width = columns * tile, height = rows * tile
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        let realValues = real.contiguous().scalars(as: Float.self), generatedValues = generated.contiguous().scalars(as: Float.self)
        func paint(row: Int, column: Int, values: [Float], image: Int, frame: (UInt8, UInt8, UInt8)) {
            let x0 = column * tile, y0 = row * tile
            for y in 0..<tile { for x in 0..<tile where y < 2 || y >= tile - 2 || x < 2 || x >= tile - 2 {
                let p = ((y0 + y) * width + x0 + x) * 3
                (pixels[p], pixels[p + 1], pixels[p + 2]) = frame
            } }
            for y in 0..<side { for x in 0..<side {
                let v = UInt8(Swift.min(255, Swift.max(0, (values[image * side * side + y * side + x] * 255).rounded())))
                let p = ((y0 + 2 + y) * width + x0 + 2 + x) * 3
                (pixels[p], pixels[p + 1], pixels[p + 2]) = (v, v, v)
            } }
        }
        for row in 0..<rows {
            let realIndices = realLabels.indices.filter { realLabels[$0] == row }
            for (c, i) in realIndices.prefix(2).enumerated() { paint(row: row, column: c, values: realValues, image: i, frame: (128, 128, 128)) }
            for c in 0..<generatedColumns {
                let g = row * perIdentity + c
                paint(row: row, column: 2 + c, values: generatedValues, image: g,
                      frame: quality.scores[g].keep ? (0, 190, 0) : (220, 0, 0))
            }
        }
        try PNG.write(PNGImage(width: width, height: height, channels: 3, pixels: pixels), to: url)
    }
}
