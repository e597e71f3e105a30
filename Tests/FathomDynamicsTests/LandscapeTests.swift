import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomDynamics

final class LandscapeTests: XCTestCase {
    func testFilterNormalizedDirectionMatchesFilterNorms() {
        let model = smallMLP(seed: 1)
        let direction = filterNormalizedDirection(model, generator: Generator(seed: 2))
        for (w, d) in zip(model.parameters(), direction.tensors) {
            XCTAssertEqual(w.shape, d.shape)
            if w.rank == 1 {
                XCTAssertEqual(d.abs().max().item(), 0)
            } else {
                let wn = w.to(.float64).norm(axis: 1).scalars(as: Double.self)
                let dn = d.to(.float64).norm(axis: 1).scalars(as: Double.self)
                for (x, y) in zip(wn, dn) { XCTAssertEqual(y, x, accuracy: 1e-5 * x) }
                XCTAssertGreaterThan(d.maxAbsDifference(w), 1e-3)  // a random direction, not w
            }
        }
        let kept = filterNormalizedDirection(model, generator: Generator(seed: 2), ignoreBiasAndBatchNorm: false)
        XCTAssertEqual(kept.tensors[1].scalars(as: Float.self), model.parameters()[1].scalars(as: Float.self))
        XCTAssertEqual(kept.tensors[0].scalars(as: Float.self), direction.tensors[0].scalars(as: Float.self))
    }

    func testSurfaceAtTheOriginIsTheModelsLoss() {
        let data = syntheticBatches()
        let model = smallMLP(seed: 1)
        let center = ParameterVector(copying: model)
        let d1 = filterNormalizedDirection(model, generator: Generator(seed: 2))
        let d2 = filterNormalizedDirection(model, generator: Generator(seed: 3))
        let surface = lossSurface(model, center: center, d1, d2, xs: [-0.5, 0, 0.5], ys: [-1, 0, 1], on: data)
        XCTAssertEqual(surface.losses.count, 3)
        XCTAssertEqual(surface.losses[1].count, 3)
        XCTAssertEqual(surface.losses[1][1], evaluate(model, on: data).loss)
        XCTAssertNotEqual(surface.losses[0][0], surface.losses[1][1])
        let slice = lossSlice(model, center: center, direction: d1, alphas: [-0.5, 0, 0.5], on: data)
        XCTAssertEqual(slice.losses, surface.losses.map { $0[1] })
        // Parameters restored.
        XCTAssertEqual((ParameterVector(copying: model) - center).norm, 0)
    }

    func testInterpolationPlaneThroughTwoModels() {
        let data = syntheticBatches()
        let a = smallMLP(seed: 1), b = smallMLP(seed: 2)
        let pa = ParameterVector(copying: a), pb = ParameterVector(copying: b)
        let (u, v) = interpolationPlane(from: pa, to: pb, random: filterNormalizedDirection(a, generator: Generator(seed: 4)))
        XCTAssertEqual(u.dot(v) / (u.norm * v.norm), 0, accuracy: 1e-6)
        XCTAssertEqual(v.norm, u.norm, accuracy: 1e-5 * u.norm)
        let surface = lossSurface(a, center: pa, u, v, xs: [0, 1], ys: [0, 0.5], on: data)
        XCTAssertEqual(surface.losses[0][0], evaluate(a, on: data).loss)
        XCTAssertEqual(surface.losses[1][0], evaluate(b, on: data).loss, accuracy: 1e-5)
    }
}
