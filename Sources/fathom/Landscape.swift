import ArgumentParser
import Fathom
import Foundation

/// `fathom landscape`: the loss of a checkpoint along filter-normalized random directions
/// (Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the Loss Landscape of Neural
/// Nets") — a 1-D slice θ + α·δ or a 2-D surface θ + α·δ + β·η — or, with `--b`, over the
/// plane through θA, θB and a random direction orthogonal to B − A.
///
/// Pinned choices: directions are Gaussian, rescaled filter by filter (each slice along a
/// weight's axis 0: a Linear row, a convolution's output channel) to the weights' norms;
/// parameters of rank ≤ 1 (biases, BatchNorm weights and biases) get a zero direction, as
/// the authors' code does with `--xignore biasbn` (used for their figures). BatchNorm
/// running statistics stay those of the checkpoint; the model is in evaluation mode.
struct Landscape: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "landscape", abstract: "1-D and 2-D loss surfaces of a checkpoint along filter-normalized directions.")

    @Option(help: "A checkpoint.safetensors written by fathom train (the center θ, or θA with --b).") var checkpoint: String
    @Option(help: "A second checkpoint θB: plot the plane through θA, θB and an orthogonal random direction.") var b: String?
    @Option(help: "Dataset (default: the checkpoint's own).") var dataset: String?
    @Option(help: "Directory holding the dataset's files (default: the run's config.json).") var dataDir: String?
    @Option(help: "1 (a slice) or 2 (a surface); --b always gives 2 (default: 1, or 2 with --b).") var dims: Int?
    @Option(help: "Grid points per axis, ends included.") var points = 21
    @Option(help: "Half-width of the grid: α, β ∈ [−r, r]; with --b, x ∈ [½ − r, ½ + r] (A at 0, B at 1), y ∈ [−r, r].") var range = 1.0
    @Option(help: "Examples the loss is measured on (the first N of --split).") var batchSize = 1000
    @Option(help: "train or test.") var split = "train"
    @Option(help: "Seed of the random directions.") var seed: UInt64 = 0
    @Option(help: "Run directory (default: runs/landscape-MODEL-DATASET).") var out: String?

    func validate() throws {
        if let dims, dims != 1 && dims != 2 { throw ValidationError("--dims must be 1 or 2, got \(dims)") }
        if b != nil && dims == 1 { throw ValidationError("--b plots the plane through A and B, which is 2-D; drop --dims 1") }
        if points < 2 { throw ValidationError("--points must be at least 2, got \(points)") }
        if !(range > 0) || !range.isFinite { throw ValidationError("--range must be positive, got \(range)") }
        if batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        _ = try parseSplit(split, flag: "--split")
    }

    func run() throws {
        let models = try CheckpointModels(checkpoint: checkpoint, b: b, dataset: dataset, dataDir: dataDir)
        let dimensions = dims ?? (b == nil ? 1 : 2)
        let data = try models.batches(try parseSplit(split, flag: "--split"), limit: batchSize)
        let examples = data.reduce(0) { $0 + $1.count }
        let directory = URL(fileURLWithPath: out ?? "runs/landscape-\(models.modelName)-\(models.datasetName)")
        let run = try RunDirectory(directory, config: [
            "command": "landscape", "checkpoint": checkpoint, "b": b ?? "", "dataset": models.datasetName,
            "dims": dimensions, "points": points, "range": range, "batch_size": examples, "split": split, "seed": seed,
            "model": models.modelName, "direction": b == nil ? "filter_normalized" : "interpolation_plane",
            "bias_bn_direction": "zero",
        ])
        let model = models.modelA
        let center = ParameterVector(copying: model)
        let generator = Generator(seed: seed)
        func grid(_ middle: Double) -> [Double] {
            (0..<points).map { middle - range + 2 * range * Double($0) / Double(points - 1) }
        }
        print("Loss landscape of \(models.modelName) on \(examples) \(models.datasetName) \(split) examples: "
              + (dimensions == 1 ? "\(points) points." : "\(points)×\(points) grid."))

        var summary: [String: Any] = [
            "model": models.modelName, "dataset": models.datasetName, "checkpoint": checkpoint, "examples": examples,
            "split": split, "dims": dimensions, "points": points, "range": range, "seed": seed,
            "parameters": center.count, "bias_bn_direction": "zero",
        ]
        var report = Report(title: "Loss landscape: \(models.modelName) on \(models.datasetName)", paragraph: "")
        let centerEvaluation = evaluate(model, on: data)
        summary["center_loss"] = centerEvaluation.loss
        summary["center_error"] = centerEvaluation.error
        var losses: [Double] = [], errors: [Double] = []

        if dimensions == 1 {
            let direction = filterNormalizedDirection(model, generator: generator)
            let alphas = grid(0)
            let slice = lossSlice(model, center: center, direction: direction, alphas: alphas, on: data)
            (losses, errors) = (slice.losses, slice.errors)
            summary["slice"] = try jsonObject(slice)
            summary["direction_norm"] = direction.norm
            var plot = SVGPlot(title: "Loss along a filter-normalized direction", xLabel: "α", yLabel: "cross-entropy")
            plot.add("\(split) loss", x: alphas, y: slice.losses)
            try plot.write(to: run.file("landscape_1d.svg"))
            var errorPlot = SVGPlot(title: "Error along a filter-normalized direction", xLabel: "α", yLabel: "error rate")
            errorPlot.add("\(split) error", x: alphas, y: slice.errors)
            try errorPlot.write(to: run.file("landscape_1d_error.svg"))
            report.paragraph = "Loss of θ + α·δ on the first \(examples) \(split) examples of \(models.datasetName) for "
                + "\(points) values α ∈ [−\(range), \(range)], θ = `\(checkpoint)`, δ a Gaussian direction rescaled filter by "
                + "filter to the weights' norms (Li et al. 2018), zero on biases and BatchNorm parameters; seed \(seed)."
            report.image("Loss along α", "landscape_1d.svg")
            report.image("Error along α", "landscape_1d_error.svg")
        } else {
            let surface: LossSurface
            var heat: SVGHeatMap
            if let modelB = models.modelB, let b {
                let random = filterNormalizedDirection(model, generator: generator)
                let (u, v) = interpolationPlane(from: center, to: ParameterVector(copying: modelB), random: random)
                let xs = grid(0.5), ys = grid(0)
                surface = lossSurface(model, center: center, u, v, xs: xs, ys: ys, on: data)
                let endpoints = lossSlice(model, center: center, direction: u, alphas: [0, 1], on: data)
                summary["loss_a"] = endpoints.losses[0]
                summary["loss_b"] = endpoints.losses[1]
                summary["distance_ab"] = u.norm
                heat = SVGHeatMap(title: "Loss on the plane through A and B", xLabel: "x (A at 0, B at 1)",
                                  yLabel: "y (orthogonal, scaled to ‖B − A‖)", xs: xs, ys: ys, values: surface.losses)
                heat.markers = [("A", 0, 0), ("B", 1, 0)]
                report.paragraph = "Loss of θA + x·(θB − θA) + y·v on the first \(examples) \(split) examples of "
                    + "\(models.datasetName), A = `\(checkpoint)`, B = `\(b)`, v a filter-normalized Gaussian direction "
                    + "(zero on biases and BatchNorm parameters) made orthogonal to B − A and scaled to ‖B − A‖; "
                    + "\(points)×\(points) grid, seed \(seed)."
                report.add("loss at A / B", String(format: "%.4g / %.4g", endpoints.losses[0], endpoints.losses[1]))
                report.add("‖θB − θA‖", u.norm)
            } else {
                let d1 = filterNormalizedDirection(model, generator: generator)
                let d2 = filterNormalizedDirection(model, generator: generator)
                let xs = grid(0), ys = grid(0)
                surface = lossSurface(model, center: center, d1, d2, xs: xs, ys: ys, on: data)
                summary["direction_cosine"] = d1.dot(d2) / (d1.norm * d2.norm)
                heat = SVGHeatMap(title: "Loss on two filter-normalized directions", xLabel: "α", yLabel: "β",
                                  xs: xs, ys: ys, values: surface.losses)
                heat.markers = [("θ", 0, 0)]
                report.paragraph = "Loss of θ + α·δ + β·η on the first \(examples) \(split) examples of "
                    + "\(models.datasetName) over a \(points)×\(points) grid on [−\(range), \(range)]², θ = `\(checkpoint)`, "
                    + "δ and η independent Gaussian directions rescaled filter by filter to the weights' norms "
                    + "(Li et al. 2018), zero on biases and BatchNorm parameters; seed \(seed)."
            }
            (losses, errors) = (surface.losses.flatMap { $0 }, surface.errors.flatMap { $0 })
            summary["surface"] = try jsonObject(surface)
            try heat.write(to: run.file("landscape_2d.svg"))
            report.image("Loss surface (color: log scale; white lines: contours)", "landscape_2d.svg")
        }
        let finite = losses.filter(\.isFinite)
        summary["min_loss"] = finite.min() ?? Double.nan
        summary["max_loss"] = finite.max() ?? Double.nan
        summary["min_error"] = errors.min() ?? Double.nan
        summary["max_error"] = errors.max() ?? Double.nan
        report.add("center_loss", centerEvaluation.loss)
        report.add("center_error", centerEvaluation.error)
        report.add("min_loss", finite.min() ?? .nan)
        report.add("max_loss", finite.max() ?? .nan)
        report.add("max_error", errors.max() ?? .nan)
        try run.writeSummary(summary)
        try report.write(to: run.file("report.md"))
        print(String(format: "center loss %.4g; loss over the grid %.4g … %.4g; run directory %@",
                     centerEvaluation.loss, finite.min() ?? .nan, finite.max() ?? .nan, directory.path))
    }
}
