import ArgumentParser
import Fathom
import Foundation

/// `fathom abrupt`: abrupt learning in the ghost-mechanism toy (Dinc et al., arXiv 2501.02378)
/// — dx/dt = a·x² + r trained so that σ(gain·x) switches on after a delay. One run shows the
/// plateau and the sudden drop; `--sweep` sweeps the learning rate for the critical rate (the
/// oscillatory minimum and the no-learning zone beyond it) with and without the two remedies
/// (lower read-out gain, a second trainable parameter); `--rnn` trains a small tanh RNN on the
/// same task.
struct Abrupt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abrupt", abstract: "Abrupt learning through a ghost point: plateau, drop, critical learning rate, remedies.")

    @Option(help: "Delay T in steps: the output must switch on at step T (the trial lasts 2T).") var delay = 20
    @Option(help: "Learning rate of the main run.") var lr = 0.004
    @Option(help: "Gradient steps per run.") var steps = 1500
    @Option(help: "Read-out gain (confidence) σ(gain·x).") var gain = 5.0
    @Option(help: "The lowered read-out gain of the first remedy.") var lowGain = 2.0
    @Flag(help: "Sweep log-spaced learning rates for the critical rate, with and without the remedies.") var sweep = false
    @Option(help: "Learning rates swept (--sweep).") var sweepPoints = 25
    @Option(help: "Smallest learning rate swept.") var lrMin = 1e-3
    @Option(help: "Largest learning rate swept.") var lrMax = 3.0
    @Option(help: "Comma-separated delays (e.g. 10,20,40): sweep each for its critical learning rate and fit the power law.") var delays: String?
    @Flag(help: "Also train a small tanh RNN on the delayed-activation task.") var rnn = false
    @Option(help: "Hidden units of the RNN.") var hidden = 16
    @Option(help: "Delay of the RNN task (its trial lasts twice as long).") var rnnDelay = 10
    @Option(help: "SGD learning rate of the RNN.") var rnnLr = 0.05
    @Option(help: "Gradient steps of the RNN.") var rnnSteps = 800
    @Option(help: "Seed of the RNN's initial weights.") var seed: UInt64 = 0
    @Option(help: "Run directory (default: runs/abrupt-T<delay>).") var out: String?

    func validate() throws {
        if delay < 1 { throw ValidationError("--delay must be at least 1, got \(delay)") }
        if steps < 10 { throw ValidationError("--steps must be at least 10, got \(steps)") }
        if !(lr > 0) { throw ValidationError("--lr must be positive, got \(lr)") }
        if !(gain > 0) || !(lowGain > 0) { throw ValidationError("--gain and --low-gain must be positive") }
        if sweepPoints < 2 { throw ValidationError("--sweep-points must be at least 2, got \(sweepPoints)") }
        if !(lrMin > 0 && lrMax > lrMin) { throw ValidationError("need 0 < --lr-min < --lr-max, got \(lrMin) and \(lrMax)") }
        if let delays, parsedDelays(delays) == nil {
            throw ValidationError("--delays must be at least two comma-separated positive integers, got \(delays)")
        }
        if hidden < 1 || rnnDelay < 1 || rnnSteps < 10 { throw ValidationError("--hidden, --rnn-delay must be ≥ 1 and --rnn-steps ≥ 10") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: out ?? "runs/abrupt-T\(delay)")
        let run = try RunDirectory(directory, config: [
            "command": "abrupt", "delay": delay, "lr": lr, "steps": steps, "gain": gain, "low_gain": lowGain,
            "sweep": sweep, "sweep_points": sweepPoints, "lr_min": lrMin, "lr_max": lrMax, "rnn": rnn,
            "hidden": hidden, "rnn_delay": rnnDelay, "rnn_lr": rnnLr, "rnn_steps": rnnSteps, "seed": Int(seed),
        ])
        let config = GhostModelConfig(delay: delay, gain: gain)
        var report = Report(title: "Abrupt learning through a ghost point (delay T = \(delay))", paragraph:
            "The toy of Dinc et al. (arXiv 2501.02378): x_{t+1} = clamp(x_t + dt·(a·x_t² + r), ±\(config.xMax)) with "
            + "dt = \(config.dt), x_0 = \(config.x0), r_0 = \(config.r0), a = \(config.a0), read-out y = σ(gain·x), "
            + "target 0 before step T and 1 from it on over 2T steps, mean squared error, gradient descent on r "
            + "(gradients from the autodiff tape). plateau_steps: steps until the loss covered half its total "
            + "decrease; drop_step: the step of the largest one-step decrease; drop_fraction: that decrease over the total.")

        let main = trainGhostModel(config, learningRates: [lr], steps: steps)[0]
        var summary: [String: Any] = [
            "delay": delay, "learning_rate": lr, "gain": gain, "steps": steps,
            "plateau_steps": main.analysis.plateauSteps ?? NSNull(), "drop_step": main.analysis.dropStep ?? NSNull(),
            "drop_fraction": main.analysis.dropFraction, "abrupt": main.analysis.abrupt,
            "initial_loss": main.analysis.initialLoss, "final_loss": main.analysis.finalLoss,
            "final_r": main.finalR, "outcome": main.outcome.rawValue,
        ]
        var curve = SVGPlot(title: "Ghost model, lr = \(lr): plateau then drop", xLabel: "gradient step", yLabel: "loss (MSE)")
        curve.add("loss", x: main.losses.indices.map(Double.init), y: main.losses)
        try curve.write(to: run.file("loss_curve.svg"))
        report.add("outcome at lr \(lr)", main.outcome.rawValue)
        report.add("plateau_steps", main.analysis.plateauSteps.map(String.init) ?? "none")
        report.add("drop_step", main.analysis.dropStep.map(String.init) ?? "none")
        report.add("drop_fraction", main.analysis.dropFraction)
        report.add("final_loss / initial_loss", String(format: "%.4g / %.4g", main.analysis.finalLoss, main.analysis.initialLoss))
        report.add("final r", main.finalR)
        report.image("Loss curve of the main run", "loss_curve.svg")
        print(String(format: "ghost model lr %g: %@, plateau %@ steps, drop at step %@ (%.0f%% of the decrease in one step), loss %.4f → %.4f",
                     lr, main.outcome.rawValue, main.analysis.plateauSteps.map(String.init) ?? "-",
                     main.analysis.dropStep.map(String.init) ?? "-", 100 * main.analysis.dropFraction,
                     main.analysis.initialLoss, main.analysis.finalLoss))

        if sweep { try runSweep(config, run: run, summary: &summary, report: &report) }
        if let delays, let list = parsedDelays(delays) { try runDelays(list, run: run, summary: &summary, report: &report) }
        if rnn { try runRNN(run: run, summary: &summary, report: &report) }
        try run.writeSummary(summary)
        try report.write(to: run.file("report.md"))
        print("run directory \(directory.path)")
    }

    private func sweepSummary(_ sweep: LearningRateSweep) -> [String: Any] {
        let atLR = sweep.runs.min { abs(Foundation.log($0.learningRate / lr)) < abs(Foundation.log($1.learningRate / lr)) }
        return [
            "critical_learning_rate": sweep.criticalLearningRate ?? NSNull(),
            "largest_learned_rate": sweep.largestLearnedRate ?? NSNull(),
            "no_learning_zone_onset": sweep.noLearningZoneOnset ?? NSNull(),
            "learned_count": sweep.runs.filter { $0.outcome == .learned }.count,
            "learning_rates": sweep.runs.map(\.learningRate), "final_losses": sweep.runs.map(\.analysis.finalLoss),
            "outcomes": sweep.runs.map(\.outcome.rawValue),
            "plateau_steps": sweep.runs.map { $0.analysis.plateauSteps ?? -1 },
            "plateau_steps_near_lr": atLR?.analysis.plateauSteps ?? NSNull(),
        ]
    }

    private func runSweep(_ config: GhostModelConfig, run: RunDirectory, summary: inout [String: Any], report: inout Report) throws {
        let rates = LearningRateSweep.logSpaced(from: lrMin, to: lrMax, count: sweepPoints)
        var extra = config
        extra.trainQuadratic = true
        let variants: [(key: String, label: String, sweep: LearningRateSweep)] = [
            ("baseline", "gain \(gain)", sweepLearningRates(config, learningRates: rates, steps: steps)),
            ("lower_gain", "gain \(lowGain)", sweepLearningRates(config, learningRates: rates, gain: lowGain, steps: steps)),
            ("extra_rank", "gain \(gain), a trainable", sweepLearningRates(extra, learningRates: rates, steps: steps)),
        ]
        let base = variants[0].sweep
        summary["critical_learning_rate"] = base.criticalLearningRate ?? NSNull()
        summary["largest_learned_rate"] = base.largestLearnedRate ?? NSNull()
        summary["no_learning_zone_onset"] = base.noLearningZoneOnset ?? NSNull()
        summary["sweep"] = sweepSummary(base)
        summary["remedies"] = ["lower_gain": sweepSummary(variants[1].sweep).merging(["gain": lowGain]) { a, _ in a },
                               "extra_rank": sweepSummary(variants[2].sweep)]
        var plot = SVGPlot(title: "Final loss against learning rate", xLabel: "log10(learning rate)", yLabel: "final loss (last 10% of steps)")
        for variant in variants {
            plot.add(variant.label, x: variant.sweep.runs.map { Foundation.log10($0.learningRate) },
                     y: variant.sweep.runs.map(\.analysis.finalLoss))
        }
        try plot.write(to: run.file("sweep.svg"))
        // One curve per regime: learned, oscillating (just past the critical rate), no learning.
        var regimes = SVGPlot(title: "Loss curves on either side of the critical learning rate", xLabel: "gradient step", yLabel: "loss (MSE)")
        let examples = [base.runs.last { $0.outcome == .learned },
                        base.runs.first { $0.outcome == .oscillating && $0.learningRate >= (base.criticalLearningRate ?? 0) },
                        base.runs.first { $0.outcome == .noLearning && $0.learningRate >= (base.criticalLearningRate ?? .infinity) }]
        for example in examples.compactMap({ $0 }) {
            // Every k-th step keeps the figure small (three curves of `steps` points).
            let stride = Swift.max(1, example.losses.count / 500)
            let kept = Array(Swift.stride(from: 0, to: example.losses.count, by: stride))
            regimes.add(String(format: "lr %.3g (%@)", example.learningRate, example.outcome.rawValue),
                        x: kept.map(Double.init), y: kept.map { example.losses[$0] })
        }
        try regimes.write(to: run.file("regimes.svg"))
        func rate(_ value: Double?) -> String { value.map { String(format: "%.3g", $0) } ?? "none in range" }
        for variant in variants {
            report.add("\(variant.key) (\(variant.label)): critical lr / largest learned / no-learning onset",
                       "\(rate(variant.sweep.criticalLearningRate)) / \(rate(variant.sweep.largestLearnedRate)) / \(rate(variant.sweep.noLearningZoneOnset))")
            print("\(variant.key): critical learning rate \(rate(variant.sweep.criticalLearningRate)), largest learned "
                  + "\(rate(variant.sweep.largestLearnedRate)), no-learning zone from \(rate(variant.sweep.noLearningZoneOnset)), "
                  + "\(variant.sweep.runs.filter { $0.outcome == .learned }.count)/\(rates.count) learned")
        }
        report.image("Final loss against learning rate", "sweep.svg")
        report.image("Loss curves on either side of the critical learning rate", "regimes.svg")
    }

    private func parsedDelays(_ text: String) -> [Int]? {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count >= 2, values.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
        return values.map { $0! }
    }

    /// The critical learning rate at each delay (baseline sweep) and the exponent p of
    /// η_c ∝ T^p fitted by least squares on log–log axes.
    private func runDelays(_ delays: [Int], run: RunDirectory, summary: inout [String: Any], report: inout Report) throws {
        let rates = LearningRateSweep.logSpaced(from: lrMin, to: lrMax, count: sweepPoints)
        var found: [(delay: Int, rate: Double)] = []
        var byDelay: [String: Any] = [:]
        for delay in delays {
            let critical = sweepLearningRates(GhostModelConfig(delay: delay, gain: gain), learningRates: rates, steps: steps).criticalLearningRate
            byDelay[String(delay)] = critical ?? NSNull()
            if let critical { found.append((delay, critical)) }
            print("delay \(delay): critical learning rate \(critical.map { String(format: "%.3g", $0) } ?? "none in range")")
        }
        summary["critical_learning_rate_by_delay"] = byDelay
        guard found.count >= 2 else { return }
        let xs = found.map { Foundation.log10(Double($0.delay)) }, ys = found.map { Foundation.log10($0.rate) }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        let exponent = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        summary["critical_learning_rate_exponent"] = exponent
        var plot = SVGPlot(title: "Critical learning rate against delay", xLabel: "log10(delay T)", yLabel: "log10(critical learning rate)")
        plot.add(String(format: "measured (slope %.2f)", exponent), x: xs, y: ys)
        try plot.write(to: run.file("critical_lr_vs_delay.svg"))
        report.add("critical learning rate by delay", found.map { "T=\($0.delay): " + String(format: "%.3g", $0.rate) }.joined(separator: ", "))
        report.add("fitted exponent p of η_c ∝ T^p", exponent)
        report.image("Critical learning rate against delay", "critical_lr_vs_delay.svg")
        print(String(format: "critical learning rate ∝ T^%.2f", exponent))
    }

    private func runRNN(run: RunDirectory, summary: inout [String: Any], report: inout Report) throws {
        let result = trainDelayedActivationRNN(DelayedActivationRNNConfig(
            hiddenSize: hidden, delay: rnnDelay, learningRate: rnnLr, steps: rnnSteps, seed: seed))
        summary["rnn"] = [
            "hidden": hidden, "delay": rnnDelay, "learning_rate": rnnLr, "steps": rnnSteps,
            "plateau_steps": result.analysis.plateauSteps ?? NSNull(), "drop_step": result.analysis.dropStep ?? NSNull(),
            "drop_fraction": result.analysis.dropFraction, "abrupt": result.analysis.abrupt,
            "initial_loss": result.analysis.initialLoss, "final_loss": result.analysis.finalLoss,
            "final_accuracy": result.finalAccuracy, "losses": result.losses,
        ] as [String: Any]
        var plot = SVGPlot(title: "Tanh RNN (\(hidden) units) on the delayed-activation task", xLabel: "SGD step", yLabel: "loss (MSE)")
        plot.add("loss", x: result.losses.indices.map(Double.init), y: result.losses)
        try plot.write(to: run.file("rnn_loss.svg"))
        report.add("RNN plateau_steps / drop_step / drop_fraction",
                   "\(result.analysis.plateauSteps.map(String.init) ?? "none") / \(result.analysis.dropStep.map(String.init) ?? "none") / "
                   + String(format: "%.3g", result.analysis.dropFraction))
        report.add("RNN loss initial → final, accuracy", String(format: "%.4g → %.4g, %.2f", result.analysis.initialLoss,
                                                                  result.analysis.finalLoss, result.finalAccuracy))
        report.image("RNN loss curve", "rnn_loss.svg")
        print(String(format: "rnn: plateau %@ steps, drop at %@ (%.0f%% of the decrease), loss %.4f → %.4f, accuracy %.2f",
                     result.analysis.plateauSteps.map(String.init) ?? "-", result.analysis.dropStep.map(String.init) ?? "-",
                     100 * result.analysis.dropFraction, result.analysis.initialLoss, result.analysis.finalLoss, result.finalAccuracy))
    }
}
