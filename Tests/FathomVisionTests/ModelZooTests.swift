import XCTest
import FathomNN
import FathomTensor
@testable import FathomVision

final class ModelZooTests: XCTestCase {
    func testMLPKeysAndShapes() throws {
        let model = try ModelZoo.make("mlp", inputShape: [1, 28, 28], classCount: 10)
        XCTAssertEqual(model.namedParameters().map(\.name), ["1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"])
        XCTAssertEqual(model.parameterCount, 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10)
        XCTAssertEqual(model(Tensor.zeros([4, 1, 28, 28])).shape, [4, 10])
        XCTAssertThrowsError(try ModelZoo.make("nope", inputShape: [1], classCount: 2)) { error in
            XCTAssertTrue("\(error)".contains("unknown model 'nope'"))
        }
    }
}
