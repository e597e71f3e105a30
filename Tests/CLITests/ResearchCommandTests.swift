import Foundation
import XCTest
import FathomTensor

/// End-to-end checks of the research commands (`fathom lmc`, …) on small checkpoints.
///
/// The checkpoints are written here in `fathom train`'s format (model `mlp` on `shapes`,
/// random weights) rather than trained, which would take most of a minute in debug builds.
final class ResearchCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-research-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }


    /// A checkpoint of FathomVision's 784-512-512-6 MLP in `TrainingCheckpoint`'s layout.
    private func writeCheckpoint(_ name: String, seed: UInt64, model: String = "mlp") throws -> URL {
        let shapes: [(String, [Int])] = [("1.weight", [512, 784]), ("1.bias", [512]), ("3.weight", [512, 512]),
                                         ("3.bias", [512]), ("5.weight", [6, 512]), ("5.bias", [6])]
        let tensors = shapes.enumerated().map { i, entry in
            ("model." + entry.0, Tensor.randn(entry.1, seed: seed &* 16 &+ UInt64(i)) * 0.04)
        }
        let url = scratch.appendingPathComponent(name + ".safetensors")
        try Safetensors.write(tensors, metadata: [
            "model": model, "dataset": "shapes", "fathom.epoch": "1", "fathom.step": "8",
            "fathom.scheduler_step": "8", "fathom.generator_seed": "0", "fathom.generator_offset": "0",
        ], to: url)
        return url
    }

    func testLMCWritesSummaryFiguresAndReport() throws {
        let a = try writeCheckpoint("a", seed: 1), b = try writeCheckpoint("b", seed: 2)
        let out = scratch.appendingPathComponent("lmc")
        let result = try runFathom(["lmc", "--a", a.path, "--b", b.path, "--points", "5", "--llfc", "--train-subset", "100",
                                 "--test-limit", "100", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["loss_barrier", "error_barrier", "loss_barrier_linear", "error_barrier_linear",
                    "train_loss_barrier", "train_error_barrier", "train_loss_barrier_linear", "train_error_barrier_linear"] {
            let value = try XCTUnwrap(summary[key] as? Double, "summary.json lacks \(key)")
            XCTAssertTrue(value.isFinite, key)
        }
        // The Entezari barrier is never negative (its maximum includes the endpoints).
        XCTAssertGreaterThanOrEqual(summary["loss_barrier_linear"] as? Double ?? -1, 0)
        let curve = try XCTUnwrap(summary["test_curve"] as? [String: Any])
        XCTAssertEqual(curve["lambda"] as? [Double], [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual((curve["loss"] as? [Double])?.count, 5)
        let llfc = try XCTUnwrap(summary["llfc_cosine_distance"] as? [String: Double])
        // One entry per leaf layer of the MLP: Flatten, then Linear/ReLU pairs, then the classifier.
        XCTAssertEqual(Set(llfc.keys), ["0", "1", "2", "3", "4", "5"])
        // The first Linear layer is linear in θ, so its features interpolate exactly.
        XCTAssertEqual(llfc["1"] ?? 1, 0, accuracy: 1e-6)
        XCTAssertEqual(llfc.count, (summary["llfc_layers"] as? [String])?.count)
        XCTAssertGreaterThan(llfc.count, 0)
        for file in ["interpolation_loss.svg", "interpolation_error.svg", "llfc.svg", "report.md", "config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        let svg = try String(contentsOf: out.appendingPathComponent("interpolation_loss.svg"), encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "train and test series")
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("![Loss along the path](interpolation_loss.svg)"), report)
        XCTAssertTrue(report.contains("| test loss_barrier |"), report)
    }

    func testHessianWritesEigenvaluesTraceAndDensity() throws {
        let a = try writeCheckpoint("a", seed: 1)
        let out = scratch.appendingPathComponent("hessian")
        let result = try runFathom(["hessian", "--checkpoint", a.path, "--batch-size", "20", "--top", "2", "--lanczos-steps", "4",
                                 "--trace-samples", "2", "--density-runs", "1", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let top = try XCTUnwrap(summary["top_eigenvalues"] as? [Double])
        XCTAssertEqual(top.count, 2)
        XCTAssertGreaterThanOrEqual(top[0], top[1])
        for key in ["trace", "trace_standard_error", "hvp_seconds"] {
            XCTAssertTrue((summary[key] as? Double)?.isFinite ?? false, "summary.json lacks \(key)")
        }
        for file in ["spectral_density.svg", "report.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
    }

    func testAlignWritesAPermutedCheckpointThatComputesTheSameFunction() throws {
        let a = try writeCheckpoint("a", seed: 1), b = try writeCheckpoint("b", seed: 2)
        let out = scratch.appendingPathComponent("align")
        let result = try runFathom(["align", "--a", a.path, "--b", b.path, "--method", "activations", "--match-examples", "50",
                                 "--test-limit", "100", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["naive_loss_barrier", "aligned_loss_barrier", "barrier_reduction"] {
            XCTAssertTrue((summary[key] as? Double)?.isFinite ?? false, "summary.json lacks \(key)")
        }
        XCTAssertEqual(summary["aligned_b_loss_change"] as? Double ?? 1, 0, accuracy: 1e-5)
        let aligned = try Safetensors.read(from: out.appendingPathComponent("aligned_b.safetensors"))
        XCTAssertEqual(aligned.metadata["model"], "mlp")
        XCTAssertEqual(aligned.metadata["dataset"], "shapes")
        let original = try Safetensors.read(from: b).tensors
        let permuted = Dictionary(uniqueKeysWithValues: aligned.tensors.map { ($0.name, $0.tensor) })
        let first = try XCTUnwrap(permuted["model.1.weight"])
        XCTAssertEqual(first.shape, [512, 784])
        XCTAssertNotEqual(first.doubles, original[0].tensor.doubles, "B's hidden units were not permuted")
        XCTAssertEqual(first.doubles.sorted(), original[0].tensor.doubles.sorted())
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("alignment_loss.svg").path))
    }

    func testLMCNamesTheFlagOfABadCheckpoint() throws {
        let a = try writeCheckpoint("a", seed: 1), other = try writeCheckpoint("other", seed: 2, model: "lenet5")
        let mismatch = try runFathom(["lmc", "--a", a.path, "--b", other.path, "--out", scratch.appendingPathComponent("x").path])
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.errors.contains("--b \(other.path) holds a lenet5 but --a \(a.path) a mlp"), mismatch.errors)
        let missing = try runFathom(["lmc", "--a", scratch.appendingPathComponent("none.safetensors").path, "--b", a.path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.errors.contains("--a \(scratch.appendingPathComponent("none.safetensors").path): no such file"),
                      missing.errors)
    }
}
