import Foundation
import XCTest

/// `fathom detect train | eval | predict` end to end on 16 tiny images for a few steps.
final class DetectCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-detect-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }


    func testTrainEvalPredict() throws {
        let run = scratch.appendingPathComponent("run")
        let train = try runFathom(["detect", "train", "--loss", "kld", "--images", "16", "--image-size", "32", "--steps", "3",
                                "--batch-size", "8", "--eval-images", "8", "--seed", "1", "--out", run.path])
        XCTAssertEqual(train.status, 0, train.errors)
        for file in ["config.json", "metrics.jsonl", "summary.json", "checkpoint.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "missing \(file)")
        }
        let data = try Data(contentsOf: run.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["map50", "map75", "map50_95"] {
            let value = try XCTUnwrap(summary[key] as? Double, "summary.json lacks \(key)")
            XCTAssertTrue(value >= 0 && value <= 1, "\(key) = \(value)")
        }
        XCTAssertEqual((summary["per_class_ap"] as? [String: Any])?.count, 4)
        XCTAssertNotNil(summary["ap_by_aspect"] as? [String: Any])

        let checkpoint = run.appendingPathComponent("checkpoint.safetensors").path
        let eval = try runFathom(["detect", "eval", "--checkpoint", checkpoint, "--eval-images", "8", "--image-size", "32"])
        XCTAssertEqual(eval.status, 0, eval.errors)
        XCTAssertTrue(eval.output.contains("mAP50"), eval.output)

        let predictions = scratch.appendingPathComponent("predictions")
        let predict = try runFathom(["detect", "predict", "--checkpoint", checkpoint, "--count", "2", "--image-size", "32",
                                  "--score-threshold", "0.01", "--out", predictions.path])
        XCTAssertEqual(predict.status, 0, predict.errors)
        let files = try FileManager.default.contentsOfDirectory(atPath: predictions.path)
        XCTAssertTrue(files.contains("P0000.png") && files.contains("P0001.png"), "\(files)")
        XCTAssertTrue(files.contains("Task1_rectangle.txt"), "\(files)")

        // Misuse is refused with a message.
        let bad = try runFathom(["detect", "train", "--loss", "giou", "--out", scratch.appendingPathComponent("bad").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.errors.contains("--horizontal"), bad.errors)
    }
}
