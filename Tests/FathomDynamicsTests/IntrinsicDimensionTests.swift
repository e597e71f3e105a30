import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomDynamics

final class IntrinsicDimensionTests: XCTestCase {
    func testProjectionHasUnitColumnsAndItsTransposeIsItsAdjoint() {
        let p = RandomSubspace(parameterCount: 400, dimension: 7, seed: 3)
        XCTAssertEqual(p.nonzerosPerColumn, 20)
        for j in 0..<7 {
            var e = [Float](repeating: 0, count: 7)
            e[j] = 1
            let column = p.project(e)
            XCTAssertEqual(column.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
            XCTAssertEqual(column.filter { $0 != 0 }.count, 20)
        }
        var rng = SplitMix64(seed: 9)
        let z = (0..<7).map { _ in Float(rng.nextGaussian()) }, g = (0..<400).map { _ in Float(rng.nextGaussian()) }
        let left = zip(p.project(z), g).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let right = zip(z, p.projectTranspose(g)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(left, right, accuracy: 1e-3)
        XCTAssertEqual(RandomSubspace(parameterCount: 400, dimension: 7, seed: 3).project(z), p.project(z), "seeded")
    }

    func testSubspaceTrainingLowersTheLossAndZeroDimensionsKeepTheInitialization() {
        let data = ShapesDataset(count: 64, seed: 1, imageSize: 12)
        let batch = data.batch(at: Array(0..<64))
        manualSeed(4)
        let model = Sequential(Flatten(), Linear(144, 16), ReLU(), Linear(16, 6))
        let trainer = SubspaceTrainer(model: model, dimension: 40, lr: 0.2, seed: 1)
        let first = trainer.step(batch)
        var last = first
        for _ in 0..<100 { last = trainer.step(batch) }
        XCTAssertLessThan(last, first * 0.7, "training in a 40-dimensional subspace lowers the loss")

        let before = model.parameters().map { $0.clone() }
        let frozen = SubspaceTrainer(model: model, dimension: 0, seed: 1)
        frozen.step(batch)
        frozen.loadParameters()
        for (p, q) in zip(model.parameters(), before) { XCTAssertEqual(p.scalars(as: Float.self), q.scalars(as: Float.self)) }
        XCTAssertEqual(intrinsicDimension90([(10, 0.5), (40, 0.85), (100, 0.95)], baselineAccuracy: 0.98), 100)
        XCTAssertEqual(intrinsicDimension90([(10, 0.89), (40, 0.9)], baselineAccuracy: 1), 40)
        XCTAssertNil(intrinsicDimension90([(10, 0.1)], baselineAccuracy: 1))
    }
}
