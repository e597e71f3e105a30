import ArgumentParser
import Fathom
import Foundation

/// `fathom lmc`: linear mode connectivity between two checkpoints — the loss and error
/// along θ(λ) = (1 − λ)θA + λθB on train and test data, both barrier definitions, and with
/// `--llfc` the per-layer LLFC cosine distance at λ = ½.
struct LMC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lmc", abstract: "Loss and error barriers along the line between two checkpoints.")

    @Option(help: "First endpoint θA: a checkpoint.safetensors written by fathom train.") var a: String
    @Option(help: "Second endpoint θB (same model as --a).") var b: String
    @Option(help: "Dataset (default: the checkpoints' own).") var dataset: String?
    @Option(help: "Directory holding the dataset's files (default: the run's config.json).") var dataDir: String?
    @Option(help: "Points on the λ grid, endpoints included.") var points = 11
    @Option(help: "BatchNorm statistics at each λ: interpolate or reestimate (on the train subset).") var bn = "interpolate"
    @Option(help: "Training examples evaluated (the first N).") var trainSubset = 5000
    @Option(help: "Test examples evaluated (the first N; default: all).") var testLimit: Int?
    @Flag(help: "Also measure layerwise linear feature connectivity at λ = 0.5 on 1000 test inputs.") var llfc = false
    @Option(help: "Run directory (default: runs/lmc-MODEL-DATASET).") var out: String?

    func validate() throws {
        if points < 2 { throw ValidationError("--points must be at least 2 (λ = 0 and 1), got \(points)") }
        if bn != "interpolate" && bn != "reestimate" { throw ValidationError("--bn must be interpolate or reestimate, got \(bn)") }
        if trainSubset <= 0 { throw ValidationError("--train-subset must be positive, got \(trainSubset)") }
        if let testLimit, testLimit <= 0 { throw ValidationError("--test-limit must be positive, got \(testLimit)") }
    }

    func run() throws {
        let pair = try CheckpointPair(a: a, b: b, dataset: dataset, dataDir: dataDir)
        let directory = URL(fileURLWithPath: out ?? "runs/lmc-\(pair.modelName)-\(pair.datasetName)")
        let run = try RunDirectory(directory, config: [
            "command": "lmc", "a": a, "b": b, "dataset": pair.datasetName, "points": points, "bn": bn,
            "train_subset": trainSubset, "test_limit": testLimit ?? 0, "llfc": llfc, "model": pair.modelName,
        ])
        let train = try pair.batches(.train, limit: trainSubset)
        let test = try pair.batches(.test, limit: testLimit)
        let path = LinearPath(from: pair.modelA, to: pair.modelB)
        let lambdas = lambdaGrid(points)
        let handling: BatchNormHandling = bn == "reestimate" ? .reestimate(train) : .interpolate
        print("Interpolating \(pair.modelName) on \(pair.datasetName): \(points) points, "
              + "\(train.reduce(0) { $0 + $1.count }) train / \(test.reduce(0) { $0 + $1.count }) test examples.")
        let testReport = BarrierReport(curve: interpolationCurve(pair.modelA, along: path, lambdas: lambdas, on: test, batchNorm: handling))
        let trainReport = BarrierReport(curve: interpolationCurve(pair.modelA, along: path, lambdas: lambdas, on: train, batchNorm: handling))

        var summary: [String: Any] = [
            "model": pair.modelName, "dataset": pair.datasetName, "a": a, "b": b, "bn": bn,
            "loss_barrier": testReport.lossBarrier, "error_barrier": testReport.errorBarrier,
            "loss_barrier_linear": testReport.lossBarrierLinear, "error_barrier_linear": testReport.errorBarrierLinear,
            "train_loss_barrier": trainReport.lossBarrier, "train_error_barrier": trainReport.errorBarrier,
            "train_loss_barrier_linear": trainReport.lossBarrierLinear,
            "train_error_barrier_linear": trainReport.errorBarrierLinear,
            "test_curve": try jsonObject(testReport.curve), "train_curve": try jsonObject(trainReport.curve),
        ]
        var lossPlot = SVGPlot(title: "Loss along the linear path", xLabel: "λ (0: A, 1: B)", yLabel: "cross-entropy")
        lossPlot.add("train", x: lambdas, y: trainReport.curve.losses)
        lossPlot.add("test", x: lambdas, y: testReport.curve.losses)
        try lossPlot.write(to: run.file("interpolation_loss.svg"))
        var errorPlot = SVGPlot(title: "Error along the linear path", xLabel: "λ (0: A, 1: B)", yLabel: "error rate")
        errorPlot.add("train", x: lambdas, y: trainReport.curve.errors)
        errorPlot.add("test", x: lambdas, y: testReport.curve.errors)
        try errorPlot.write(to: run.file("interpolation_error.svg"))

        var report = Report(title: "Linear mode connectivity: \(pair.modelName) on \(pair.datasetName)", paragraph:
            "Loss and error of θ(λ) = (1 − λ)·θA + λ·θB for A = `\(a)` and B = `\(b)` at \(points) evenly spaced λ "
            + "(BatchNorm statistics: \(bn)). `loss_barrier`/`error_barrier` are max_λ f(θλ) − ½(f(θA) + f(θB)) "
            + "(Frankle et al. 2020; Git Re-Basin); the `_linear` variants subtract the straight line between the "
            + "endpoints instead (Entezari et al. 2022).")
        report.add("test loss_barrier", testReport.lossBarrier)
        report.add("test error_barrier", testReport.errorBarrier)
        report.add("test loss_barrier_linear", testReport.lossBarrierLinear)
        report.add("test error_barrier_linear", testReport.errorBarrierLinear)
        report.add("train loss_barrier", trainReport.lossBarrier)
        report.add("train error_barrier", trainReport.errorBarrier)
        report.add("test loss at A / B", String(format: "%.4g / %.4g", testReport.curve.losses.first!, testReport.curve.losses.last!))
        report.add("test error at A / B", String(format: "%.4g / %.4g", testReport.curve.errors.first!, testReport.curve.errors.last!))
        report.image("Loss along the path", "interpolation_loss.svg")
        report.image("Error along the path", "interpolation_error.svg")

        if llfc {
            let inputs = try pair.inputs(.test, count: min(1000, testLimit ?? 1000))
            let results = layerwiseLinearFeatureConnectivity(pair.modelA, along: path, inputs: inputs, lambdas: [0.5])
            summary["llfc"] = try jsonObject(results)
            summary["llfc_layers"] = results.map(\.layer)
            summary["llfc_cosine_distance"] = Dictionary(results.map { ($0.layer, $0.cosineDistancePerSample) },
                                                         uniquingKeysWith: { a, _ in a })
            let index = results.indices.map(Double.init)
            var plot = SVGPlot(title: "LLFC at λ = 0.5", xLabel: results.count <= 8 ? "layer (" + results.map(\.layer).joined(separator: ", ") + ")"
                                                          : "layer index (names: llfc_layers in summary.json)",
                               yLabel: "mean cosine distance")
            plot.add("llfc_cosine_distance", x: index, y: results.map(\.cosineDistancePerSample))
            plot.add("baseline (A vs B)", x: index, y: results.map(\.baselineCosineDistancePerSample))
            try plot.write(to: run.file("llfc.svg"))
            if let worst = results.max(by: { $0.cosineDistancePerSample < $1.cosineDistancePerSample }) {
                report.add("largest llfc_cosine_distance (\(worst.layer))", worst.cosineDistancePerSample)
            }
            report.image("LLFC cosine distance per layer", "llfc.svg")
        }
        try run.writeSummary(summary)
        try report.write(to: run.file("report.md"))
        print(String(format: "test loss barrier %.4f, error barrier %.4f; train loss barrier %.4f, error barrier %.4f; run directory %@",
                     testReport.lossBarrier, testReport.errorBarrier, trainReport.lossBarrier, trainReport.errorBarrier,
                     directory.path))
    }
}

/// A `Codable` value as the `[String: Any]`/array tree `JSONSerialization` writes.
func jsonObject<T: Encodable>(_ value: T) throws -> Any {
    try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
}

/// A checkpoint written by `fathom train`, its model rebuilt, and the settings of the run
/// that wrote it (read from `config.json` beside it, when there).
struct LoadedCheckpoint {
    let path: String
    let state: TrainingCheckpoint
    let modelName: String
    let datasetName: String
    /// The run's data seed (shapes data depend on it) and data directory.
    let seed: UInt64
    let dataDir: String?

    /// Reads `path`, naming `flag` in every error.
    init(_ path: String, flag: String, dataset: String?) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(flag) \(path): no such file; pass a checkpoint.safetensors written by fathom train")
        }
        do { state = try TrainingCheckpoint.load(from: URL(fileURLWithPath: path)) } catch {
            throw ValidationError("\(flag) \(path): not a readable training checkpoint (\(error))")
        }
        guard let model = state.metadata["model"] else {
            throw ValidationError("\(flag) \(path) does not name its model; pass a checkpoint written by fathom train")
        }
        modelName = model
        datasetName = dataset ?? state.metadata["dataset"] ?? "shapes"
        let config = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("config.json")
        let object = (try? Data(contentsOf: config)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        seed = UInt64(object?["seed"] as? Int ?? 0)
        dataDir = object?["data_dir"] as? String
    }

    /// The model with the checkpoint's weights, for data of `imageShape` and `classCount`.
    func makeModel(imageShape: [Int], classCount: Int, flag: String) throws -> Layer {
        let model = try ModelZoo.make(modelName, inputShape: imageShape, classCount: classCount)
        do { try model.load(stateDict: state.model) } catch {
            throw ValidationError("\(flag) \(path): the weights do not fit \(modelName) on \(datasetName): \(error)")
        }
        return model
    }
}

/// Two checkpoints of one architecture (checked), their models, and the data to evaluate
/// them on, normalized as in training.
struct CheckpointPair {
    let a: LoadedCheckpoint, b: LoadedCheckpoint
    let modelA: Layer, modelB: Layer
    var modelName: String { a.modelName }
    var datasetName: String { a.datasetName }
    let dataDir: URL?

    init(a pathA: String, b pathB: String, dataset: String?, dataDir: String?) throws {
        a = try LoadedCheckpoint(pathA, flag: "--a", dataset: dataset)
        b = try LoadedCheckpoint(pathB, flag: "--b", dataset: dataset)
        guard a.modelName == b.modelName else {
            throw ValidationError("--b \(pathB) holds a \(b.modelName) but --a \(pathA) a \(a.modelName); both must be the same model")
        }
        if let dataset, !DatasetCatalog.names.contains(dataset) {
            throw ValidationError("--dataset \(dataset) is unknown; choose one of \(DatasetCatalog.names.joined(separator: ", "))")
        }
        self.dataDir = (dataDir ?? a.dataDir).map { URL(fileURLWithPath: $0) }
        let probe = try DatasetCatalog.load(a.datasetName, split: .test, directory: self.dataDir, shapesCount: 1, seed: a.seed)
        modelA = try a.makeModel(imageShape: probe.imageShape, classCount: probe.classCount, flag: "--a")
        modelB = try b.makeModel(imageShape: probe.imageShape, classCount: probe.classCount, flag: "--b")
        let sa = modelA.stateDict(), sb = modelB.stateDict()
        guard sa.keys == sb.keys, zip(sa.entries, sb.entries).allSatisfy({ $0.tensor.shape == $1.tensor.shape }) else {
            throw ValidationError("--b \(pathB) and --a \(pathA) hold differently shaped \(a.modelName) models; interpolate models of one architecture")
        }
    }

    /// The first `limit` examples of `split` (all when nil) as normalized batches of 1000.
    func dataset(_ split: MNIST.Split, limit: Int? = nil) throws -> ImageDataset {
        var data = try DatasetCatalog.load(datasetName, split: split, directory: dataDir,
                                           shapesCount: datasetName == "shapes" ? limit : nil, seed: a.seed)
        if let limit, data.count > limit { data = data.prefix(limit) }
        return data
    }

    func batches(_ split: MNIST.Split, limit: Int? = nil) throws -> [Batch] {
        let normalizer = InputNormalizer(DatasetCatalog.normalization(datasetName))
        return DataLoader(try dataset(split, limit: limit), batchSize: 1000).epoch(0).map {
            Batch(inputs: normalizer($0.inputs), labels: $0.labels)
        }
    }

    /// The first `count` normalized inputs of `split`.
    func inputs(_ split: MNIST.Split, count: Int) throws -> Tensor {
        let data = try dataset(split, limit: count)
        return InputNormalizer(DatasetCatalog.normalization(datasetName))(data.batch(at: Array(0..<data.count)).inputs)
    }
}
