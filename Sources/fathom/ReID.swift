import ArgumentParser
import Fathom
import Foundation

/// `fathom reid`: person-re-identification analogue on procedural shape "identities" seen
/// by several "cameras" (`ShapesReID`): BoT-style training (ID + triplet loss, BNNeck),
/// Market-1501 evaluation with and without k-reciprocal re-ranking, distance ensembles,
/// and unsupervised domain adaptation by clustering pseudo-labels.
struct ReID: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reid", abstract: "Re-identification: train, evaluate (re-ranking, ensembles), adapt to a new domain.",
        subcommands: [ReIDTrain.self, ReIDEval.self, ReIDAdapt.self, ReIDGenerate.self])
}

/// The dataset flags shared by the sub-commands (stored in checkpoints so `eval` and
/// `adapt` rebuild the same splits).
struct ReIDDataOptions: ParsableArguments {
    @Option(help: "Seed of the procedural dataset (identities' appearance, cameras, images).") var dataSeed: UInt64 = 0
    @Option(help: "Training identities per domain.") var trainIds = 100
    @Option(help: "Test identities per domain (query + gallery).") var testIds = 50
    @Option(help: "Cameras per domain.") var cameras = 4
    @Option(help: "Images per identity per camera.") var imagesPerCamera = 4
    @Option(help: "Cameras that contribute queries (one image per identity each).") var queryCameras = 2
    @Option(help: "Distance of the target domain's camera conditions from the source's, 0 to 1.") var targetShift = 0.25

    func validate() throws {
        if trainIds < 2 || testIds < 2 { throw ValidationError("--train-ids and --test-ids must be at least 2") }
        if cameras < 2 || !(1...cameras).contains(queryCameras) {
            throw ValidationError("need --cameras ≥ 2 and 1 ≤ --query-cameras ≤ --cameras, got \(cameras) and \(queryCameras)")
        }
        if imagesPerCamera < 1 { throw ValidationError("--images-per-camera must be positive") }
        if !(0...1).contains(targetShift) { throw ValidationError("--target-shift must lie in [0, 1], got \(targetShift)") }
    }

    func dataset(_ domain: ShapesReID.Domain) -> ShapesReID {
        ShapesReID(seed: dataSeed, domain: domain, cameraCount: cameras, trainIdentities: trainIds, testIdentities: testIds,
                   imagesPerCamera: imagesPerCamera, queryCameras: queryCameras, targetShift: targetShift)
    }

    var metadata: [String: String] {
        ["data_seed": String(dataSeed), "train_ids": String(trainIds), "test_ids": String(testIds), "cameras": String(cameras),
         "images_per_camera": String(imagesPerCamera), "query_cameras": String(queryCameras), "target_shift": String(targetShift)]
    }

    var config: [String: Any] {
        ["data_seed": Int(dataSeed), "train_ids": trainIds, "test_ids": testIds, "cameras": cameras,
         "images_per_camera": imagesPerCamera, "query_cameras": queryCameras, "target_shift": targetShift]
    }
}

/// The flags of training runs (source training and pseudo-label rounds).
struct ReIDTrainOptions: ParsableArguments {
    @Option(help: "Identities per batch (P).") var p = 16
    @Option(help: "Images per identity per batch (K).") var k = 4
    @Option(help: "Adam learning rate.") var lr = 1e-3
    @Option(help: "Adam weight decay (L2).") var weightDecay = 5e-4
    @Option(help: "Triplet margin.") var margin = 0.3
    @Option(help: "ID-loss label smoothing ε.") var labelSmoothing = 0.1

    func validate() throws {
        if p < 2 || k < 2 { throw ValidationError("--p and --k must be at least 2 (the triplet loss needs positives and negatives)") }
        if !(lr > 0) { throw ValidationError("--lr must be positive, got \(lr)") }
    }

    func config(seed: UInt64) -> ReIDTrainingConfig {
        var c = ReIDTrainingConfig()
        c.p = p
        c.k = k
        c.lr = lr
        c.weightDecay = weightDecay
        c.margin = margin
        c.labelSmoothing = labelSmoothing
        c.seed = seed
        return c
    }
}

/// Re-ranking parameters (Zhong et al. 2017 defaults).
struct ReRankOptions: ParsableArguments {
    @Option(help: "k-reciprocal re-ranking k1.") var k1 = 20
    @Option(help: "k-reciprocal re-ranking k2 (local query expansion).") var k2 = 6
    @Option(help: "Weight λ of the original distance in the re-ranked distance.") var lambda = 0.3
}

/// Rank-k and mAP with and without re-ranking.
struct ReIDScores {
    var plain: ReIDMetrics
    var reranked: ReIDMetrics?

    func summary(prefix: String = "") -> [String: Any] {
        var s: [String: Any] = [prefix + "rank1": plain.rank(1), prefix + "rank5": plain.rank(5),
                                prefix + "rank10": plain.rank(10), prefix + "map": plain.mAP, prefix + "minp": plain.mINP]
        if let reranked {
            s[prefix + "rank1_reranked"] = reranked.rank(1)
            s[prefix + "rank5_reranked"] = reranked.rank(5)
            s[prefix + "map_reranked"] = reranked.mAP
        }
        return s
    }

    var line: String {
        var text = String(format: "rank-1 %.3f  rank-5 %.3f  rank-10 %.3f  mAP %.3f", plain.rank(1), plain.rank(5), plain.rank(10), plain.mAP)
        if let reranked { text += String(format: "  | re-ranked: rank-1 %.3f  mAP %.3f", reranked.rank(1), reranked.mAP) }
        return text
    }
}

/// Evaluates the models (one, or an ensemble averaging their distance matrices) on the
/// query/gallery split of `data`. Features are L2-normalized (BoT's test-time feature
/// norm); distances are squared Euclidean over queries and gallery together, so the same
/// matrix feeds the plain ranking and the re-ranking.
func evaluateReID(_ models: [ReIDNet], on data: ShapesReID, rerank: ReRankOptions?) -> ReIDScores {
    let query = data.query, gallery = data.gallery
    let images = data.images(query + gallery)
    let matrices = models.map { model -> Tensor in
        let f = l2Normalized(extractFeatures(model, images: images)).to(.float64)
        return noGrad { PairwiseDistance.squaredEuclidean(f, f) }
    }
    let all = matrices.count == 1 ? matrices[0] : DistanceEnsemble.combine(matrices)
    let q = query.count
    let plainDistances = all[0..<q, q...]
    let ids = (query.map(\.identity), gallery.map(\.identity))
    let cams = (query.map(\.camera), gallery.map(\.camera))
    let plain = ReIDEvaluation.evaluate(plainDistances, queryIDs: ids.0, galleryIDs: ids.1, queryCameras: cams.0, galleryCameras: cams.1)
    var reranked: ReIDMetrics?
    if let rerank {
        let result = KReciprocalReRanking.rerank(distances: all, queryCount: q, k1: rerank.k1, k2: rerank.k2, lambda: rerank.lambda)
        reranked = ReIDEvaluation.evaluate(result.distances, queryIDs: ids.0, galleryIDs: ids.1, queryCameras: cams.0, galleryCameras: cams.1)
    }
    return ReIDScores(plain: plain, reranked: reranked)
}

func l2Normalized(_ x: Tensor) -> Tensor { noGrad { x / x.norm(axis: 1, keepDims: true).clamp(min: 1e-12) } }

/// Writes the model with its width, class count and dataset settings in the metadata.
func saveReIDCheckpoint(_ model: ReIDNet, data: ReIDDataOptions, extra: [String: String] = [:], to url: URL) throws {
    var metadata = data.metadata.merging(extra) { _, b in b }
    metadata["model"] = "reidnet"
    metadata["width"] = String(model.width)
    metadata["class_count"] = String(model.classifier.outFeatures)
    try Safetensors.write(model.stateDict().entries.map { ($0.key, $0.tensor) }, metadata: metadata, to: url)
}

/// A model written by `saveReIDCheckpoint` and the dataset flags it was trained with.
func loadReIDCheckpoint(_ path: String) throws -> (model: ReIDNet, data: ReIDDataOptions) {
    let url = URL(fileURLWithPath: path)
    let (tensors, metadata) = try Safetensors.read(from: url)
    func number(_ key: String) throws -> Int {
        guard let text = metadata[key], let value = Int(text) else {
            throw ValidationFailure("\(path) is not a fathom reid checkpoint: metadata '\(key)' is missing")
        }
        return value
    }
    guard metadata["model"] == "reidnet" else { throw ValidationFailure("\(path) is not a fathom reid checkpoint (model is \(metadata["model"] ?? "absent"))") }
    let model = ReIDNet(classCount: try number("class_count"), width: try number("width"))
    try model.load(stateDict: StateDict(tensors.map { ($0.name, $0.tensor) }))
    var data = try ReIDDataOptions.parse([])
    data.dataSeed = UInt64(try number("data_seed"))
    data.trainIds = try number("train_ids")
    data.testIds = try number("test_ids")
    data.cameras = try number("cameras")
    data.imagesPerCamera = try number("images_per_camera")
    data.queryCameras = try number("query_cameras")
    data.targetShift = metadata["target_shift"].flatMap(Double.init) ?? data.targetShift
    return (model, data)
}

/// `fathom reid train`: BoT-style training on the source domain, then source evaluation.
struct ReIDTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a re-ID network (ID + triplet loss, BNNeck) on the source domain and evaluate it.")

    @OptionGroup var data: ReIDDataOptions
    @OptionGroup var training: ReIDTrainOptions
    @OptionGroup var rerank: ReRankOptions
    @Option(help: "Epochs (P×K batches over the training identities).") var epochs = 60
    @Option(help: "Base channel width of the backbone (feature size 4·width).") var width = 16
    @Option(help: "Seed of the weights and the batch order.") var seed: UInt64 = 0
    @Option(help: "Run directory (default: runs/reid-train-s<seed>).") var out: String?

    func validate() throws {
        if epochs < 1 || width < 1 { throw ValidationError("--epochs and --width must be positive") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: out ?? "runs/reid-train-s\(seed)")
        let run = try RunDirectory(directory, config: data.config.merging([
            "command": "reid train", "epochs": epochs, "width": width, "seed": Int(seed), "p": training.p, "k": training.k,
            "lr": training.lr, "weight_decay": training.weightDecay, "margin": training.margin,
            "label_smoothing": training.labelSmoothing, "k1": rerank.k1, "k2": rerank.k2, "lambda": rerank.lambda,
        ]) { a, _ in a })
        let source = data.dataset(.source)
        let samples = source.train
        let images = source.images(samples)
        let labels = samples.map(\.identity)
        let model = ReIDNet(classCount: data.trainIds, width: width, generator: Generator(seed: seed))
        let trainer = ReIDTrainer(model: model, config: training.config(seed: seed))
        print("Training on \(samples.count) images of \(data.trainIds) identities × \(data.cameras) cameras, \(epochs) epochs.")
        var idLosses: [Double] = [], tripletLosses: [Double] = []
        let start = Date()
        for epoch in 0..<epochs {
            // Step decay ×0.1 for the last quarter (BoT decays at fixed epochs).
            trainer.setLearningRate(epoch >= (3 * epochs) / 4 && epochs >= 4 ? training.lr * 0.1 : training.lr)
            let stats = trainer.trainEpoch(images: images, labels: labels)
            idLosses.append(stats.idLoss)
            tripletLosses.append(stats.tripletLoss)
            try run.log(["epoch": epoch + 1, "id_loss": stats.idLoss, "triplet_loss": stats.tripletLoss, "train_accuracy": stats.accuracy])
            print(String(format: "epoch %d  id %.4f  triplet %.4f  acc %.3f", epoch + 1, stats.idLoss, stats.tripletLoss, stats.accuracy))
        }
        let trainSeconds = Date().timeIntervalSince(start)
        let scores = evaluateReID([model], on: source, rerank: rerank)
        print("source test: " + scores.line)
        let checkpoint = run.file("model.safetensors")
        try saveReIDCheckpoint(model, data: data, extra: ["seed": String(seed)], to: checkpoint)
        var summary = scores.summary()
        summary["train_seconds"] = trainSeconds
        summary["query_count"] = source.query.count
        summary["gallery_count"] = source.gallery.count
        summary["checkpoint"] = checkpoint.path
        try run.writeSummary(summary)

        var plot = SVGPlot(title: "Training losses", xLabel: "epoch", yLabel: "loss")
        plot.add("ID (label smoothing)", x: idLosses.indices.map { Double($0 + 1) }, y: idLosses)
        plot.add("batch-hard triplet", x: tripletLosses.indices.map { Double($0 + 1) }, y: tripletLosses)
        try plot.write(to: run.file("losses.svg"))
        try writeCMC(scores, title: "CMC on the source test split", to: run.file("cmc.svg"))
        try writeReIDEmbeddingPCA(model, on: source, title: "PCA of query + gallery features (≤ 20 identities)",
                                  to: run.file("embeddings_pca.svg"))
        var report = Report(title: "Re-ID training on ShapesReID (source domain)", paragraph:
            "ReIDNet (width \(width), feature \(model.featureCount)) with BNNeck, ID loss (ε = \(training.labelSmoothing)) + "
            + "batch-hard triplet (margin \(training.margin)), Adam lr \(training.lr), P×K = \(training.p)×\(training.k), \(epochs) epochs. "
            + "Evaluation: Market-1501 protocol (same-identity same-camera gallery images ignored), L2-normalized features, "
            + "k-reciprocal re-ranking k1 = \(rerank.k1), k2 = \(rerank.k2), λ = \(rerank.lambda).")
        report.add("queries / gallery", "\(source.query.count) / \(source.gallery.count)")
        report.add("rank-1 / rank-5 / rank-10", String(format: "%.3f / %.3f / %.3f", scores.plain.rank(1), scores.plain.rank(5), scores.plain.rank(10)))
        report.add("mAP", scores.plain.mAP)
        if let r = scores.reranked {
            report.add("re-ranked rank-1", r.rank(1))
            report.add("re-ranked mAP", r.mAP)
        }
        report.image("Training losses", "losses.svg")
        report.image("CMC curve", "cmc.svg")
        report.image("PCA of query + gallery features, coloured by identity", "embeddings_pca.svg")
        try report.write(to: run.file("report.md"))
        print("run directory \(directory.path)")
    }
}

/// `fathom reid eval`: evaluates one checkpoint, or an ensemble of several.
struct ReIDEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a re-ID checkpoint (optionally re-ranked, or an ensemble of checkpoints).")

    @Option(help: "A model.safetensors written by fathom reid train or adapt.") var checkpoint: String
    @Option(help: "Comma-separated further checkpoints; their distance matrices are averaged with the first's.") var ensemble: String?
    @Flag(help: "Also report k-reciprocal re-ranked results.") var rerank = false
    @OptionGroup var rerankOptions: ReRankOptions
    @Option(help: "Domain evaluated: source or target.") var domain = "source"
    @Option(help: "Target domain shift (default: the checkpoint's).") var targetShift: Double?
    @Option(help: "Run directory (default: runs/reid-eval).") var out: String?

    func validate() throws {
        if ShapesReID.Domain(rawValue: domain) == nil { throw ValidationError("--domain must be source or target, got \(domain)") }
    }

    func run() throws {
        let first = try loadReIDCheckpoint(checkpoint)
        let others = (ensemble ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let models = [first.model] + (try others.map { try loadReIDCheckpoint($0).model })
        let directory = URL(fileURLWithPath: out ?? "runs/reid-eval")
        let run = try RunDirectory(directory, config: first.data.config.merging([
            "command": "reid eval", "checkpoint": checkpoint, "ensemble": others, "rerank": rerank, "domain": domain,
        ]) { a, _ in a })
        var options = first.data
        if let targetShift { options.targetShift = targetShift }
        let data = options.dataset(ShapesReID.Domain(rawValue: domain)!)
        let scores = evaluateReID(models, on: data, rerank: rerank ? rerankOptions : nil)
        print("\(domain) test (\(models.count) model\(models.count == 1 ? "" : "s")): " + scores.line)
        var summary = scores.summary()
        summary["models"] = models.count
        summary["domain"] = domain
        if models.count > 1 {
            // The members alone, for comparison with the ensemble.
            summary["member_map"] = models.map { evaluateReID([$0], on: data, rerank: nil).plain.mAP }
        }
        try run.writeSummary(summary)
        try writeCMC(scores, title: "CMC on the \(domain) test split (\(models.count) model\(models.count == 1 ? "" : "s"))",
                     to: run.file("cmc.svg"))
        try writeReIDEmbeddingPCA(models[0], on: data, title: "PCA of query + gallery features (≤ 20 identities, first model)",
                                  to: run.file("embeddings_pca.svg"))
        print("run directory \(directory.path)")
    }
}
