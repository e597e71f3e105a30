import Foundation
import XCTest
import FathomTensor

/// End-to-end checks of `fathom landscape` and `fathom rank` on small checkpoints written
/// in `fathom train`'s format (model `mlp` on `shapes`, random weights), as
/// ResearchCommandTests does, so no training is needed.
final class LandscapeRankCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-landscape-rank-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }


    /// A checkpoint of FathomVision's 784-512-512-6 MLP in `TrainingCheckpoint`'s layout.
    private func writeCheckpoint(_ name: String, seed: UInt64) throws -> URL {
        let shapes: [(String, [Int])] = [("1.weight", [512, 784]), ("1.bias", [512]), ("3.weight", [512, 512]),
                                         ("3.bias", [512]), ("5.weight", [6, 512]), ("5.bias", [6])]
        let tensors = shapes.enumerated().map { i, entry in
            ("model." + entry.0, Tensor.randn(entry.1, seed: seed &* 16 &+ UInt64(i)) * 0.04)
        }
        let url = scratch.appendingPathComponent(name + ".safetensors")
        try Safetensors.write(tensors, metadata: [
            "model": "mlp", "dataset": "shapes", "fathom.epoch": "1", "fathom.step": "8",
            "fathom.scheduler_step": "8", "fathom.generator_seed": "0", "fathom.generator_offset": "0",
        ], to: url)
        return url
    }

    private func summary(_ directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("summary.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testLandscapeSliceIsCenteredOnTheCheckpoint() throws {
        let a = try writeCheckpoint("a", seed: 1)
        let out = scratch.appendingPathComponent("slice")
        let result = try runFathom(["landscape", "--checkpoint", a.path, "--points", "5", "--range", "0.5",
                                 "--batch-size", "60", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let s = try summary(out)
        let slice = try XCTUnwrap(s["slice"] as? [String: Any])
        XCTAssertEqual(slice["alpha"] as? [Double], [-0.5, -0.25, 0, 0.25, 0.5])
        let losses = try XCTUnwrap(slice["loss"] as? [Double])
        let center = try XCTUnwrap(s["center_loss"] as? Double)
        // α = 0 is the checkpoint itself, so the middle of the slice is the center loss.
        XCTAssertEqual(losses[2], center, accuracy: 1e-6)
        XCTAssertEqual(s["min_loss"] as? Double, losses.min())
        XCTAssertEqual(s["max_loss"] as? Double, losses.max())
        XCTAssertNotEqual(losses[0], losses[4], "the direction moved nothing")
        for file in ["landscape_1d.svg", "landscape_1d_error.svg", "report.md", "config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("![Loss along α](landscape_1d.svg)"), report)
    }

    func testLandscapePlaneThroughTwoCheckpointsPassesThroughBoth() throws {
        let a = try writeCheckpoint("a", seed: 1), b = try writeCheckpoint("b", seed: 2)
        let out = scratch.appendingPathComponent("plane")
        let result = try runFathom(["landscape", "--checkpoint", a.path, "--b", b.path, "--points", "3", "--range", "0.5",
                                 "--batch-size", "60", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let s = try summary(out)
        XCTAssertEqual(s["dims"] as? Int, 2)
        let surface = try XCTUnwrap(s["surface"] as? [String: Any])
        XCTAssertEqual(surface["x"] as? [Double], [0, 0.5, 1])
        XCTAssertEqual(surface["y"] as? [Double], [-0.5, 0, 0.5])
        let grid = try XCTUnwrap(surface["loss"] as? [[Double]])
        // Grid point (x = 0, y = 0) is A and (x = 1, y = 0) is B.
        XCTAssertEqual(grid[0][1], try XCTUnwrap(s["loss_a"] as? Double), accuracy: 1e-5)
        XCTAssertEqual(grid[2][1], try XCTUnwrap(s["loss_b"] as? Double), accuracy: 1e-5)
        XCTAssertEqual(grid[0][1], try XCTUnwrap(s["center_loss"] as? Double), accuracy: 1e-5)
        let svg = try String(contentsOf: out.appendingPathComponent("landscape_2d.svg"), encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "class=\"cell\"").count - 1, 9, "one cell per grid point")
        XCTAssertTrue(svg.contains("class=\"contour\""), "no contour lines")

        let bad = try runFathom(["landscape", "--checkpoint", a.path, "--b", b.path, "--dims", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.errors.contains("--b plots the plane through A and B"), bad.errors)
    }

    func testRankReportsRankMeNeuralCollapseAndCKA() throws {
        let a = try writeCheckpoint("a", seed: 1)
        let out = scratch.appendingPathComponent("rank")
        // B = A: CKA between a network and itself is 1 on every layer.
        let result = try runFathom(["rank", "--checkpoint", a.path, "--b", a.path, "--examples", "60", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let s = try summary(out)
        let rankme = try XCTUnwrap(s["rankme"] as? [String: Double])
        // Flatten is skipped; the two Linear/ReLU pairs and the classifier remain.
        XCTAssertEqual(Set(rankme.keys), ["1", "2", "3", "4", "5"])
        let dims = try XCTUnwrap(s["feature_dims"] as? [String: Int])
        XCTAssertEqual(dims["5"], 6)
        for (layer, value) in rankme {
            XCTAssertGreaterThanOrEqual(value, 1 - 1e-6, layer)
            XCTAssertLessThanOrEqual(value, Double(min(60, dims[layer]!)) + 1e-3, layer)
        }
        XCTAssertEqual(s["classifier"] as? String, "5")
        for key in ["nc1", "nc2", "nc3", "nc4"] {
            XCTAssertTrue((s[key] as? Double)?.isFinite ?? false, "summary.json lacks \(key)")
        }
        let cka = try XCTUnwrap(s["cka"] as? [String: Double])
        XCTAssertEqual(Set(cka.keys), Set(rankme.keys))
        for (layer, value) in cka { XCTAssertEqual(value, 1, accuracy: 1e-9, layer) }
        for file in ["rankme.svg", "cka.svg", "report.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }

        let badLayer = try runFathom(["rank", "--checkpoint", a.path, "--layers", "1,nope", "--examples", "60",
                                   "--out", scratch.appendingPathComponent("x").path])
        XCTAssertNotEqual(badLayer.status, 0)
        XCTAssertTrue(badLayer.errors.contains("--layers: no layer named 'nope' in mlp"), badLayer.errors)
    }
}
