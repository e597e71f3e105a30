import Foundation
import XCTest
@testable import FathomData
import FathomTensor

final class MNISTTests: XCTestCase {
    /// `../shared/data/mnist` beside the repository, as CI provides it.
    private let mnistDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../../../shared/data/mnist").standardized

    func testReadsRealMNIST() throws {
        guard FileManager.default.fileExists(atPath: mnistDirectory.appendingPathComponent("t10k-images-idx3-ubyte.gz").path) else {
            print("MNISTTests: real MNIST not found at \(mnistDirectory.path); reading it was not tested")
            return
        }
        let test = try MNIST.load(.test, from: mnistDirectory)
        XCTAssertEqual(test.count, 10_000)
        // Known facts of the canonical test set: the first label is 7, the class counts.
        XCTAssertEqual(test.labels.prefix(5), [7, 2, 1, 0, 4])
        XCTAssertEqual(test.labels.filter { $0 == 1 }.count, 1135)
        let batch = test.batch(at: [0, 1])
        XCTAssertEqual(batch.inputs.shape, [2, 1, 28, 28])
        XCTAssertEqual(batch.labels.scalars(as: Int64.self), [7, 2])
        let pixels = batch.inputs.scalars(as: Float.self)
        XCTAssertEqual(pixels.min(), 0)
        XCTAssertEqual(pixels.max(), 1)
    }

    func testMalformedIDXGivesClearErrors() throws {
        func message(_ bytes: [UInt8]) -> String {
            do {
                _ = try IDX.parse(Data(bytes), file: "x.idx")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message([1, 2, 3, 4]), "Fathom.data: x.idx: not an IDX file (bad magic number); expected an MNIST-style idx file, gzip or raw")
        XCTAssertTrue(message([0, 0, 8, 3, 0, 0]).contains("too short"))
        // A header promising 2^32-ish bytes with 4 bytes of data: rejected, nothing allocated.
        XCTAssertTrue(message([0, 0, 8, 2, 255, 255, 255, 255, 255, 255, 255, 255, 1, 2, 3, 4]).contains("the file is truncated or corrupt"))
        XCTAssertEqual(try IDX.parse(Data([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 1, 9, 8]), file: "ok").shape, [2, 1])
    }

    func testCorruptGzipIsRejectedWithinTheLimit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-gzip-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("zeros")
        try Data(count: 100_000).write(to: source)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-kf", source.path]
        try gzip.run()
        gzip.waitUntilExit()
        let compressed = directory.appendingPathComponent("zeros.gz")
        XCTAssertEqual(try readPossiblyGzipped(compressed, limit: 100_000).count, 100_000)
        XCTAssertThrowsError(try readPossiblyGzipped(compressed, limit: 50_000)) { error in
            XCTAssertTrue("\(error)".contains("decompresses to more than the 50000 bytes expected"), "\(error)")
        }
        let bytes = try Data(contentsOf: compressed)
        try bytes.prefix(bytes.count / 2).write(to: compressed)
        XCTAssertThrowsError(try readPossiblyGzipped(compressed, limit: 100_000)) { error in
            XCTAssertTrue("\(error)".contains("truncated") || "\(error)".contains("corrupt"), "\(error)")
        }
    }

    func testMissingDirectoryNamesDataDir() {
        XCTAssertThrowsError(try MNIST.load(.train, from: URL(fileURLWithPath: "/nonexistent"))) { error in
            XCTAssertTrue("\(error)".contains("pass --data-dir"), "\(error)")
        }
    }

    func testLoaderOrderIsSeededAndComplete() {
        let data = ImageDataset(pixels: [UInt8](repeating: 0, count: 10), labels: (0..<10).map(Int64.init),
                                imageShape: [1, 1, 1], classCount: 10)
        let loader = DataLoader(data, batchSize: 4, shuffle: true, seed: 3)
        XCTAssertEqual(loader.order(epoch: 0), loader.order(epoch: 0))
        XCTAssertNotEqual(loader.order(epoch: 0), loader.order(epoch: 1))
        XCTAssertEqual(loader.order(epoch: 1).sorted(), Array(0..<10))
        let labels = loader.epoch(2).flatMap { $0.labels.scalars(as: Int64.self) }
        XCTAssertEqual(labels.map(Int.init), loader.order(epoch: 2))
        XCTAssertEqual(loader.batchCount, 3)
        XCTAssertEqual(DataLoader(data, batchSize: 4, dropLast: true).epoch(0).map(\.count), [4, 4])
    }
}

final class ShapesTests: XCTestCase {
    func testDeterministicRandomAccessAndBalanced() {
        let data = ShapesDataset(count: 600, seed: 7, imageSize: 28)
        let a = data.batch(at: [5, 17]), b = data.batch(at: [17])
        XCTAssertEqual(a.inputs[1].scalars(as: Float.self), b.inputs[0].scalars(as: Float.self))
        XCTAssertNotEqual(ShapesDataset(count: 600, seed: 8).batch(at: [5]).inputs.scalars(as: Float.self),
                          a.inputs[0].scalars(as: Float.self))
        let labels = data.batch(at: Array(0..<600)).labels.scalars(as: Int64.self)
        for kind in ShapeKind.allCases {
            let n = labels.filter { $0 == Int64(kind.rawValue) }.count
            XCTAssertTrue(n > 60 && n < 140, "\(kind): \(n) of 600")
        }
    }

    func testRenderedAreaMatchesGeometry() {
        var rng = SplitMix64(seed: 1)
        let renderer = ShapeRenderer(size: 64)
        func area(_ kind: ShapeKind, _ w: Double, _ h: Double, _ angle: Double) -> Double {
            let shape = ShapeInstance(kind: kind, centerX: 32, centerY: 32, width: w, height: h, angle: angle)
            return renderer.render([shape], rng: &rng).reduce(0) { $0 + Double($1) }
        }
        // Coverage-weighted pixel sums equal the exact areas to within the edge sampling error.
        XCTAssertEqual(area(.circle, 30, 30, 0), Double.pi * 15 * 15, accuracy: 8)
        XCTAssertEqual(area(.rectangle, 40, 10, 0.7), 400, accuracy: 8)
        XCTAssertEqual(area(.triangle, 30, 30, 1.1), 450, accuracy: 8)
        XCTAssertEqual(area(.cross, 30, 30, 0.3), 900 * 5 / 9, accuracy: 8)
        XCTAssertEqual(area(.ellipse, 40, 20, 2), Double.pi * 20 * 10, accuracy: 8)
    }
}

final class IDXFuzzTests: XCTestCase {
    /// Thousands of seeded corruptions of a valid (gzip and raw) IDX file: each is either
    /// parsed to the promised size or rejected with a DataError — never a crash or a huge
    /// allocation (the decompression limit bounds memory).
    func testRandomCorruptionsNeverCrash() throws {
        var raw: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 4]
        raw += (0..<80).map { UInt8($0 * 3 % 256) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-idx-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = directory.appendingPathComponent("x.idx")
        try Data(raw).write(to: plain)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-kf", plain.path]
        try gzip.run()
        gzip.waitUntilExit()
        let compressed = [UInt8](try Data(contentsOf: directory.appendingPathComponent("x.idx.gz")))

        var rng = SplitMix64(seed: 42)
        var outcomes = (parsed: 0, rejected: 0)
        let target = directory.appendingPathComponent("fuzz")
        for trial in 0..<3000 {
            var bytes = trial % 2 == 0 ? raw : compressed
            switch rng.next(below: 3) {
            case 0: bytes = Array(bytes.prefix(Int(rng.next(below: UInt64(bytes.count)))))
            case 1:
                for _ in 0..<(1 + Int(rng.next(below: 4))) {
                    bytes[Int(rng.next(below: UInt64(bytes.count)))] = UInt8(rng.next(below: 256))
                }
            default:
                bytes.insert(UInt8(rng.next(below: 256)), at: Int(rng.next(below: UInt64(bytes.count))))
            }
            try Data(bytes).write(to: target)
            do {
                let result = try IDX.readBytes(target, limit: 4096)
                XCTAssertEqual(result.bytes.count, result.shape.reduce(1, *))
                outcomes.parsed += 1
            } catch is DataError {
                outcomes.rejected += 1
            }
        }
        XCTAssertGreaterThan(outcomes.rejected, 1500, "most corruptions are detected")
    }
}
