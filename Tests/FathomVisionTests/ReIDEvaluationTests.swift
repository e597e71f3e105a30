import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomVision

final class ReIDEvaluationTests: XCTestCase {
    private func ints(_ t: FixtureTensor) -> [Int] { t.data.map { Int($0) } }

    /// CMC, mAP and mINP equal the NumPy `eval_func` reference exactly (random distances,
    /// junk, skipped queries, integer distances with ties, a gallery smaller than maxRank).
    func testMatchesNumPyReference() throws {
        let cases = try loadFixtures("reid")
        for name in ["eval_random", "eval_ties", "eval_small_gallery"] {
            let c = try XCTUnwrap(cases[name], name)
            let metrics = ReIDEvaluation.evaluate(c.inputs[0].tensor, queryIDs: ints(c.inputs[1]), galleryIDs: ints(c.inputs[2]),
                                                  queryCameras: ints(c.inputs[3]), galleryCameras: ints(c.inputs[4]),
                                                  maxRank: Int(c.params["maxRank"]!))
            assertMatches(Tensor(metrics.cmc), c.output, rtol: 0, atol: 1e-15, name)
            XCTAssertEqual(metrics.mAP, c.params["mAP"]!, accuracy: 1e-15, name)
            XCTAssertEqual(metrics.mINP, c.params["mINP"]!, accuracy: 1e-15, name)
            XCTAssertEqual(metrics.validQueryCount, Int(c.params["valid"]!), name)
            XCTAssertEqual(metrics.skippedQueryCount, Int(c.params["skipped"]!), name)
        }
    }

    func testIdenticalForAnyThreadCount() throws {
        let c = try XCTUnwrap(try loadFixtures("reid")["eval_random"])
        let saved = numThreads()
        defer { setNumThreads(saved) }
        func run() -> ReIDMetrics {
            ReIDEvaluation.evaluate(c.inputs[0].tensor, queryIDs: ints(c.inputs[1]), galleryIDs: ints(c.inputs[2]),
                                    queryCameras: ints(c.inputs[3]), galleryCameras: ints(c.inputs[4]))
        }
        setNumThreads(1)
        let one = run()
        setNumThreads(Swift.max(saved, 2))
        XCTAssertEqual(one, run())
    }

    func testPerfectRankingHasUnitMAP() {
        // Two queries; each identity's gallery samples (other camera) are nearest.
        let d = Tensor([0.1, 0.2, 0.9, 0.8,
                        0.7, 0.9, 0.3, 0.1] as [Double], shape: [2, 4])
        let m = ReIDEvaluation.evaluate(d, queryIDs: [1, 2], galleryIDs: [1, 1, 2, 2],
                                        queryCameras: [0, 0], galleryCameras: [1, 1, 1, 1], maxRank: 4)
        XCTAssertEqual(m.mAP, 1)
        XCTAssertEqual(m.mINP, 1)
        XCTAssertEqual(m.cmc, [1, 1, 1, 1])
        XCTAssertEqual(m.rank(1), 1)
        XCTAssertEqual(m.rank(10), 1)
    }

    func testJunkIsRemovedAndTiesFollowGalleryIndex() {
        // Gallery 0 is the query's identity from its own camera: junk, so it neither helps
        // rank-1 nor counts as a miss. Gallery 1 and 2 tie; index order puts the wrong
        // identity (1) first, so the true match sits at position 2.
        let d = Tensor([0.0, 0.5, 0.5, 0.9] as [Double], shape: [1, 4])
        let m = ReIDEvaluation.evaluate(d, queryIDs: [7], galleryIDs: [7, 3, 7, 4],
                                        queryCameras: [0], galleryCameras: [0, 1, 1, 1], maxRank: 3)
        XCTAssertEqual(m.cmc, [0, 1, 1])
        XCTAssertEqual(m.mAP, 0.5)
        XCTAssertEqual(m.averagePrecisions, [0.5])
    }

    func testQueriesWithoutValidMatchAreSkipped() throws {
        let d = Tensor([0.1, 0.2, 0.3, 0.4] as [Double], shape: [2, 2])
        // Query 0's only match is in its own camera (junk) -> skipped.
        let m = ReIDEvaluation.evaluate(d, queryIDs: [1, 2], galleryIDs: [1, 2], queryCameras: [0, 0], galleryCameras: [0, 1])
        XCTAssertEqual(m.validQueryCount, 1)
        XCTAssertEqual(m.skippedQueryCount, 1)
        XCTAssertEqual(m.mAP, 0.5)  // query 1: the other identity (gallery 0) ranks first
        XCTAssertEqual(m.cmc, [0, 1])
        XCTAssertThrowsError(try ReIDEvaluation.evaluate(validating: d, queryIDs: [1, 2], galleryIDs: [1, 2],
                                                         queryCameras: [0, 1], galleryCameras: [0, 1])) { error in
            XCTAssertTrue("\(error)".contains("none of the 2 queries"), "\(error)")
        }
        XCTAssertThrowsError(try ReIDEvaluation.evaluate(validating: d, queryIDs: [1], galleryIDs: [1, 2],
                                                         queryCameras: [0], galleryCameras: [0, 1])) { error in
            XCTAssertTrue("\(error)".contains("2 query rows but 1 query ids"), "\(error)")
        }
    }

    func testPairwiseDistances() {
        let a = Tensor([1, 0, 0, 2, 3, 4] as [Double], shape: [3, 2])
        let b = Tensor([0, 0, 3, 4] as [Double], shape: [2, 2])
        let d = PairwiseDistance.squaredEuclidean(a, b).doubles
        XCTAssertEqual(d, [1, 20, 4, 13, 25, 0])
        let c = PairwiseDistance.cosine(a, b).doubles
        XCTAssertEqual(c[1], 1 - 3.0 / 5, accuracy: 1e-12)   // (1,0)·(3,4)/5
        XCTAssertEqual(c[5], 0, accuracy: 1e-12)
        XCTAssertEqual(c[0], 1, accuracy: 1e-12)              // zero vector: distance 1
    }

    func testDistanceEnsemble() throws {
        let a = Tensor([0, 2, 4, 8] as [Double], shape: [2, 2])
        let b = Tensor([1, 1, 1, 1] as [Double], shape: [2, 2])
        XCTAssertEqual(DistanceEnsemble.combine([a, b], weights: [3, 1]).doubles, [0.25, 1.75, 3.25, 6.25])
        XCTAssertEqual(DistanceEnsemble.combine([a, b], normalization: .max).doubles, [0.5, 0.625, 0.75, 1])
        XCTAssertEqual(DistanceEnsemble.combine([a], normalization: .minMax).doubles, [0, 0.25, 0.5, 1])
        let z = DistanceEnsemble.combine([a], normalization: .zScore).doubles
        XCTAssertEqual(z.reduce(0, +), 0, accuracy: 1e-12)
        XCTAssertThrowsError(try DistanceEnsemble.combine(validating: [a, Tensor.zeros([3, 2], dtype: .float64)])) { error in
            XCTAssertTrue("\(error)".contains("one shape"), "\(error)")
        }
    }
}
