import ArgumentParser
import Fathom
import Foundation

/// `fathom eval`: test loss and accuracy of a training checkpoint.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint written by fathom train.")

    @Option(help: "A checkpoint.safetensors written by fathom train.") var checkpoint: String
    @Option(help: "Dataset (default: the one the checkpoint was trained on).") var dataset: String?
    @Option(help: "Directory holding the dataset's files.") var dataDir: String?
    @Option(help: "Seed of the procedural shapes data (as given to fathom train).") var seed: UInt64 = 0

    func run() throws {
        let state = try TrainingCheckpoint.load(from: URL(fileURLWithPath: checkpoint))
        guard let modelName = state.metadata["model"] else {
            throw ValidationError("\(checkpoint) does not name its model; pass a checkpoint written by fathom train")
        }
        let name = dataset ?? state.metadata["dataset"] ?? "shapes"
        let test = try DatasetCatalog.load(name, split: .test, directory: dataDir.map { URL(fileURLWithPath: $0) }, seed: seed)
        let model = try ModelZoo.make(modelName, inputShape: test.imageShape, classCount: test.classCount)
        try model.load(stateDict: state.model)
        let result = evaluate(model, on: test, normalizer: InputNormalizer(DatasetCatalog.normalization(name)))
        print(String(format: "%@ on %@ (%d examples): test loss %.4f, accuracy %.2f%%", modelName, name, test.count,
                     result.loss, result.accuracy * 100))
    }
}
