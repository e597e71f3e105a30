import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomVision

final class ClusteringTests: XCTestCase {
    func testDBSCANMatchesNumPyReference() throws {
        let cases = try loadFixtures("reid")
        for name in ["dbscan_blobs", "dbscan_min1", "dbscan_border"] {
            let c = try XCTUnwrap(cases[name], name)
            let labels = DBSCAN.fit(distances: c.inputs[0].tensor, eps: c.params["eps"]!, minSamples: Int(c.params["minSamples"]!))
            XCTAssertEqual(labels, c.output.data.map { Int($0) }, name)
        }
    }

    func testDBSCANHandCase() {
        // Points on a line: 0, 1, 2 (a chain), 10 (noise), 20, 20.5 with minSamples 2.
        let xs: [Double] = [0, 1, 2, 10, 20, 20.5]
        let d = Tensor(xs.flatMap { a in xs.map { b in Swift.abs(a - b) } }, shape: [6, 6])
        XCTAssertEqual(DBSCAN.fit(distances: d, eps: 1, minSamples: 2), [0, 0, 0, -1, 1, 1])
        XCTAssertEqual(DBSCAN.fit(distances: d, eps: 1, minSamples: 3), [0, 0, 0, -1, -1, -1])
        XCTAssertThrowsError(try DBSCAN.fit(validating: d, eps: 0, minSamples: 2)) { error in
            XCTAssertTrue("\(error)".contains("eps > 0"), "\(error)")
        }
    }

    func testPseudoLabelsDropNoiseAndRenumber() {
        let p = PseudoLabels(clusterLabels: [3, -1, 0, 3, 7, -1])
        XCTAssertEqual(p.indices, [0, 2, 3, 4])
        XCTAssertEqual(p.labels, [1, 0, 1, 2])
        XCTAssertEqual(p.classCount, 3)
    }

    private func blobs(seed: UInt64) -> (Tensor, [Int]) {
        let centres: [[Double]] = [[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]]
        let noise = Tensor.randn([80, 3], generator: Generator(seed: seed)).to(.float64).doubles
        var values: [Double] = [], truth: [Int] = []
        for i in 0..<80 {
            let c = i % 4
            truth.append(c)
            for j in 0..<3 { values.append(centres[c][j] + noise[i * 3 + j]) }
        }
        return (Tensor(values, shape: [80, 3]), truth)
    }

    func testKMeansSeparatesBlobs() {
        let (x, truth) = blobs(seed: 3)
        let result = KMeans.fit(x, k: 4, initializations: 3, generator: Generator(seed: 11))
        // Same partition as the truth, up to renaming clusters.
        var mapping: [Int: Int] = [:]
        for (label, t) in zip(result.labels, truth) {
            if let m = mapping[label] { XCTAssertEqual(m, t) } else { mapping[label] = t }
        }
        XCTAssertEqual(Set(mapping.values).count, 4)
        XCTAssertEqual(result.centers.shape, [4, 3])
        XCTAssertLessThan(result.inertia, 80 * 3 * 2)  // about 80·3 for unit-variance noise
        XCTAssertLessThan(result.iterations, 300)
    }

    func testKMeansIsDeterministic() {
        let (x, _) = blobs(seed: 5)
        let a = KMeans.fit(x.to(.float32), k: 6, generator: Generator(seed: 42))
        let b = KMeans.fit(x.to(.float32), k: 6, generator: Generator(seed: 42))
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertEqual(a.centers.doubles, b.centers.doubles)
        XCTAssertEqual(a.inertia, b.inertia)
        XCTAssertThrowsError(try KMeans.fit(validating: x, k: 81)) { error in
            XCTAssertTrue("\(error)".contains("k = 81"), "\(error)")
        }
    }
}
