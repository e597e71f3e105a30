import Foundation
import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomDynamics

final class LLFCTests: XCTestCase {
    let inputs = Tensor.randn([32, 4], generator: Generator(seed: 11))

    func testIdenticalModelsAreTriviallyConnected() {
        let a = smallMLP(seed: 1), b = smallMLP(seed: 1)
        let results = layerwiseLinearFeatureConnectivity(smallMLP(seed: 2), along: LinearPath(from: a, to: b),
                                                         inputs: inputs, lambdas: [0, 0.3, 1])
        XCTAssertEqual(results.count, 9)
        XCTAssertEqual(Set(results.map(\.layer)), ["0", "1", "2"])
        for r in results {
            XCTAssertEqual(r.cosineDistance, 0, accuracy: 1e-6, "\(r.layer) λ=\(r.lambda)")
            XCTAssertEqual(r.cosineDistancePerSample, 0, accuracy: 1e-6)
            XCTAssertEqual(r.scale, 1, accuracy: 1e-6)
            XCTAssertEqual(r.relativeError, 0, accuracy: 1e-3)
            XCTAssertEqual(r.baselineCosineDistance, 0, accuracy: 1e-12)
        }
    }

    func testPermutedCopyIsConnectedAtTheEndpointsOnly() {
        let a = smallMLP(hidden: 16, seed: 1)
        let b = permutedCopy(of: a, seed: 5)
        let work = smallMLP(hidden: 16, seed: 2)
        let before = snapshot(work)
        let results = layerwiseLinearFeatureConnectivity(work, along: LinearPath(from: a, to: b),
                                                         inputs: inputs, lambdas: [0, 0.5, 1], layers: ["0", "1", "2"])
        for r in results where r.lambda != 0.5 {
            XCTAssertEqual(r.cosineDistance, 0, accuracy: 1e-6, "\(r.layer) λ=\(r.lambda)")
            XCTAssertEqual(r.cosineDistancePerSample, 0, accuracy: 1e-6)
        }
        // Hidden features of A and B are the same units in a different order.
        let hidden = results.first { $0.layer == "0" }!
        XCTAssertGreaterThan(hidden.baselineCosineDistance, 0.05)
        // The final outputs agree at the endpoints (same function).
        XCTAssertEqual(results.first { $0.layer == "2" }!.baselineCosineDistance, 0, accuracy: 1e-6)
        for ((name, x), (_, y)) in zip(before, snapshot(work)) { XCTAssertEqual(x, y, name) }
    }

    func testLinearLayerFeaturesAreExactlyConnectedButAProductOfTwoIsNot() {
        // f₁(θλ) = W₁(λ)x + b₁(λ) is affine in θ, so LLFC holds exactly for the first layer;
        // the second layer's output W₂(λ)(W₁(λ)x + …) is quadratic in λ, so it does not.
        func linearNet(_ seed: UInt64) -> Sequential {
            let generator = Generator(seed: seed)
            return Sequential(Linear(4, 5, generator: generator), Linear(5, 3, generator: generator))
        }
        let results = layerwiseLinearFeatureConnectivity(linearNet(3), along: LinearPath(from: linearNet(1), to: linearNet(2)),
                                                         inputs: inputs, lambdas: lambdaGrid(5))
        for r in results where r.layer == "0" {
            XCTAssertEqual(r.cosineDistance, 0, accuracy: 1e-6, "λ=\(r.lambda)")
            XCTAssertEqual(r.cosineDistancePerSample, 0, accuracy: 1e-6)
            XCTAssertEqual(r.scale, 1, accuracy: 1e-5)
            XCTAssertLessThan(r.relativeError, 1e-4)
        }
        let middle = results.first { $0.layer == "1" && $0.lambda == 0.5 }!
        XCTAssertGreaterThan(middle.cosineDistancePerSample, 1e-4)
        XCTAssertGreaterThan(middle.relativeError, 1e-2)
    }

    func testCompareFeaturesByHand() {
        // Rows: (1, 0) vs (1, 1) → 1 − 1/√2; (0, 0) vs (0, 0) → 0. Global: same vectors.
        let f = Tensor([1.0, 0, 0, 0], shape: [2, 2]), g = Tensor([1.0, 1, 0, 0], shape: [2, 2])
        let (cosine, perSample, scale, residual) = compareFeatures(f, g)
        XCTAssertEqual(cosine, 1 - 1 / 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(perSample, (1 - 1 / 2.0.squareRoot()) / 2, accuracy: 1e-12)
        XCTAssertEqual(scale, 0.5, accuracy: 1e-12)  // argmin_c ‖(1,0) − c(1,1)‖
        XCTAssertEqual(residual, 0.5.squareRoot(), accuracy: 1e-12)
    }

    func testJSONKeys() throws {
        let r = LLFCLayerResult(layer: "1", lambda: 0.5, cosineDistance: 0.1, cosineDistancePerSample: 0.2, scale: 1,
                                relativeError: 0, baselineCosineDistance: 0.3, baselineCosineDistancePerSample: 0.4)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! [String: Any]
        XCTAssertEqual(json["llfc_cosine_distance"] as? Double, 0.1)
        XCTAssertEqual(json["llfc_cosine_distance_per_sample"] as? Double, 0.2)
        XCTAssertEqual(json["llfc_scale"] as? Double, 1)
        XCTAssertEqual(json["baseline_cosine_distance"] as? Double, 0.3)
    }
}
