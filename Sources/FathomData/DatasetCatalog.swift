import Foundation

/// Datasets by the names the command line takes, with the split and directory resolved.
public enum DatasetCatalog {
    public static let names = ["mnist", "fashion-mnist", "cifar10", "cifar100", "shapes"]

    /// The per-channel mean and standard deviation inputs are normalized with (the usual
    /// published training-set figures), or nil for data used as is.
    public static func normalization(_ name: String) -> (mean: [Float], std: [Float])? {
        switch name {
        case "mnist": ([0.1307], [0.3081])
        case "fashion-mnist": ([0.2860], [0.3530])
        case "cifar10": ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])
        case "cifar100": ([0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762])
        default: nil
        }
    }

    /// The training or test split of `name`.
    ///
    /// - Parameters:
    ///   - directory: where the files are (`--data-dir`); unused by `shapes`.
    ///   - shapesCount: examples in the procedural `shapes` split.
    /// MNIST and Fashion-MNIST without a directory are downloaded into
    /// `Downloader.cacheDirectory(for:)`; CIFAR needs `directory`.
    /// - Throws: `DataError` naming the missing files and the `--data-dir` flag.
    public static func load(_ name: String, split: MNIST.Split, directory: URL?, shapesCount: Int? = nil,
                            seed: UInt64 = 0) throws -> ImageDataset {
        func needDirectory() throws -> URL {
            guard let directory else {
                throw DataError(file: name, "no data directory given; pass --data-dir with the directory holding the \(name) files")
            }
            return directory
        }
        switch name {
        case "mnist", "fashion-mnist":
            if let directory { return try MNIST.load(split, from: directory) }
            // No --data-dir: use the cache, downloading what is missing.
            let cache = Downloader.cacheDirectory(for: name)
            for file in MNIST.remoteFiles(fashion: name == "fashion-mnist") where file.name.hasPrefix(split == .train ? "train" : "t10k") {
                try Downloader.ensure(file, in: cache)
            }
            return try MNIST.load(split, from: cache)
        case "cifar10":
            return try CIFAR.load(.cifar10, split, from: needDirectory())
        case "cifar100":
            return try CIFAR.load(.cifar100, split, from: needDirectory())
        case "shapes":
            let count = shapesCount ?? (split == .train ? 12_000 : 2_000)
            // Train and test come from disjoint seeds.
            let data = ShapesDataset(count: count, seed: seed &* 2 &+ (split == .train ? 0 : 1))
            return data.materialized()
        default:
            throw DataError(file: name, "unknown dataset; choose one of \(names.joined(separator: ", "))")
        }
    }
}

extension ShapesDataset {
    /// All examples rendered once into an in-memory image dataset (8-bit, as real datasets ship).
    public func materialized() -> ImageDataset {
        let batch = self.batch(at: Array(0..<count))
        let pixels = batch.inputs.scalars(as: Float.self).map { UInt8((Swift.min(Swift.max($0, 0), 1) * 255).rounded()) }
        return ImageDataset(pixels: pixels, labels: batch.labels.scalars(as: Int64.self),
                            imageShape: [1, imageSize, imageSize], classCount: classCount)
    }
}
