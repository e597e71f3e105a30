import Foundation
import XCTest

/// `fathom grok` end to end on a tiny task (p = 11, a few dozen steps).
final class GrokCommandTests: XCTestCase {
    func testGrokWritesSummaryFiguresAndReport() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-grok-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process(), pipe = Pipe()
        process.executableURL = try fathomExecutable()
        process.arguments = ["grok", "--p", "11", "--steps", "40", "--log-every", "10", "--lr", "0.01",
                             "--embedding-dim", "16", "--hidden-dim", "32", "--loss", "stablemax",
                             "--optimizer", "perp-adamw", "--weight-decay", "0", "--out", out.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = pipe
        try process.run()
        let errors = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, errors)

        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(summary["final_train_acc"] as? Double), 0.9)  // it learns
        // A recorded step (a multiple of --log-every) or null when 99% was not reached.
        if let trainStep = summary["train_acc_99_step"] as? Int {
            XCTAssertTrue(trainStep > 0 && trainStep <= 40 && trainStep % 10 == 0, "\(trainStep)")
        } else {
            XCTAssertTrue(summary["train_acc_99_step"] is NSNull)
        }
        XCTAssertNotNil(summary["test_acc_99_step"])  // a step or null
        let testAccuracy = try XCTUnwrap(summary["final_test_acc"] as? Double)
        XCTAssertTrue((0...1).contains(testAccuracy))
        let metrics = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").count, 5)  // steps 0, 10, 20, 30, 40
        for file in ["accuracy.svg", "loss.svg", "report.md", "config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("accuracy.svg") && report.contains("train accuracy ≥ 99% at step"))
    }

    func testGrokRejectsUnknownLoss() throws {
        let process = Process(), pipe = Pipe()
        process.executableURL = try fathomExecutable()
        process.arguments = ["grok", "--loss", "sparsemax"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = pipe
        try process.run()
        let errors = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(errors.contains("--loss sparsemax is unknown"), errors)
    }
}
