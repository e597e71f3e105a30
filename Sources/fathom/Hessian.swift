import ArgumentParser
import Fathom
import Foundation

/// `fathom hessian`: the curvature of a checkpoint's training loss on one batch — top
/// eigenvalues by Lanczos (optionally power iteration), the Hutchinson trace and the
/// stochastic Lanczos quadrature spectral density (PyHessian's recipe).
struct Hessian: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hessian", abstract: "Top eigenvalues, trace and spectral density of a checkpoint's loss Hessian.")

    @Option(help: "A checkpoint.safetensors written by fathom train.") var checkpoint: String
    @Option(help: "Dataset (default: the checkpoint's own).") var dataset: String?
    @Option(help: "Directory holding the dataset's files (default: the run's config.json).") var dataDir: String?
    @Option(help: "Examples in the batch the Hessian is taken on (the first of the training set).") var batchSize = 1000
    @Option(help: "Top eigenvalues reported.") var top = 5
    @Option(help: "Lanczos steps for the top eigenvalues and each density run.") var lanczosSteps = 30
    @Option(help: "Rademacher samples of the Hutchinson trace estimate.") var traceSamples = 30
    @Option(help: "Independent stochastic Lanczos quadrature runs averaged in the density.") var densityRuns = 3
    @Flag(help: "Also compute the top eigenvalues by power iteration with deflation (slower).") var powerIteration = false
    @Option(help: "Seed of the random probe vectors.") var seed: UInt64 = 0
    @Option(help: "Run directory (default: runs/hessian-MODEL-DATASET).") var out: String?

    func validate() throws {
        for (flag, value) in [("--batch-size", batchSize), ("--top", top), ("--lanczos-steps", lanczosSteps),
                              ("--trace-samples", traceSamples), ("--density-runs", densityRuns)] where value <= 0 {
            throw ValidationError("\(flag) must be positive, got \(value)")
        }
        if top > lanczosSteps { throw ValidationError("--top \(top) needs at least as many --lanczos-steps, got \(lanczosSteps)") }
    }

    func run() throws {
        let loaded = try LoadedCheckpoint(checkpoint, flag: "--checkpoint", dataset: dataset)
        if let dataset, !DatasetCatalog.names.contains(dataset) {
            throw ValidationError("--dataset \(dataset) is unknown; choose one of \(DatasetCatalog.names.joined(separator: ", "))")
        }
        let directory = (dataDir ?? loaded.dataDir).map { URL(fileURLWithPath: $0) }
        var train = try DatasetCatalog.load(loaded.datasetName, split: .train, directory: directory,
                                            shapesCount: loaded.datasetName == "shapes" ? batchSize : nil, seed: loaded.seed)
        if train.count > batchSize { train = train.prefix(batchSize) }
        let model = try loaded.makeModel(imageShape: train.imageShape, classCount: train.classCount, flag: "--checkpoint")
        let normalizer = InputNormalizer(DatasetCatalog.normalization(loaded.datasetName))
        let raw = train.batch(at: Array(0..<train.count))
        let batch = Batch(inputs: normalizer(raw.inputs), labels: raw.labels)
        let outDirectory = URL(fileURLWithPath: out ?? "runs/hessian-\(loaded.modelName)-\(loaded.datasetName)")
        let run = try RunDirectory(outDirectory, config: [
            "command": "hessian", "checkpoint": checkpoint, "dataset": loaded.datasetName, "batch_size": train.count,
            "top": top, "lanczos_steps": lanczosSteps, "trace_samples": traceSamples, "density_runs": densityRuns,
            "power_iteration": powerIteration, "seed": seed, "model": loaded.modelName,
        ])

        model.eval()
        let hessian = HessianOperator(model: model, batches: [batch], loss: { crossEntropy($0, $1) })
        print("Hessian of \(loaded.modelName) on \(train.count) \(loaded.datasetName) training examples: "
              + "\(hessian.dimension) parameters.")
        let timer = Date()
        _ = hessian.apply(ParameterVector(model.parameters().map { Tensor.zeros($0.shape, dtype: $0.dtype) }))
        let hvpSeconds = Date().timeIntervalSince(timer)
        let lossValue = hessian.lossValue()

        let lanczos = hessian.lanczos(steps: lanczosSteps, seed: seed, ritzVectors: false)
        let topValues = lanczos.ritzValues.sorted(by: >).prefix(top).map { $0 }
        let trace = hessian.hutchinsonTrace(samples: traceSamples, seed: seed &+ 1)
        let density = hessian.spectralDensity(steps: lanczosSteps, runs: densityRuns, gridCount: 1000, seed: seed &+ 2)
        var summary: [String: Any] = [
            "model": loaded.modelName, "dataset": loaded.datasetName, "checkpoint": checkpoint, "examples": train.count,
            "parameters": hessian.dimension, "loss": lossValue, "top_eigenvalues": topValues,
            "lanczos_ritz_values": lanczos.ritzValues, "trace": trace.mean,
            "trace_standard_error": trace.standardError, "hvp_seconds": hvpSeconds,
            "density_grid": density.grid, "density": density.density,
        ]
        var report = Report(title: "Hessian spectrum: \(loaded.modelName) on \(loaded.datasetName)", paragraph:
            "Exact Hessian of the mean cross-entropy of `\(checkpoint)` on the first \(train.count) training examples, "
            + "model in evaluation mode. Top eigenvalues are the largest Ritz values of \(lanczosSteps) Lanczos steps; "
            + "the trace is Hutchinson's estimate over \(traceSamples) Rademacher vectors; the density is stochastic "
            + "Lanczos quadrature averaged over \(densityRuns) runs (Ghorbani et al. 2019; PyHessian).")
        report.add("parameters", "\(hessian.dimension)")
        report.add("loss", lossValue)
        report.add("top_eigenvalues", topValues.map { String(format: "%.4g", $0) }.joined(separator: ", "))
        report.add("trace", String(format: "%.4g ± %.2g", trace.mean, trace.standardError))
        report.add("hvp_seconds", hvpSeconds)
        if powerIteration {
            let power = hessian.topEigenvalues(k: top, iterations: 100, seed: seed &+ 3)
            summary["power_iteration_eigenvalues"] = power.values
            summary["power_iteration_iterations"] = power.iterations
            report.add("power iteration", power.values.map { String(format: "%.4g", $0) }.joined(separator: ", "))
        }
        var plot = SVGPlot(title: "Hessian spectral density (SLQ)", xLabel: "eigenvalue", yLabel: "density")
        plot.add("density", x: density.grid, y: density.density)
        try plot.write(to: run.file("spectral_density.svg"))
        report.image("Spectral density", "spectral_density.svg")
        try run.writeSummary(summary)
        try report.write(to: run.file("report.md"))
        print("top eigenvalues " + topValues.map { String(format: "%.4g", $0) }.joined(separator: ", ")
              + String(format: "; trace %.4g ± %.2g; one HVP %.3f s; run directory %@", trace.mean, trace.standardError,
                       hvpSeconds, outDirectory.path))
    }
}
