import Foundation

/// CIFAR-10 and CIFAR-100 in their binary format: 32×32 RGB images, one record per image
/// (a label byte — two for CIFAR-100: coarse then fine — then 3072 bytes, channel-major).
public enum CIFAR {
    public enum Variant: Sendable {
        case cifar10
        /// CIFAR-100 with its 100 fine labels.
        case cifar100

        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        var classCount: Int { self == .cifar10 ? 10 : 100 }
        func files(_ split: MNIST.Split) -> [String] {
            switch (self, split) {
            case (.cifar10, .train): (1...5).map { "data_batch_\($0).bin" }
            case (.cifar10, .test): ["test_batch.bin"]
            case (.cifar100, .train): ["train.bin"]
            case (.cifar100, .test): ["test.bin"]
            }
        }
        var subdirectory: String { self == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary" }
    }

    /// Loads a split from `directory`, which holds the batch files directly or in the
    /// archive's own subdirectory (`cifar-10-batches-bin`, `cifar-100-binary`).
    public static func load(_ variant: Variant, _ split: MNIST.Split, from directory: URL) throws -> ImageDataset {
        let recordSize = variant.labelBytes + 3072
        var pixels: [UInt8] = []
        var labels: [Int64] = []
        for name in variant.files(split) {
            let candidates = [directory.appendingPathComponent(name),
                              directory.appendingPathComponent(variant.subdirectory).appendingPathComponent(name)]
            guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
                throw DataError(file: candidates[1].path, "not found; pass --data-dir with the directory holding the CIFAR binary files")
            }
            // 50,000 records is the largest file (CIFAR-100 train).
            let data = try readPossiblyGzipped(url, limit: 50_000 * recordSize)
            guard data.count % recordSize == 0, !data.isEmpty else {
                throw DataError(file: url.path, "has \(data.count) bytes, not a whole number of \(recordSize)-byte records; the file is truncated or not a CIFAR binary batch")
            }
            let bytes = [UInt8](data)
            pixels.reserveCapacity(pixels.count + bytes.count)
            for start in stride(from: 0, to: bytes.count, by: recordSize) {
                let label = Int64(bytes[start + variant.labelBytes - 1])
                guard label < variant.classCount else {
                    throw DataError(file: url.path, "holds label \(label) at record \(start / recordSize); expected 0..<\(variant.classCount)")
                }
                labels.append(label)
                pixels.append(contentsOf: bytes[(start + variant.labelBytes)..<(start + recordSize)])
            }
        }
        return ImageDataset(pixels: pixels, labels: labels, imageShape: [3, 32, 32], classCount: variant.classCount)
    }
}
