import ArgumentParser
import Fathom
import Foundation

/// `fathom align`: Git Re-Basin — permutes the hidden units of checkpoint B to match A
/// (weight matching, or activation matching for the MLP), writes the permuted B as a
/// checkpoint `fathom lmc` can read, and reports the loss barrier before and after.
struct Align: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align", abstract: "Permute checkpoint B's hidden units to match A (Git Re-Basin) and compare barriers.")

    @Option(help: "Reference checkpoint A (written by fathom train).") var a: String
    @Option(help: "Checkpoint B, permuted to match A (same model).") var b: String
    @Option(help: "Matching: weights (any supported model) or activations (mlp only).") var method = "weights"
    @Option(help: "Dataset (default: the checkpoints' own).") var dataset: String?
    @Option(help: "Directory holding the dataset's files (default: the run's config.json).") var dataDir: String?
    @Option(help: "Test examples the barriers are measured on (the first N; default: all).") var testLimit: Int?
    @Option(help: "Training examples activation matching runs on.") var matchExamples = 1000
    @Option(help: "Run directory (default: runs/align-MODEL-DATASET).") var out: String?

    func validate() throws {
        if method != "weights" && method != "activations" {
            throw ValidationError("--method must be weights or activations, got \(method)")
        }
        if let testLimit, testLimit <= 0 { throw ValidationError("--test-limit must be positive, got \(testLimit)") }
        if matchExamples <= 0 { throw ValidationError("--match-examples must be positive, got \(matchExamples)") }
    }

    /// The permutation spec of a zoo model, when weight matching supports it.
    static func spec(for model: String) -> PermutationSpec? {
        switch model {
        case "mlp": PermutationSpec.mlpSpec(hiddenLayers: 2)
        case "resnet20": PermutationSpec.cifarResNet(depth: 20)
        case "resnet32": PermutationSpec.cifarResNet(depth: 32)
        case "resnet56": PermutationSpec.cifarResNet(depth: 56)
        default: nil
        }
    }

    func run() throws {
        let pair = try CheckpointPair(a: a, b: b, dataset: dataset, dataDir: dataDir)
        guard let spec = Align.spec(for: pair.modelName) else {
            throw ValidationError("--a \(a): alignment supports mlp, resnet20, resnet32 and resnet56, not \(pair.modelName)")
        }
        if method == "activations" && pair.modelName != "mlp" {
            throw ValidationError("--method activations supports mlp only; use --method weights for \(pair.modelName)")
        }
        let stateA = pair.modelA.stateDict(), stateB = pair.modelB.stateDict()
        if let missing = spec.keys.first(where: { stateA[$0] == nil }) {
            throw ValidationError("--a \(a): the \(pair.modelName) state has no '\(missing)' that its permutation spec names")
        }
        let directory = URL(fileURLWithPath: out ?? "runs/align-\(pair.modelName)-\(pair.datasetName)")
        let run = try RunDirectory(directory, config: [
            "command": "align", "a": a, "b": b, "method": method, "dataset": pair.datasetName,
            "test_limit": testLimit ?? 0, "model": pair.modelName,
        ])

        let started = Date()
        let permutations: Permutations
        var details: [String: Any] = [:]
        if method == "weights" {
            let result = WeightMatching.match(spec, reference: stateA, other: stateB)
            permutations = result.permutations
            details = ["sweeps": result.sweeps, "initial_similarity": result.initialSimilarity,
                       "final_similarity": result.finalSimilarity]
        } else {
            let input = try pair.inputs(.train, count: matchExamples)
            permutations = ActivationMatching.match(pair.modelA, pair.modelB, input: input, layers: ["P_0": "2", "P_1": "4"])
        }
        let matchSeconds = Date().timeIntervalSince(started)
        let aligned = spec.apply(permutations, to: stateB)
        let alignedModel = try pair.b.makeModel(imageShape: try pair.dataset(.test, limit: 1).imageShape,
                                                classCount: try pair.dataset(.test, limit: 1).classCount, flag: "--b")
        try alignedModel.load(stateDict: aligned)
        var checkpoint = pair.b.state
        checkpoint.model = aligned
        checkpoint.optimizer = []  // B's optimizer buffers are in the unpermuted order
        checkpoint.metadata["aligned_to"] = a
        try checkpoint.save(to: run.file("aligned_b.safetensors"))

        let test = try pair.batches(.test, limit: testLimit)
        let lambdas = [0, 0.5, 1.0]
        let naive = BarrierReport(curve: interpolationCurve(pair.modelA, along: LinearPath(from: pair.modelA, to: pair.modelB),
                                                            lambdas: lambdas, on: test))
        let alignedReport = BarrierReport(curve: interpolationCurve(pair.modelA, along: LinearPath(from: pair.modelA, to: alignedModel),
                                                                    lambdas: lambdas, on: test))
        let reduction = naive.lossBarrier - alignedReport.lossBarrier
        var summary: [String: Any] = [
            "model": pair.modelName, "dataset": pair.datasetName, "a": a, "b": b, "method": method,
            "naive_loss_barrier": naive.lossBarrier, "naive_error_barrier": naive.errorBarrier,
            "aligned_loss_barrier": alignedReport.lossBarrier, "aligned_error_barrier": alignedReport.errorBarrier,
            "barrier_reduction": reduction,
            "naive_curve": try jsonObject(naive.curve), "aligned_curve": try jsonObject(alignedReport.curve),
            "match_seconds": matchSeconds, "permutations": permutations,
            "aligned_checkpoint": run.file("aligned_b.safetensors").path,
        ]
        summary.merge(details) { a, _ in a }
        // The permutation must not change what B computes: its endpoint loss stays the same.
        summary["aligned_b_loss_change"] = alignedReport.curve.losses.last! - naive.curve.losses.last!

        var plot = SVGPlot(title: "Test loss along the path, before and after alignment", xLabel: "λ (0: A, 1: B)",
                           yLabel: "cross-entropy")
        plot.add("naive", x: lambdas, y: naive.curve.losses)
        plot.add("aligned (\(method))", x: lambdas, y: alignedReport.curve.losses)
        try plot.write(to: run.file("alignment_loss.svg"))
        var report = Report(title: "Permutation alignment: \(pair.modelName) on \(pair.datasetName)", paragraph:
            "B = `\(b)` permuted to match A = `\(a)` by \(method == "weights" ? "weight matching" : "activation matching") "
            + "(Ainsworth, Hayase & Srinivasa 2023, Git Re-Basin). Barriers are max_λ L(θλ) − ½(L(θA) + L(θB)) on the "
            + "test set at λ ∈ {0, 0.5, 1}. The aligned B is `aligned_b.safetensors` (pass it to `fathom lmc --b`).")
        report.add("naive loss_barrier", naive.lossBarrier)
        report.add("aligned loss_barrier", alignedReport.lossBarrier)
        report.add("barrier_reduction", reduction)
        report.add("naive error_barrier", naive.errorBarrier)
        report.add("aligned error_barrier", alignedReport.errorBarrier)
        report.add("match_seconds", matchSeconds)
        report.image("Loss before and after alignment", "alignment_loss.svg")
        try run.writeSummary(summary)
        try report.write(to: run.file("report.md"))
        print(String(format: "loss barrier %.4f → %.4f (reduction %.4f); run directory %@", naive.lossBarrier,
                     alignedReport.lossBarrier, reduction, directory.path))
    }
}
