import ArgumentParser
import Fathom
import Foundation

/// `fathom reid adapt`: unsupervised domain adaptation by clustering (the UDAP / SpCL
/// pseudo-label loop). Each round: extract features of the unlabelled target training
/// images, compute the k-reciprocal Jaccard distance between them, cluster with DBSCAN,
/// drop the noise, and train ID + triplet loss on the clusters as identities (fresh
/// classifier each round). Target test mAP is reported before and after every round.
struct ReIDAdapt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapt", abstract: "Adapt a source re-ID model to the target domain with DBSCAN pseudo-labels.")

    @Option(help: "The source model: a model.safetensors written by fathom reid train.") var checkpoint: String
    @OptionGroup var training: ReIDTrainOptions
    @Option(help: "Pseudo-label rounds (cluster, then train).") var rounds = 3
    @Option(help: "Training epochs per round.") var epochsPerRound = 5
    @Option(help: "DBSCAN radius on the Jaccard distance (SpCL's default 0.6). Ignored with --rho.") var eps = 0.6
    @Option(help: "Choose eps as UDAP does instead: the mean of the smallest fraction rho of pairwise Jaccard distances (e.g. 0.0016).") var rho: Double?
    @Option(help: "DBSCAN min_samples.") var minSamples = 4
    @Option(help: "k1 of the Jaccard distance.") var k1 = 20
    @Option(help: "k2 of the Jaccard distance.") var k2 = 6
    @Option(help: "Seed of the batch order and the new classifiers.") var seed: UInt64 = 0
    @Option(help: "Target domain shift, 0 to 1 (default: the checkpoint's).") var targetShift: Double?
    @Option(help: "Run directory (default: runs/reid-adapt).") var out: String?

    func validate() throws {
        if rounds < 1 || epochsPerRound < 1 { throw ValidationError("--rounds and --epochs-per-round must be positive") }
        if !(eps > 0) { throw ValidationError("--eps must be positive, got \(eps)") }
        if let rho, !(rho > 0 && rho < 1) { throw ValidationError("--rho must lie in (0, 1), got \(rho)") }
        if minSamples < 1 { throw ValidationError("--min-samples must be positive") }
    }

    func run() throws {
        var (model, dataOptions) = try loadReIDCheckpoint(checkpoint)
        if let targetShift { dataOptions.targetShift = targetShift }
        let directory = URL(fileURLWithPath: out ?? "runs/reid-adapt")
        let run = try RunDirectory(directory, config: dataOptions.config.merging([
            "command": "reid adapt", "checkpoint": checkpoint, "rounds": rounds, "epochs_per_round": epochsPerRound,
            "eps": rho == nil ? eps : NSNull(), "rho": rho ?? NSNull(), "min_samples": minSamples, "k1": k1, "k2": k2,
            "seed": Int(seed), "lr": training.lr, "p": training.p, "k": training.k,
        ]) { a, _ in a })
        let target = dataOptions.dataset(.target)
        let source = dataOptions.dataset(.source)
        let samples = target.train
        let images = target.images(samples)
        let truth = samples.map(\.identity)

        let sourceBefore = evaluateReID([model], on: source, rerank: nil)
        let before = evaluateReID([model], on: target, rerank: nil)
        print("source-only model, target test: " + before.line)
        var maps = [before.plain.mAP], rank1s = [before.plain.rank(1)]
        var roundRecords: [[String: Any]] = []
        let generator = Generator(seed: seed &+ 1)
        for round in 1...rounds {
            let features = l2Normalized(extractFeatures(model, images: images)).to(.float64)
            let original = noGrad { PairwiseDistance.squaredEuclidean(features, features) }
            let jaccard = KReciprocalReRanking.rerank(distances: original, queryCount: 0, k1: k1, k2: k2, lambda: 0,
                                                      returnJaccard: true).jaccard!
            let radius = rho.map { udapEps(jaccard, rho: $0) } ?? eps
            let clusters = DBSCAN.fit(distances: jaccard, eps: radius, minSamples: minSamples)
            let pseudo = PseudoLabels(clusterLabels: clusters)
            let purity = clusterPurity(pseudo, truth: truth)
            var record: [String: Any] = ["round": round, "eps": radius, "clusters": pseudo.classCount,
                                         "clustered_fraction": Double(pseudo.indices.count) / Double(samples.count), "purity": purity]
            print(String(format: "round %d: eps %.3f, %d clusters, %.0f%% of %d images clustered, purity %.3f",
                         round, radius, pseudo.classCount, 100 * Double(pseudo.indices.count) / Double(samples.count), samples.count, purity))
            if pseudo.classCount >= 2 {
                model.resetClassifier(classCount: pseudo.classCount, generator: generator)
                var config = training.config(seed: seed &+ UInt64(round))
                config.p = Swift.min(config.p, pseudo.classCount)
                let roundTrainer = ReIDTrainer(model: model, config: config)
                let subset = images.indexSelect(axis: 0, index: Tensor(pseudo.indices.map(Int64.init)))
                for _ in 0..<epochsPerRound { roundTrainer.trainEpoch(images: subset, labels: pseudo.labels) }
            } else {
                print("round \(round): fewer than 2 clusters; no training this round (try a larger --eps)")
            }
            let after = evaluateReID([model], on: target, rerank: nil)
            maps.append(after.plain.mAP)
            rank1s.append(after.plain.rank(1))
            record["target_map"] = after.plain.mAP
            record["target_rank1"] = after.plain.rank(1)
            roundRecords.append(record)
            try run.log(record)
            print("after round \(round), target test: " + after.line)
        }
        let sourceAfter = evaluateReID([model], on: source, rerank: nil)
        let finalTarget = evaluateReID([model], on: target, rerank: ReRankOptions.defaults)
        try saveReIDCheckpoint(model, data: dataOptions, extra: ["adapted_from": checkpoint], to: run.file("model.safetensors"))
        var summary: [String: Any] = [
            "target_map_before": before.plain.mAP, "target_map_after": maps.last!,
            "target_rank1_before": before.plain.rank(1), "target_rank1_after": rank1s.last!,
            "target_map_by_round": maps, "target_rank1_by_round": rank1s, "rounds": roundRecords,
            "source_map_before": sourceBefore.plain.mAP, "source_map_after": sourceAfter.plain.mAP,
        ]
        summary.merge(finalTarget.summary(prefix: "target_")) { a, _ in a }
        try run.writeSummary(summary)
        var plot = SVGPlot(title: "Target-domain mAP over pseudo-label rounds", xLabel: "round (0: source-only)", yLabel: "mAP")
        plot.add("target mAP", x: maps.indices.map(Double.init), y: maps)
        plot.add("target rank-1", x: rank1s.indices.map(Double.init), y: rank1s)
        try plot.write(to: run.file("adaptation.svg"))
        var report = Report(title: "Domain adaptation by pseudo-labels (ShapesReID source → target)", paragraph:
            "Each round: post-BNNeck features of the \(samples.count) unlabelled target training images, k-reciprocal Jaccard "
            + "distance (k1 = \(k1), k2 = \(k2)), DBSCAN (min_samples \(minSamples), eps "
            + (rho.map { "= mean of the smallest \($0) fraction of distances" } ?? "= \(eps)") + "), noise dropped, "
            + "\(epochsPerRound) epochs of ID + triplet training on the clusters with a fresh classifier.")
        report.add("target mAP before → after", String(format: "%.3f → %.3f", before.plain.mAP, maps.last!))
        report.add("target rank-1 before → after", String(format: "%.3f → %.3f", before.plain.rank(1), rank1s.last!))
        report.add("source mAP before → after", String(format: "%.3f → %.3f", sourceBefore.plain.mAP, sourceAfter.plain.mAP))
        for record in roundRecords {
            report.add("round \(record["round"]!)", String(format: "%d clusters, purity %.3f, mAP %.3f", record["clusters"] as! Int,
                                                           record["purity"] as! Double, record["target_map"] as! Double))
        }
        report.image("Target mAP by round", "adaptation.svg")
        try report.write(to: run.file("report.md"))
        print("run directory \(directory.path)")
    }
}

extension ReRankOptions {
    static var defaults: ReRankOptions { try! ReRankOptions.parse([]) }
}

/// UDAP's eps (Song et al. 2020, released code): the mean of the smallest `rho` fraction of
/// the strictly-upper-triangular nonzero distances.
func udapEps(_ distances: Tensor, rho: Double) -> Double {
    let n = distances.shape[0]
    let values = distances.contiguous().scalars(as: Double.self)
    var upper: [Double] = []
    upper.reserveCapacity(n * (n - 1) / 2)
    for i in 0..<n { for j in (i + 1)..<n where values[i * n + j] != 0 { upper.append(values[i * n + j]) } }
    upper.sort()
    let count = Swift.max(1, Int((rho * Double(upper.count)).rounded()))
    return upper.prefix(count).reduce(0, +) / Double(Swift.min(count, Swift.max(upper.count, 1)))
}

/// The fraction of clustered samples whose true identity is their cluster's majority identity.
func clusterPurity(_ pseudo: PseudoLabels, truth: [Int]) -> Double {
    guard !pseudo.indices.isEmpty else { return 0 }
    var counts: [Int: [Int: Int]] = [:]
    for (i, label) in zip(pseudo.indices, pseudo.labels) { counts[label, default: [:]][truth[i], default: 0] += 1 }
    let majority = counts.values.reduce(0) { $0 + ($1.values.max() ?? 0) }
    return Double(majority) / Double(pseudo.indices.count)
}
