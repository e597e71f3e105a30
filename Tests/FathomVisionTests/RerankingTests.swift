import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomVision

final class RerankingTests: XCTestCase {
    /// Re-ranked distances and the full Jaccard matrix equal the NumPy port of Zhong et
    /// al.'s released code within 1e-5 (default and small k1/k2, and k2 = 1: no expansion).
    func testMatchesNumPyReference() throws {
        let cases = try loadFixtures("reid")
        for name in ["rerank_default", "rerank_small_k", "rerank_no_qe"] {
            let c = try XCTUnwrap(cases[name], name)
            let result = KReciprocalReRanking.rerank(query: c.inputs[0].tensor, gallery: c.inputs[1].tensor,
                                                     k1: Int(c.params["k1"]!), k2: Int(c.params["k2"]!),
                                                     lambda: c.params["lambda"]!, returnJaccard: true)
            assertMatches(result.distances, c.output, rtol: 0, atol: 1e-5, name)
            assertMatches(try XCTUnwrap(result.jaccard), c.inputs[2], rtol: 0, atol: 1e-5, "\(name) jaccard")
            XCTAssertNil(KReciprocalReRanking.rerank(query: c.inputs[0].tensor, gallery: c.inputs[1].tensor).jaccard)
        }
    }

    func testDeterministicAcrossThreadCounts() throws {
        let c = try XCTUnwrap(try loadFixtures("reid")["rerank_default"])
        let saved = numThreads()
        defer { setNumThreads(saved) }
        setNumThreads(1)
        let one = KReciprocalReRanking.rerank(query: c.inputs[0].tensor, gallery: c.inputs[1].tensor, returnJaccard: true)
        setNumThreads(Swift.max(saved, 2))
        let many = KReciprocalReRanking.rerank(query: c.inputs[0].tensor, gallery: c.inputs[1].tensor, returnJaccard: true)
        XCTAssertEqual(one.distances.doubles, many.distances.doubles)
        XCTAssertEqual(one.jaccard!.doubles, many.jaccard!.doubles)
    }

    func testValidationMessages() {
        XCTAssertThrowsError(try KReciprocalReRanking.rerank(validating: Tensor.zeros([3, 4], dtype: .float64), queryCount: 1)) { error in
            XCTAssertTrue("\(error)".contains("square [N, N]"), "\(error)")
        }
        XCTAssertThrowsError(try KReciprocalReRanking.rerank(validating: Tensor.zeros([3, 3], dtype: .float64), queryCount: 4)) { error in
            XCTAssertTrue("\(error)".contains("queryCount 4"), "\(error)")
        }
    }
}
