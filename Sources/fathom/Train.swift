import ArgumentParser
import Fathom
import Foundation

/// `fathom train`: trains a zoo model on a named dataset, writing a run directory with
/// `config.json`, `metrics.jsonl`, `summary.json` and `checkpoint.safetensors`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model; with no arguments, a quick recipe on the built-in shapes dataset.")

    @Option(help: "Model: \(ModelZoo.names.joined(separator: ", ")).") var model = "lenet5"
    @Option(help: "Dataset: \(DatasetCatalog.names.joined(separator: ", ")).") var dataset = "shapes"
    @Option(help: "Directory holding the dataset's files (not needed for shapes).") var dataDir: String?
    @Option(help: "Epochs (default: the recipe's).") var epochs: Int?
    @Option(help: "Batch size.") var batchSize: Int?
    @Option(help: "Learning rate.") var lr: Double?
    @Option(help: "Optimizer: sgd, nesterov, adam, adamw, rmsprop.") var optimizer: String?
    @Option(help: "Momentum (sgd, rmsprop).") var momentum: Double?
    @Option(help: "Weight decay.") var weightDecay: Double?
    @Option(help: "Learning-rate schedule per step: cosine, constant, onecycle, step.") var schedule: String?
    @Option(help: "Random seed (initialization, data order, dropout).") var seed: UInt64 = 0
    @Option(help: "Run directory (default: runs/MODEL-DATASET-SEED).") var out: String?
    @Option(help: "Resume the run in this directory from its checkpoint.") var resume: String?
    @Option(help: "Also checkpoint every N steps (0: at epoch ends only).") var checkpointEvery = 0
    @Option(help: "Limit the training set to N examples (quick experiments).") var trainLimit: Int?
    @Option(help: "Threads (default: FATHOM_NUM_THREADS or all cores).") var threads: Int?
    @Option(help: "Spawn from this run directory: train exactly as it did up to --at-step, then continue with --seed.")
    var spawnFrom: String?
    @Option(help: "The step at which a spawned run branches from its parent (with --spawn-from).") var atStep: Int?

    func validate() throws {
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
        if checkpointEvery < 0 { throw ValidationError("--checkpoint-every must be >= 0, got \(checkpointEvery)") }
        if let trainLimit, trainLimit <= 0 { throw ValidationError("--train-limit must be positive, got \(trainLimit)") }
        if (spawnFrom == nil) != (atStep == nil) {
            throw ValidationError("--spawn-from and --at-step go together: give the parent run directory and the step to branch at")
        }
        if let atStep, atStep < 0 { throw ValidationError("--at-step must be >= 0, got \(atStep)") }
        if spawnFrom != nil && resume != nil { throw ValidationError("--spawn-from starts a new run; it cannot be combined with --resume") }
        if !ModelZoo.names.contains(model) {
            throw ValidationError("--model \(model) is unknown; choose one of \(ModelZoo.names.joined(separator: ", "))")
        }
        if !DatasetCatalog.names.contains(dataset) {
            throw ValidationError("--dataset \(dataset) is unknown; choose one of \(DatasetCatalog.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        do {
            var config = try resume.map { try TrainingConfig.read(fromRun: URL(fileURLWithPath: $0)) }
                ?? spawnFrom.map { try spawnConfig(parent: $0, step: atStep!) } ?? makeConfig()
            if let resume { config.out = resume }
            try TrainingSession(config: config, resuming: resume != nil).run()
        } catch let error as ValidationFailure {
            throw ValidationError(error.description)
        }
    }

    /// The parent's configuration with this run's seed, output and branch point.
    private func spawnConfig(parent: String, step: Int) throws -> TrainingConfig {
        var config = try TrainingConfig.read(fromRun: URL(fileURLWithPath: parent))
        config.spawn = .init(parent: parent, parentSeed: config.seed, step: step)
        config.seed = seed
        config.out = out ?? "\(parent)-spawn-\(step)-\(seed)"
        config.checkpointEvery = checkpointEvery
        if let threads { config.threads = threads }
        return config
    }

    private func makeConfig() -> TrainingConfig {
        var recipe = Recipe.defaults(model: model, dataset: dataset)
        if let epochs { recipe.epochs = epochs }
        if let batchSize { recipe.batchSize = batchSize }
        if let lr { recipe.lr = lr }
        if let optimizer { recipe.optimizer = optimizer }
        if let momentum { recipe.momentum = momentum }
        if let weightDecay { recipe.weightDecay = weightDecay }
        if let schedule { recipe.schedule = schedule }
        return TrainingConfig(model: model, dataset: dataset, dataDir: dataDir, recipe: recipe, seed: seed,
                              out: out ?? "runs/\(model)-\(dataset)-\(seed)", checkpointEvery: checkpointEvery,
                              trainLimit: trainLimit, threads: threads)
    }
}
