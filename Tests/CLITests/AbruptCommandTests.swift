import Foundation
import XCTest

/// End-to-end check of `fathom abrupt` at tiny settings.
final class AbruptCommandTests: XCTestCase {
    func testAbruptWritesSummaryFiguresAndReport() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-abrupt-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process(), pipe = Pipe()
        process.executableURL = try fathomExecutable()
        process.arguments = ["abrupt", "--delay", "10", "--lr", "0.01", "--steps", "250", "--sweep", "--sweep-points", "3",
                             "--lr-min", "0.01", "--lr-max", "3", "--rnn", "--rnn-steps", "20", "--hidden", "4",
                             "--out", out.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = pipe
        try process.run()
        let errors = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, errors)
        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertGreaterThan(summary["plateau_steps"] as? Int ?? 0, 100)
        XCTAssertNotNil(summary["drop_step"] as? Int)
        XCTAssertEqual(summary["abrupt"] as? Bool, true)
        XCTAssertEqual(summary["critical_learning_rate"] as? Double ?? 0, 0.173, accuracy: 0.01, "the middle of 0.01…3")
        let remedies = try XCTUnwrap(summary["remedies"] as? [String: Any])
        XCTAssertEqual(Set(remedies.keys), ["lower_gain", "extra_rank"])
        let rnn = try XCTUnwrap(summary["rnn"] as? [String: Any])
        XCTAssertEqual((rnn["losses"] as? [Double])?.count, 20)
        for file in ["loss_curve.svg", "sweep.svg", "regimes.svg", "rnn_loss.svg", "report.md", "config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        let svg = try String(contentsOf: out.appendingPathComponent("sweep.svg"), encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 3, "baseline and two remedies")
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("critical lr"), report)
    }

    /// Bad options stop before any training, naming the option.
    func testRejectsBadDelays() throws {
        let process = Process(), pipe = Pipe()
        process.executableURL = try fathomExecutable()
        process.arguments = ["abrupt", "--delays", "10", "--out", FileManager.default.temporaryDirectory.appendingPathComponent("fathom-abrupt-bad-\(UUID())").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = pipe
        try process.run()
        let errors = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(errors.contains("--delays must be at least two"), errors)
    }
}
