import Foundation
import XCTest
@testable import FathomTensor

final class SafetensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-safetensors-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testRoundTripKeepsOrderDTypesShapesAndBits() throws {
        let tensors: [(name: String, tensor: Tensor)] = [
            ("b", Tensor([1.5, -2, .pi] as [Float], shape: [3, 1])),
            ("a", Tensor([1e-300, 7] as [Double])),
            ("i", Tensor([Int64.min, 0, Int64.max])),
            ("m", Tensor([true, false])),
            ("view", Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]).transposed()),
        ]
        let url = directory.appendingPathComponent("x.safetensors")
        try Safetensors.write(tensors, metadata: ["step": "7"], to: url)
        let (read, metadata) = try Safetensors.read(from: url)
        XCTAssertEqual(metadata, ["step": "7"])
        XCTAssertEqual(read.map(\.name), tensors.map(\.name))
        for (original, loaded) in zip(tensors, read) {
            XCTAssertEqual(loaded.tensor.dtype, original.tensor.dtype)
            XCTAssertEqual(loaded.tensor.shape, original.tensor.shape)
            XCTAssertEqual(loaded.tensor.doubles, original.tensor.doubles, original.name)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(leftovers, ["x.safetensors"], "the temporary file was renamed away")
    }

    func testReadsAFileWrittenByTheReferenceImplementation() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/python_written.safetensors")
        let (tensors, metadata) = try Safetensors.read(from: url)
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        XCTAssertEqual(metadata["producer"], "safetensors")
        XCTAssertEqual(byName["weight"]?.shape, [3, 4])
        XCTAssertEqual(byName["weight"]?.scalars(as: Float.self), (0..<12).map { Float($0) / 8 })
        XCTAssertEqual(byName["bias"]?.scalars(as: Double.self), [-1.5, 0, 2.25])
        XCTAssertEqual(byName["index"]?.scalars(as: Int64.self), [0, -3, 7, 9])
        XCTAssertEqual(byName["mask"]?.scalars(as: Bool.self), [true, false, true])
        XCTAssertEqual(byName["scalar"]?.shape, [])
        XCTAssertEqual(byName["empty"]?.shape, [0, 2])
    }

    func testWrittenFileIsReadableByPython() throws {
        let url = directory.appendingPathComponent("for-python.safetensors")
        try Safetensors.write([
            ("layer.weight", Tensor([0, 1, 2, 3, 4, 5] as [Float], shape: [2, 3]) - 2.5),
            ("layer.steps", Tensor([1, 2, 3] as [Int64])),
            ("double", Tensor([0.125], shape: [1, 1])),
        ], to: url)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/safetensors_interop.py").standardized.path
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import safetensors, numpy"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("SafetensorsTests: python3 with safetensors and numpy is not installed; the Python-side check of Fathom's file did not run (pip install safetensors numpy)")
            return
        }
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        verify.arguments = ["python3", script, "verify", url.path]
        try verify.run()
        verify.waitUntilExit()
        XCTAssertEqual(verify.terminationStatus, 0, "safetensors (Python) rejected Fathom's file")
    }

    func testMalformedFilesGiveClearErrors() throws {
        let good = try Safetensors.encode([("w", Tensor([1, 2, 3, 4] as [Float]))])
        func message(_ bytes: Data) -> String {
            do {
                _ = try Safetensors.decode(bytes)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message(Data([1, 2, 3])).contains("fewer than the 8-byte header length"))
        XCTAssertTrue(message(good.prefix(good.count - 1)).contains("truncated"))
        var huge = good
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64.max.littleEndian) { Data($0) })
        XCTAssertTrue(message(huge).contains("the header claims 18446744073709551615 bytes"))
        let lying = Data("{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,16]}}".utf8)
        var lyingFile = withUnsafeBytes(of: UInt64(lying.count).littleEndian) { Data($0) }
        lyingFile.append(lying)
        lyingFile.append(Data(count: 16))
        XCTAssertTrue(message(lyingFile).contains("overflow"), message(lyingFile))
        do {
            _ = try Safetensors.read(from: directory.appendingPathComponent("missing.safetensors"))
            XCTFail("reading a missing file must throw")
        } catch {
            XCTAssertTrue("\(error)".contains("missing.safetensors: cannot read the file"), "\(error)")
        }
    }

    func testThousandsOfRandomCorruptionsNeverCrash() throws {
        let good = try Safetensors.encode([
            ("a", Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])),
            ("b", Tensor([7, 8] as [Int64])),
        ], metadata: ["k": "v"])
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(Int.max))
        }
        var rejected = 0
        for _ in 0..<5000 {
            var bytes = good
            switch next() % 3 {
            case 0: bytes = bytes.prefix(next() % bytes.count)
            case 1:
                for _ in 0..<(1 + next() % 4) { bytes[next() % bytes.count] = UInt8(next() % 256) }
            default:
                let position = 8 + next() % max(1, bytes.count - 8)
                bytes[position] = Array("0123456789[]{}\",:-e".utf8)[next() % 19]
            }
            if (try? Safetensors.decode(bytes)) == nil { rejected += 1 }
        }
        XCTAssertGreaterThan(rejected, 2500, "most corruptions must be detected")
    }
}
