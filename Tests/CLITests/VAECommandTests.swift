import FathomData
import Foundation
import XCTest

/// `fathom vae` end to end on a tiny grid (16×16 images, 96 of them) for a few steps.
final class VAECommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-vae-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }


    func testTCVAEWithSplitEncoderWritesSummaryFiguresAndReport() throws {
        let out = scratch.appendingPathComponent("vae")
        let result = try runFathom(["vae", "--objective", "tcvae", "--beta", "4", "--split-encoder", "--latents", "3",
                                 "--steps", "6", "--batch-size", "16", "--seed", "1", "--image-size", "16",
                                 "--scales", "2", "--rotations", "2", "--positions", "4", "--hidden", "32",
                                 "--branch-hidden", "8", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["mig", "reconstruction", "kl", "tc"] {
            let value = try XCTUnwrap(summary[key] as? Double, "summary.json lacks \(key)")
            XCTAssertTrue(value.isFinite, key)
        }
        let mig = try XCTUnwrap(summary["mig"] as? Double)
        XCTAssertTrue(mig >= 0 && mig <= 1, "MIG \(mig) outside [0, 1]")
        // An untrained Bernoulli decoder gives about 256·log 2 ≈ 177 nats per 16×16 image.
        XCTAssertLessThan(try XCTUnwrap(summary["reconstruction"] as? Double), 260)
        for file in ["loss.svg", "report.md", "metrics.jsonl", "config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        // 3 latents × 7 columns of 16-pixel tiles with 1-pixel separators and frame.
        let traversal = try PNG.read(out.appendingPathComponent("traversal.png"))
        XCTAssertEqual(traversal.width, 7 * 17 + 1)
        XCTAssertEqual(traversal.height, 3 * 17 + 1)
        XCTAssertEqual(traversal.channels, 1)
        XCTAssertEqual(traversal.pixels[0], 96, "the frame is gray")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("traversal.pgm").path))
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("Split Encoder") && report.contains("| mig |") && report.contains("traversal.png"), report)
    }

    func testRejectsUnknownObjective() throws {
        let result = try runFathom(["vae", "--objective", "factor", "--out", scratch.appendingPathComponent("x").path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("--objective must be beta or tcvae"), result.errors)
    }
}
