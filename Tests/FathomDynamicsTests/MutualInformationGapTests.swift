import Foundation
import XCTest
import FathomData
import FathomTensor
import FathomTestSupport
@testable import FathomDynamics

final class MutualInformationGapTests: XCTestCase {
    /// Against scripts/fixtures_tcvae.py (np.histogram/np.digitize, plug-in MI in nats).
    func testMatchesNumPyReference() throws {
        let cases = try loadFixtures("mig")
        XCTAssertEqual(cases.count, 3)
        for (name, c) in cases {
            let result = mutualInformationGap(latents: c.inputs[0].tensor, factors: c.inputs[1].tensor,
                                              bins: Int(c.params["bins"]!))
            XCTAssertEqual(result.score, c.output.data[0], accuracy: 1e-10, name)
            assertMatches(Tensor(result.mutualInformation.flatMap { $0 }, shape: c.inputs[2].shape, dtype: .float64),
                          c.inputs[2], rtol: 1e-9, atol: 1e-12, name + " MI matrix")
            assertMatches(Tensor(result.factorEntropies, shape: c.inputs[3].shape, dtype: .float64),
                          c.inputs[3], rtol: 1e-9, atol: 1e-12, name + " entropies")
        }
    }

    /// One latent per factor (the factor's value itself) on an exhaustive grid, plus a
    /// constant latent: every factor's MI is its entropy, the others' exactly 0 → MIG = 1.
    func testPerfectlyDisentangledCodeScoresOne() {
        let data = ShapesFactors(imageSize: 16, scaleCount: 3, rotationCount: 4, positionCount: 5)
        let factors = (0..<data.count).map(data.factors(at:))
        let latents = Tensor(factors.flatMap { f in f.map { Double($0) * 0.37 - 1 } + [0.5] }, shape: [data.count, 6], dtype: .float64)
        let result = mutualInformationGap(latents: latents, factors: ShapesFactors.factorTensor(factors))
        XCTAssertEqual(result.score, 1, accuracy: 1e-12)
        for (k, h) in result.factorEntropies.enumerated() {
            XCTAssertEqual(h, Foundation.log(Double(data.factorSizes[k])), accuracy: 1e-12)
        }
        // Swapping in an entangled code (each latent mixes two factors) lowers it.
        let mixed = Tensor(factors.flatMap { f in (0..<5).map { Double(f[$0]) + Double(f[($0 + 1) % 5]) * 7 } },
                           shape: [data.count, 5], dtype: .float64)
        XCTAssertLessThan(mutualInformationGap(latents: mixed, factors: ShapesFactors.factorTensor(factors)).score, 0.5)
    }

    /// Latents independent of the factors: every MI is estimation bias only → MIG ≈ 0.
    func testRandomCodeScoresNearZero() {
        let n = 4000
        let factors = Tensor.randint(high: 5, [n, 3], generator: Generator(seed: 1))
        let latents = Tensor.randn([n, 6], dtype: .float64, seed: 2)
        let result = mutualInformationGap(latents: latents, factors: factors)
        XCTAssertLessThan(result.score, 0.02)
        XCTAssertGreaterThanOrEqual(result.score, 0)
    }

    func testMisuseIsReported() {
        XCTAssertThrowsError(try mutualInformationGap(validating: Tensor.zeros([4, 2]), factors: Tensor.zeros([3, 1], dtype: .int64))) {
            XCTAssertTrue("\($0)".contains("same N"), "\($0)")
        }
        XCTAssertThrowsError(try mutualInformationGap(validating: Tensor.zeros([4, 1]), factors: Tensor.zeros([4, 1], dtype: .int64))) {
            XCTAssertTrue("\($0)".contains("at least 2 latents"), "\($0)")
        }
    }
}
