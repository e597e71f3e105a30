import ArgumentParser
import Fathom
import Foundation

/// `fathom grok`: grokking on modular addition — train accuracy reaches 100% long before
/// test accuracy does (Power et al. 2022) — with softmax or StableMax cross-entropy and
/// AdamW or ⊥AdamW (Prieto et al. 2025, "Grokking at the Edge of Numerical Stability").
struct Grok: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grok", abstract: "Grokking on (a + b) mod p: train/test accuracy curves and the steps they reach 99%.")

    @Option(help: "The modulus p (p² pairs).") var p = 97
    @Option(help: "Fraction of the pairs used for training.") var trainFraction = 0.4
    @Option(help: "Full-batch optimizer steps.") var steps = 3000
    @Option(help: "Learning rate.") var lr = 1e-3
    @Option(help: "Decoupled (AdamW) weight decay.") var weightDecay = 1.0
    @Option(help: "Adam β₂.") var beta2 = 0.98
    @Option(help: "Loss: softmax or stablemax.") var loss = "softmax"
    @Option(help: "Optimizer: adamw or perp-adamw (⊥Grad around AdamW).") var optimizer = "adamw"
    @Option(help: "Embedding width.") var embeddingDim = 128
    @Option(help: "Hidden width of the MLP.") var hiddenDim = 256
    @Option(help: "Record metrics every this many steps.") var logEvery = 50
    @Option(help: "Seed of the split (and, plus one, of the initialization).") var seed: UInt64 = 0
    @Option(help: "Run directory (default: runs/grok-LOSS-OPTIMIZER-wdWD).") var out: String?

    func validate() throws {
        if p < 2 { throw ValidationError("--p must be at least 2, got \(p)") }
        if !(trainFraction > 0 && trainFraction < 1) { throw ValidationError("--train-fraction must be in (0, 1), got \(trainFraction)") }
        for (flag, value) in [("--steps", steps), ("--log-every", logEvery), ("--embedding-dim", embeddingDim),
                              ("--hidden-dim", hiddenDim)] where value <= 0 {
            throw ValidationError("\(flag) must be positive, got \(value)")
        }
        if !(lr > 0) || weightDecay < 0 || !(0..<1).contains(beta2) {
            throw ValidationError("need --lr > 0, --weight-decay >= 0 and --beta2 in [0, 1); got \(lr), \(weightDecay), \(beta2)")
        }
        if GrokkingConfig.Loss(rawValue: loss) == nil {
            throw ValidationError("--loss \(loss) is unknown; choose softmax or stablemax")
        }
        if GrokkingConfig.OptimizerKind(rawValue: optimizer) == nil {
            throw ValidationError("--optimizer \(optimizer) is unknown; choose adamw or perp-adamw")
        }
    }

    func run() throws {
        var config = GrokkingConfig()
        config.p = p
        config.trainFraction = trainFraction
        config.steps = steps
        config.lr = lr
        config.weightDecay = weightDecay
        config.beta2 = beta2
        config.loss = GrokkingConfig.Loss(rawValue: loss)!
        config.optimizer = GrokkingConfig.OptimizerKind(rawValue: optimizer)!
        config.embeddingDim = embeddingDim
        config.hiddenDim = hiddenDim
        config.logEvery = logEvery
        config.seed = seed
        let outDirectory = URL(fileURLWithPath: out ?? "runs/grok-\(loss)-\(optimizer)-wd\(weightDecay)")
        let run = try RunDirectory(outDirectory, config: [
            "command": "grok", "p": p, "train_fraction": trainFraction, "steps": steps, "lr": lr,
            "weight_decay": weightDecay, "beta2": beta2, "loss": loss, "optimizer": optimizer,
            "embedding_dim": embeddingDim, "hidden_dim": hiddenDim, "log_every": logEvery, "seed": seed,
        ])
        print("Grokking (a + b) mod \(p), \(Int(trainFraction * 100))% of pairs for training, \(loss) loss, "
              + "\(optimizer) lr \(lr) weight decay \(weightDecay), \(steps) full-batch steps.")
        var logError: Error?
        let result = trainGrokking(config) { r in
            do {
                try run.log(["step": r.step, "train_loss": r.trainLoss, "train_acc": r.trainAccuracy,
                             "test_loss": r.testLoss, "test_acc": r.testAccuracy, "weight_norm_sq": r.weightNormSquared])
            } catch { logError = error }
            if r.step % (config.logEvery * 10) == 0 || r.step == config.steps {
                print(String(format: "step %6d  train loss %.4g acc %.3f  test loss %.4g acc %.3f", r.step, r.trainLoss,
                             r.trainAccuracy, r.testLoss, r.testAccuracy))
            }
        }
        if let logError { throw logError }
        let final = result.final
        func stepText(_ step: Int?) -> String { step.map(String.init) ?? "never" }
        let summary: [String: Any] = [
            "train_acc_99_step": result.trainAccuracy99Step.map { $0 as Any } ?? NSNull(),
            "test_acc_99_step": result.testAccuracy99Step.map { $0 as Any } ?? NSNull(),
            "final_train_acc": final.trainAccuracy, "final_test_acc": final.testAccuracy,
            "final_train_loss": final.trainLoss, "final_test_loss": final.testLoss,
            "final_weight_norm_sq": final.weightNormSquared, "train_examples": result.trainCount,
            "test_examples": result.testCount, "parameters": result.parameterCount, "steps": steps,
            "seconds": result.seconds,
        ]
        try run.writeSummary(summary)

        let steps = result.history.map { Double($0.step) }
        var accuracy = SVGPlot(title: "Grokking: (a + b) mod \(p), \(loss), \(optimizer), wd \(weightDecay)",
                               xLabel: "optimizer step (log scale)", yLabel: "accuracy")
        accuracy.logX = true
        accuracy.add("train", x: steps, y: result.history.map(\.trainAccuracy))
        accuracy.add("test", x: steps, y: result.history.map(\.testAccuracy))
        try accuracy.write(to: run.file("accuracy.svg"))
        var lossPlot = SVGPlot(title: "Loss (log10)", xLabel: "optimizer step (log scale)", yLabel: "log10 loss")
        lossPlot.logX = true
        lossPlot.add("train", x: steps, y: result.history.map { log10($0.trainLoss) })
        lossPlot.add("test", x: steps, y: result.history.map { log10($0.testLoss) })
        try lossPlot.write(to: run.file("loss.svg"))

        var report = Report(title: "Grokking: (a + b) mod \(p)", paragraph:
            "Embedding (\(embeddingDim)) of a and b, concatenated, into a ReLU MLP (hidden \(hiddenDim)); "
            + "\(result.trainCount) training pairs, \(result.testCount) test pairs; full-batch \(optimizer) "
            + "(lr \(lr), β₂ \(beta2), weight decay \(weightDecay)) on \(loss) cross-entropy for \(steps) steps. "
            + "The 99% steps are the first recorded steps (every \(logEvery)) at which accuracy is at least 99%.")
        report.add("train accuracy ≥ 99% at step", stepText(result.trainAccuracy99Step))
        report.add("test accuracy ≥ 99% at step", stepText(result.testAccuracy99Step))
        report.add("final train accuracy", final.trainAccuracy)
        report.add("final test accuracy", final.testAccuracy)
        report.add("final train loss", final.trainLoss)
        report.add("parameters", "\(result.parameterCount)")
        report.add("wall seconds", result.seconds)
        report.image("Train and test accuracy", "accuracy.svg")
        report.image("Train and test loss", "loss.svg")
        try report.write(to: run.file("report.md"))
        print("train acc ≥ 99% at step \(stepText(result.trainAccuracy99Step)), test acc ≥ 99% at step "
              + "\(stepText(result.testAccuracy99Step)); final train \(String(format: "%.3f", final.trainAccuracy)) "
              + "test \(String(format: "%.3f", final.testAccuracy)); \(String(format: "%.1f", result.seconds)) s; "
              + "run directory \(outDirectory.path)")
    }
}
