import ArgumentParser
import Fathom
import Foundation

/// `fathom rank`: representation diagnostics of a checkpoint — the RankMe effective rank
/// (Garrido et al. 2023) of each layer's features, neural collapse NC1–NC4 (Papyan, Han &
/// Donoho 2020) of the penultimate features, and with `--b` the linear CKA (Kornblith et
/// al. 2019) between corresponding layers of the two networks.
///
/// Pinned choices: features are layer outputs read with forward hooks in evaluation mode;
/// for RankMe, outputs with spatial axes ([N, C, H, W]) are averaged over them to [N, C]
/// (channel embeddings, as RankMe is defined on pooled embeddings), others are flattened
/// per example; CKA uses the full flattened outputs. The penultimate features are the
/// inputs of the model's last `Linear` layer (the classifier).
struct Rank: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank", abstract: "RankMe per layer, neural collapse NC1–NC4 and (with --b) layer CKA of a checkpoint.")

    @Option(help: "A checkpoint.safetensors written by fathom train.") var checkpoint: String
    @Option(help: "A second checkpoint of the same model: also report linear CKA between corresponding layers.") var b: String?
    @Option(help: "Dataset (default: the checkpoint's own).") var dataset: String?
    @Option(help: "Directory holding the dataset's files (default: the run's config.json).") var dataDir: String?
    @Option(help: "Examples measured (the first N of --split).") var examples = 2000
    @Option(help: "train or test.") var split = "test"
    @Option(help: "Comma-separated layer names (default: every leaf layer except Flatten, Dropout and Identity).") var layers: String?
    @Option(help: "Run directory (default: runs/rank-MODEL-DATASET).") var out: String?

    func validate() throws {
        if examples < 2 { throw ValidationError("--examples must be at least 2, got \(examples)") }
        _ = try parseSplit(split, flag: "--split")
    }

    func run() throws {
        let models = try CheckpointModels(checkpoint: checkpoint, b: b, dataset: dataset, dataDir: dataDir)
        let model = models.modelA
        let data = try models.batches(try parseSplit(split, flag: "--split"), limit: examples)
        let count = data.reduce(0) { $0 + $1.count }
        let leaves = leafLayerNames(model)
        let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
        let names: [String]
        if let layers {
            names = layers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if let bad = names.first(where: { !(modules[$0] is Layer) }) {
                throw ValidationError("--layers: no layer named '\(bad)' in \(models.modelName); leaf layers are \(leaves.joined(separator: ", "))")
            }
        } else {
            names = leaves.filter { !(modules[$0] is Flatten || modules[$0] is Dropout || modules[$0] is Identity) }
        }
        guard let classifier = model.namedModules().last(where: { $0.module is Linear })?.name else {
            throw ValidationError("\(models.modelName) has no Linear layer to take as the classifier for neural collapse")
        }
        let directory = URL(fileURLWithPath: out ?? "runs/rank-\(models.modelName)-\(models.datasetName)")
        let run = try RunDirectory(directory, config: [
            "command": "rank", "checkpoint": checkpoint, "b": b ?? "", "dataset": models.datasetName,
            "examples": count, "split": split, "layers": names, "model": models.modelName,
        ])
        print("Representations of \(models.modelName) on \(count) \(models.datasetName) \(split) examples: "
              + "\(names.count) layers, classifier '\(classifier)'.")

        let featuresA = layerFeatures(model, names, data)
        var rankme: [String: Double] = [:], widths: [String: Int] = [:]
        for (name, features) in zip(names, featuresA) {
            let pooled = features.rank > 2 ? features.mean(axes: Array(2..<features.rank)) : features.reshaped([count, -1])
            rankme[name] = rankMe(pooled)
            widths[name] = pooled.shape[1]
        }
        let collapse = neuralCollapse(of: model, classifier: classifier, on: data)
        var summary: [String: Any] = [
            "model": models.modelName, "dataset": models.datasetName, "checkpoint": checkpoint, "examples": count,
            "split": split, "layers": names, "rankme": rankme, "feature_dims": widths, "classifier": classifier,
            "nc1": collapse.nc1, "nc2": collapse.meanAngleDeviation, "nc3": collapse.selfDuality, "nc4": collapse.nccMismatch,
            "neural_collapse": try jsonObject(collapse),
        ]
        var report = Report(title: "Representations: \(models.modelName) on \(models.datasetName)", paragraph:
            "Diagnostics of `\(checkpoint)` on the first \(count) \(split) examples. RankMe = exp(entropy of the "
            + "normalized singular values) of each layer's output (Garrido et al. 2023; spatial axes averaged, otherwise "
            + "flattened). Neural collapse of the inputs of the classifier '\(classifier)' (Papyan et al. 2020): "
            + "NC1 = Tr(Σ_W Σ_B⁺)/C; NC2 (`nc2`) = mean |cos(μ_c, μ_c') + 1/(C−1)| of the centered class means "
            + "(the other NC2 measures are in summary.json); NC3 = ‖W/‖W‖ − M/‖M‖‖²; NC4 = fraction of examples "
            + "where the classifier and the nearest class mean disagree.")
        for name in names { report.add("RankMe \(name) (of \(widths[name]!))", rankme[name]!) }
        report.add("nc1", collapse.nc1)
        report.add("nc2 (mean angle deviation)", collapse.meanAngleDeviation)
        report.add("nc2 (class-mean norm CV)", collapse.meanNormVariation)
        report.add("nc3", collapse.selfDuality)
        report.add("nc4", collapse.nccMismatch)
        report.add("classifier error", collapse.classifierError)

        let index = names.indices.map(Double.init)
        let xLabel = names.count <= 8 ? "layer (" + names.joined(separator: ", ") + ")" : "layer index (names: layers in summary.json)"
        var plot = SVGPlot(title: "RankMe per layer", xLabel: xLabel, yLabel: "effective rank")
        plot.add("RankMe", x: index, y: names.map { rankme[$0]! })
        try plot.write(to: run.file("rankme.svg"))
        report.image("RankMe per layer", "rankme.svg")

        if let modelB = models.modelB {
            let featuresB = layerFeatures(modelB, names, data)
            var cka: [String: Double] = [:]
            for (name, (fa, fb)) in zip(names, zip(featuresA, featuresB)) { cka[name] = linearCKA(fa, fb) }
            summary["cka"] = cka
            summary["b"] = b
            var ckaPlot = SVGPlot(title: "Linear CKA between A and B", xLabel: xLabel, yLabel: "CKA")
            ckaPlot.add("CKA(A, B)", x: index, y: names.map { cka[$0]! })
            try ckaPlot.write(to: run.file("cka.svg"))
            for name in names { report.add("CKA \(name)", cka[name]!) }
            report.image("Linear CKA per layer", "cka.svg")
        }
        try run.writeSummary(summary)
        try report.write(to: run.file("report.md"))
        print("RankMe " + names.map { String(format: "%@ %.1f", $0, rankme[$0]!) }.joined(separator: ", ")
              + String(format: "; NC1 %.4g, NC2 %.4g, NC3 %.4g, NC4 %.4g; run directory %@",
                       collapse.nc1, collapse.meanAngleDeviation, collapse.selfDuality, collapse.nccMismatch, directory.path))
    }
}

/// The outputs of the layers `names` of `model` over `batches` (evaluation mode, no
/// gradients), concatenated along the batch axis, in the order of `names`.
private func layerFeatures(_ model: Layer, _ names: [String], _ batches: [Batch]) -> [Tensor] {
    let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
    var captured: [String: [Tensor]] = [:]
    let handles: [(Layer, Int)] = names.map { name in
        let layer = modules[name] as! Layer
        return (layer, layer.addForwardHook { _, _, output in captured[name, default: []].append(output.clone()) })
    }
    defer { for (layer, handle) in handles { layer.removeForwardHook(handle) } }
    model.eval()
    noGrad { for batch in batches { _ = model(batch.inputs) } }
    return names.map { name in
        guard let parts = captured[name], parts.count == batches.count else {
            fatalError("fathom rank: layer '\(name)' ran \(captured[name]?.count ?? 0) times for \(batches.count) batches; pick layers that run once per forward pass")
        }
        return Tensor.cat(parts)
    }
}
