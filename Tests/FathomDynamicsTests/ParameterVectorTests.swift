import XCTest
import FathomNN
import FathomTensor
@testable import FathomDynamics

final class ParameterVectorTests: XCTestCase {
    func testArithmeticInterpolationAndLoad() {
        let model = Linear(3, 2, generator: Generator(seed: 1))
        let a = ParameterVector(copying: model)
        let b = ParameterVector(a.tensors.map { $0 * 3 })
        XCTAssertEqual(a.count, 8)
        XCTAssertEqual((b - a).norm, 2 * a.norm, accuracy: 1e-5)
        XCTAssertEqual(ParameterVector.interpolate(a, b, 0.5).dot(a), 2 * a.dot(a), accuracy: 1e-4)
        b.load(into: model)
        XCTAssertEqual(ParameterVector(copying: model).dot(a), 3 * a.dot(a), accuracy: 1e-4)
    }
}
