import FathomTensor
import Foundation

/// MNIST and Fashion-MNIST (same IDX layout: 28×28 grayscale, 10 classes), read from a
/// directory holding the canonical file names, gzip or raw.
public enum MNIST {
    /// Which split to read.
    public enum Split: String, Sendable {
        case train, test

        var prefix: String { self == .train ? "train" : "t10k" }
        var count: Int { self == .train ? 60_000 : 10_000 }
    }

    /// Loads a split from `directory` (e.g. `../shared/data/mnist`). Works for
    /// Fashion-MNIST too, which uses the same names.
    ///
    /// - Throws: `DataError` naming the missing or malformed file and the `--data-dir` to fix.
    public static func load(_ split: Split, from directory: URL) throws -> ImageDataset {
        let imagesURL = try locate("\(split.prefix)-images-idx3-ubyte", in: directory)
        let labelsURL = try locate("\(split.prefix)-labels-idx1-ubyte", in: directory)
        // Caps from the real sizes, with slack: a corrupt file cannot make us allocate more.
        let images = try IDX.readBytes(imagesURL, limit: 16 + split.count * 784 + 1024)
        let labels = try IDX.readBytes(labelsURL, limit: 8 + split.count + 1024)
        guard images.shape.count == 3, images.shape[1] == 28, images.shape[2] == 28 else {
            throw DataError(file: imagesURL.path, "expected images of shape [N, 28, 28], found \(images.shape)")
        }
        guard labels.shape == [images.shape[0]] else {
            throw DataError(file: labelsURL.path, "has \(labels.shape) labels for \(images.shape[0]) images")
        }
        if let bad = labels.bytes.first(where: { $0 > 9 }) {
            throw DataError(file: labelsURL.path, "holds label \(bad); MNIST labels are 0...9")
        }
        return ImageDataset(pixels: images.bytes, labels: labels.bytes.map(Int64.init),
                            imageShape: [1, 28, 28], classCount: 10)
    }

    /// The file `name` or `name.gz` in `directory`.
    static func locate(_ name: String, in directory: URL) throws -> URL {
        for candidate in [name + ".gz", name] {
            let url = directory.appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw DataError(file: directory.appendingPathComponent(name + ".gz").path,
                        "not found; pass --data-dir with the directory holding the MNIST files (\(name)[.gz])")
    }
}
