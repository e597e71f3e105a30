import Foundation
import XCTest

/// End-to-end check of `fathom reid generate` on a tiny ShapesReID setting.
final class ReIDGenerateCommandTests: XCTestCase {
    func testGenerateFilterCompare() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-reid-generate-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("run")
        let process = Process(), pipe = Pipe()
        process.executableURL = try fathomExecutable()
        process.arguments = ["reid", "generate", "--train-ids", "6", "--test-ids", "4", "--cameras", "3", "--images-per-camera", "2",
                             "--p", "4", "--k", "2", "--epochs", "2", "--width", "4", "--per-identity", "3", "--generator-steps", "20",
                             "--hidden", "32", "--latents", "4", "--out", out.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = pipe
        try process.run()
        let errors = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, errors)

        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["map_real", "map_all_generated", "map_filtered", "rank1_real", "rank1_all_generated", "rank1_filtered", "kept_fraction"] {
            let value = try XCTUnwrap(summary[key] as? Double, "summary.json lacks \(key)")
            XCTAssertTrue((0...1).contains(value), "\(key) = \(value)")
        }
        XCTAssertEqual(summary["generated_count"] as? Int, 18)
        let kept = try XCTUnwrap(summary["kept_count"] as? Int)
        let dropped = ["wrong_identity", "low_consistency", "near_copy_of_real", "near_copy_of_generated"]
            .map { summary["dropped_" + $0] as? Int ?? -100 }.reduce(0, +)
        XCTAssertEqual(kept + dropped, 18, "every generated image is kept or dropped for one reason")
        for file in ["samples.png", "report.md", "metrics.jsonl", "config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        let png = try Data(contentsOf: out.appendingPathComponent("samples.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }
}
