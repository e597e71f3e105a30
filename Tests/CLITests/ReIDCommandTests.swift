import Foundation
import XCTest

/// End-to-end check of `fathom reid train`, `eval` (re-ranking, ensemble) and `adapt` on a
/// tiny ShapesReID setting.
final class ReIDCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-reid-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }


    private func summary(_ directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("summary.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testTrainEvalAdapt() throws {
        let tiny = ["--train-ids", "8", "--test-ids", "6", "--cameras", "3", "--images-per-camera", "2", "--p", "4", "--k", "2"]
        let train = scratch.appendingPathComponent("train")
        var result = try runFathom(["reid", "train", "--epochs", "2", "--width", "4", "--out", train.path] + tiny)
        XCTAssertEqual(result.status, 0, result.errors)
        let trained = try summary(train)
        for key in ["rank1", "rank5", "rank10", "map", "rank1_reranked", "map_reranked"] {
            let value = try XCTUnwrap(trained[key] as? Double, "summary.json lacks \(key)")
            XCTAssertTrue((0...1).contains(value), "\(key) = \(value)")
        }
        XCTAssertLessThanOrEqual(trained["rank1"] as! Double, trained["rank5"] as! Double)
        let checkpoint = train.appendingPathComponent("model.safetensors")
        for file in ["model.safetensors", "losses.svg", "report.md", "metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: train.appendingPathComponent(file).path), "\(file) missing")
        }
        // CMC plain + re-ranked; PCA of all 6 test identities' query + gallery images, one legend entry each.
        XCTAssertEqual(try svgClassCounts(train.appendingPathComponent("cmc.svg"))["series"], 2)
        let pca = try svgClassCounts(train.appendingPathComponent("embeddings_pca.svg"))
        XCTAssertEqual(pca["legend"], 6)
        XCTAssertGreaterThanOrEqual(pca["point"] ?? 0, 12)

        // eval of the same checkpoint reproduces train's figures; an ensemble of it with itself too.
        let eval = scratch.appendingPathComponent("eval")
        result = try runFathom(["reid", "eval", "--checkpoint", checkpoint.path, "--ensemble", checkpoint.path, "--rerank", "--out", eval.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let evaluated = try summary(eval)
        XCTAssertEqual(evaluated["models"] as? Int, 2)
        XCTAssertEqual(evaluated["map"] as? Double ?? -1, trained["map"] as? Double ?? -2, accuracy: 1e-9)
        XCTAssertEqual(evaluated["map_reranked"] as? Double ?? -1, trained["map_reranked"] as? Double ?? -2, accuracy: 1e-9)
        XCTAssertEqual(try svgClassCounts(eval.appendingPathComponent("cmc.svg"))["series"], 2)
        XCTAssertEqual(try svgClassCounts(eval.appendingPathComponent("embeddings_pca.svg"))["legend"], 6)

        let adapt = scratch.appendingPathComponent("adapt")
        result = try runFathom(["reid", "adapt", "--checkpoint", checkpoint.path, "--rounds", "1", "--epochs-per-round", "1",
                             "--eps", "0.9", "--min-samples", "2", "--p", "4", "--k", "2", "--out", adapt.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let adapted = try summary(adapt)
        for key in ["target_map_before", "target_map_after"] {
            let value = try XCTUnwrap(adapted[key] as? Double, "summary.json lacks \(key)")
            XCTAssertTrue((0...1).contains(value), "\(key) = \(value)")
        }
        XCTAssertEqual((adapted["target_map_by_round"] as? [Double])?.count, 2)
        XCTAssertEqual((adapted["rounds"] as? [[String: Any]])?.count, 1)

        // Invalid flags are rejected with a message.
        result = try runFathom(["reid", "train", "--p", "1", "--out", scratch.appendingPathComponent("bad").path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("--p and --k"), result.errors)
    }
}
