import ArgumentParser
import Fathom
import Foundation

/// A checkpoint (`--checkpoint`) with its model rebuilt, optionally a second checkpoint of
/// the same architecture (`--b`), and the data to evaluate them on, normalized as in
/// training: what `fathom landscape` and `fathom rank` share.
struct CheckpointModels {
    let a: LoadedCheckpoint
    let b: LoadedCheckpoint?
    let modelA: Layer
    let modelB: Layer?
    let dataDir: URL?
    var modelName: String { a.modelName }
    var datasetName: String { a.datasetName }

    init(checkpoint: String, b pathB: String?, dataset: String?, dataDir: String?) throws {
        if let dataset, !DatasetCatalog.names.contains(dataset) {
            throw ValidationError("--dataset \(dataset) is unknown; choose one of \(DatasetCatalog.names.joined(separator: ", "))")
        }
        a = try LoadedCheckpoint(checkpoint, flag: "--checkpoint", dataset: dataset)
        b = try pathB.map { try LoadedCheckpoint($0, flag: "--b", dataset: dataset) }
        if let b, b.modelName != a.modelName {
            throw ValidationError("--b \(b.path) holds a \(b.modelName) but --checkpoint \(checkpoint) a \(a.modelName); both must be the same model")
        }
        self.dataDir = (dataDir ?? a.dataDir).map { URL(fileURLWithPath: $0) }
        let probe = try DatasetCatalog.load(a.datasetName, split: .test, directory: self.dataDir, shapesCount: 1, seed: a.seed)
        modelA = try a.makeModel(imageShape: probe.imageShape, classCount: probe.classCount, flag: "--checkpoint")
        modelB = try b.map { try $0.makeModel(imageShape: probe.imageShape, classCount: probe.classCount, flag: "--b") }
        if let modelB, let pathB {
            let sa = modelA.stateDict(), sb = modelB.stateDict()
            guard sa.keys == sb.keys, zip(sa.entries, sb.entries).allSatisfy({ $0.tensor.shape == $1.tensor.shape }) else {
                throw ValidationError("--b \(pathB) and --checkpoint \(checkpoint) hold differently shaped \(a.modelName) models; compare models of one architecture")
            }
        }
    }

    /// The first `limit` examples of `split` as normalized batches of at most 1000.
    func batches(_ split: MNIST.Split, limit: Int) throws -> [Batch] {
        var data = try DatasetCatalog.load(datasetName, split: split, directory: dataDir,
                                           shapesCount: datasetName == "shapes" ? limit : nil, seed: a.seed)
        if data.count > limit { data = data.prefix(limit) }
        let normalizer = InputNormalizer(DatasetCatalog.normalization(datasetName))
        return DataLoader(data, batchSize: 1000).epoch(0).map { Batch(inputs: normalizer($0.inputs), labels: $0.labels) }
    }
}

/// `train` or `test` as the MNIST-style split, naming `flag` in the error.
func parseSplit(_ text: String, flag: String) throws -> MNIST.Split {
    switch text {
    case "train": return .train
    case "test": return .test
    default: throw ValidationError("\(flag) must be train or test, got \(text)")
    }
}
