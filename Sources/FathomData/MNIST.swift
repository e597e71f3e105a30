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

    /// The files of MNIST (`fashion: false`) or Fashion-MNIST and their mirrors, with the
    /// MD5 of MNIST's decompressed contents and of Fashion-MNIST's published files.
    public static func remoteFiles(fashion: Bool) -> [RemoteFile] {
        let mirrors = fashion
            ? ["https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
            : ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"]
        let files: [(String, String, String, Int)] = fashion ? [
            ("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "", 47_040_016),
            ("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe", "", 60_008),
            ("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79", "", 7_840_016),
            ("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310", "", 10_008),
        ] : [
            ("train-images-idx3-ubyte", "", "6bbc9ace898e44ae57da46a324031adb", 47_040_016),
            ("train-labels-idx1-ubyte", "", "a25bea736e30d166cdddb491f175f624", 60_008),
            ("t10k-images-idx3-ubyte", "", "2646ac647ad5339dbf082846283269ea", 7_840_016),
            ("t10k-labels-idx1-ubyte", "", "27ae3e4e09519cfbb04c329615203637", 10_008),
        ]
        return files.map { name, fileMD5, contentMD5, bytes in
            RemoteFile(name: name + ".gz", urls: mirrors.map { URL(string: $0 + name + ".gz")! },
                       md5: fashion ? fileMD5 : contentMD5, checksum: fashion ? .file : .contents,
                       contentBytes: bytes)
        }
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
