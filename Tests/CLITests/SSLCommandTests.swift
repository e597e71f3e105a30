import Foundation
import XCTest

/// End-to-end check of `fathom ssl` with tiny settings: it trains, evaluates both baselines
/// and writes the run directory.
final class SSLCommandTests: XCTestCase {

    func testSSLWritesSummaryMetricsFiguresAndReport() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-ssl-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runFathom(["ssl", "--dataset", "shapes", "--train-count", "48", "--test-count", "24", "--steps", "3",
                                 "--batch-size", "16", "--width", "4", "--projection-dim", "8", "--log-every", "2",
                                 "--rankme-samples", "32", "--probe-epochs", "3", "--k", "5", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.errors)
        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["linear_probe_accuracy", "knn_accuracy", "random_linear_probe_accuracy", "supervised_linear_probe_accuracy"] {
            let value = try XCTUnwrap(summary[key] as? Double, "summary.json lacks \(key)")
            XCTAssertTrue(value >= 0 && value <= 1, key)
        }
        let rank = try XCTUnwrap(summary["rankme"] as? Double)
        XCTAssertTrue(rank >= 1 && rank <= 16, "RankMe \(rank) outside [1, 16] for a 16-d representation")
        let baselines = try XCTUnwrap(summary["baselines"] as? [String: Any])
        XCTAssertEqual(Set(baselines.keys), ["random", "supervised"])
        // Steps 0, 2 and 3 are logged (every 2, and the last).
        let metrics = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(metrics.compactMap { $0?["step"] as? Int }, [0, 2, 3])
        XCTAssertNotNil(metrics.last??["loss"] as? Double)
        for file in ["loss.svg", "rankme.svg", "report.md", "config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        // One PCA point per test image (24), coloured by the shapes classes present.
        let pca = try svgClassCounts(out.appendingPathComponent("embeddings_pca.svg"))
        XCTAssertEqual(pca["point"], 24)
        XCTAssertGreaterThanOrEqual(pca["legend"] ?? 0, 2)
    }

    func testSSLRejectsBadArguments() throws {
        let result = try runFathom(["ssl", "--baseline", "imagenet", "--steps", "1"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("--baseline"), result.errors)
    }
}
