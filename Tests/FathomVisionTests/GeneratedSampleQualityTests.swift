import XCTest
import FathomNN
import FathomTensor
@testable import FathomVision

final class GeneratedSampleQualityTests: XCTestCase {
    /// Three identities along the axes of R³, four real features each around their axis
    /// (±0.3 off-axis), so the centroids are the axes, every real cosine to its centroid is
    /// 1/√1.09 and the real nearest-same-identity distance is 0.3·√2/√1.09 ≈ 0.406.
    private func realFeatures() -> (Tensor, [Int]) {
        var rows: [[Double]] = [], labels: [Int] = []
        for y in 0..<3 {
            for (a, b) in [(0.3, 0.0), (-0.3, 0.0), (0.0, 0.3), (0.0, -0.3)] {
                var v = [0.0, 0.0, 0.0]
                v[y] = 1
                v[(y + 1) % 3] = a
                v[(y + 2) % 3] = b
                rows.append(v)
                labels.append(y)
            }
        }
        return (Tensor(rows.flatMap { $0 }, shape: [rows.count, 3], dtype: .float64), labels)
    }

    func testKeepDropRule() {
        let (real, realLabels) = realFeatures()
        let generated: [[Double]] = [
            [1, 0, 0],          // consistent, new: kept
            [0.1, 1, 0],        // labelled 0 but nearest centroid is 1: wrong identity
            [1, 0.3, 0],        // an exact copy of a real image of 0
            [1, 0, 0],          // a duplicate of the first (kept) generated image
            [1, 0.8, 0.8],      // nearest centroid is 0 but far from it: low consistency
            [0, 0.05, 1],       // identity 2, consistent and new: kept
        ]
        let labels = [0, 0, 0, 0, 0, 2]
        let quality = GeneratedSampleQuality(realFeatures: real, realLabels: realLabels,
                                             generatedFeatures: Tensor(generated.flatMap { $0 }, shape: [6, 3], dtype: .float64),
                                             generatedLabels: labels)
        XCTAssertEqual(quality.consistencyThreshold, 1 / (1.09).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(quality.distanceThreshold, 0.5 * 0.3 * 2.0.squareRoot() / (1.09).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(quality.scores.map(\.dropReason),
                       [nil, .wrongIdentity, .nearCopyOfReal, .nearCopyOfGenerated, .lowConsistency, nil])
        XCTAssertEqual(quality.keptIndices, [0, 5])
        XCTAssertEqual(quality.keptFraction, 2.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(quality.scores[1].nearestIdentity, 1)
        XCTAssertEqual(quality.scores[0].consistency, 1, accuracy: 1e-12)
        XCTAssertEqual(quality.scores[2].nearestRealDistance, 0, accuracy: 1e-12)
        XCTAssertEqual(quality.scores[3].nearestKeptGeneratedDistance, 0, accuracy: 1e-12)
        XCTAssertEqual(quality.scores[0].nearestKeptGeneratedDistance, .infinity)
        XCTAssertEqual(quality.dropCounts, [.wrongIdentity: 1, .nearCopyOfReal: 1, .nearCopyOfGenerated: 1, .lowConsistency: 1])
    }

    func testAbsoluteThresholdsAndScaleInvariance() {
        let (real, realLabels) = realFeatures()
        var config = GeneratedSampleQualityConfig()
        config.minConsistency = 0.5
        config.minDistance = 0
        config.requireNearestOwnIdentity = false
        // Scaled features: only directions matter. [0.1, 1, 0] labelled 0 now passes on
        // identity (not required) but fails consistency (cos ≈ 0.1 < 0.5).
        let generated = Tensor([5.0, 0, 0, 0.1, 1, 0, 2, 0.6, 0], shape: [3, 3], dtype: .float64)
        let quality = GeneratedSampleQuality(realFeatures: real * 7.0, realLabels: realLabels, generatedFeatures: generated,
                                             generatedLabels: [0, 0, 0], config: config)
        XCTAssertEqual(quality.scores.map(\.keep), [true, false, true])
        XCTAssertEqual(quality.scores[1].dropReason, .lowConsistency)
        XCTAssertEqual(quality.consistencyThreshold, 0.5)
    }

    func testConditionalVAELearnsAndGenerates() {
        // Two identities: a bright left half and a bright right half (8×8).
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<16 {
            let y = i % 2
            for _ in 0..<8 { for c in 0..<8 { values.append((c < 4) == (y == 0) ? 0.9 : 0.1) } }
            labels.append(y)
        }
        let images = Tensor(values, shape: [16, 1, 8, 8])
        let model = ConditionalVAE(imageShape: [1, 8, 8], identityCount: 2, latentCount: 2, embeddingCount: 4, hidden: 32,
                                   generator: Generator(seed: 1))
        let records = model.train(images: images, labels: labels, steps: 150, batchSize: 16, lr: 3e-3, logEvery: 50,
                                  generator: Generator(seed: 2))
        XCTAssertEqual(records.map(\.step), [50, 100, 150])
        XCTAssertLessThan(records.last!.total, records.first!.total)
        for y in 0..<2 {
            let samples = model.generate(identity: y, count: 3, generator: Generator(seed: 3))
            XCTAssertEqual(samples.shape, [3, 1, 8, 8])
            let left = samples[.all, .all, .all, 0..<4].mean().item(), right = samples[.all, .all, .all, 4..<8].mean().item()
            XCTAssertGreaterThan(y == 0 ? left - right : right - left, 0.3, "identity \(y): left \(left), right \(right)")
        }
        // Deterministic in the generator's seed.
        XCTAssertTrue(model.generate(identity: 0, count: 2, generator: Generator(seed: 9))
            .allClose(model.generate(identity: 0, count: 2, generator: Generator(seed: 9)), rtol: 0, atol: 0))
    }

}
