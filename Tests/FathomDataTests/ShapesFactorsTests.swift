import XCTest
@testable import FathomData
import FathomTensor

final class ShapesFactorsTests: XCTestCase {
    private let data = ShapesFactors(imageSize: 16, scaleCount: 2, rotationCount: 3, positionCount: 4)

    func testGridSizeAndIndexRoundTrip() {
        XCTAssertEqual(data.factorSizes, [3, 2, 3, 4, 4])
        XCTAssertEqual(data.count, 3 * 2 * 3 * 4 * 4)
        XCTAssertEqual(data.factors(at: 0), [0, 0, 0, 0, 0])
        XCTAssertEqual(data.factors(at: 1), [0, 0, 0, 0, 1], "y varies fastest, as in dSprites")
        XCTAssertEqual(data.factors(at: data.count - 1), [2, 1, 2, 3, 3])
        for i in [0, 7, 45, 200, data.count - 1] {
            XCTAssertEqual(data.index(of: data.factors(at: i)), i)
        }
    }

    func testEnumerationShapesAndFactorColumns() {
        let (images, factors) = data.enumerateAll()
        XCTAssertEqual(images.shape, [data.count, 1, 16, 16])
        XCTAssertEqual(factors.shape, [data.count, 5])
        XCTAssertEqual(factors.dtype, .int64)
        let f = factors.scalars(as: Int64.self)
        // Every value of every factor appears count / size times (the grid is exhaustive).
        for (axis, size) in data.factorSizes.enumerated() {
            for v in 0..<size {
                let n = stride(from: axis, to: f.count, by: 5).filter { f[$0] == Int64(v) }.count
                XCTAssertEqual(n, data.count / size, "factor \(axis) value \(v)")
            }
        }
        let pixels = images.scalars(as: Float.self)
        XCTAssertTrue(pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        // No image is empty, and no shape touches the border (it stays inside the image).
        for n in 0..<data.count {
            let image = Array(pixels[(n * 256)..<((n + 1) * 256)])
            XCTAssertGreaterThan(image.reduce(0, +), 2, "image \(n) is (nearly) empty")
            var border: Float = 0
            for i in 0..<16 {
                border += image[i] + image[240 + i]
                border += image[i * 16] + image[i * 16 + 15]
            }
            XCTAssertEqual(border, 0, "image \(n) touches the border")
        }
    }

    /// The centroid moves right with x and down with y; the mass grows with scale.
    func testFactorsControlPositionAndSize() {
        func moments(_ factors: [Int]) -> (mass: Float, x: Float, y: Float) {
            let image = data.images(for: [factors]).scalars(as: Float.self)
            var mass: Float = 0, x: Float = 0, y: Float = 0
            for (i, v) in image.enumerated() {
                mass += v; x += v * Float(i % 16); y += v * Float(i / 16)
            }
            return (mass, x / mass, y / mass)
        }
        let a = moments([0, 0, 0, 0, 0]), b = moments([0, 0, 0, 3, 0]), c = moments([0, 0, 0, 0, 3])
        XCTAssertGreaterThan(b.x - a.x, 4)
        XCTAssertEqual(b.y, a.y, accuracy: 0.01)
        XCTAssertGreaterThan(c.y - a.y, 4)
        XCTAssertGreaterThan(moments([0, 1, 0, 0, 0]).mass, a.mass * 2)
        // Different shapes at the same place differ.
        XCTAssertNotEqual(data.images(for: [[0, 1, 1, 2, 2]]).scalars(as: Float.self),
                          data.images(for: [[2, 1, 1, 2, 2]]).scalars(as: Float.self))
    }

    func testSamplingIsSeededAndInRange() {
        let (images, factors) = data.sample(count: 50, seed: 7)
        XCTAssertEqual(images.shape, [50, 1, 16, 16])
        XCTAssertEqual(factors.shape, [50, 5])
        XCTAssertEqual(factors.scalars(as: Int64.self), data.sample(count: 50, seed: 7).factors.scalars(as: Int64.self))
        XCTAssertNotEqual(factors.scalars(as: Int64.self), data.sample(count: 50, seed: 8).factors.scalars(as: Int64.self))
        let f = factors.scalars(as: Int64.self)
        for (i, v) in f.enumerated() { XCTAssertTrue(v >= 0 && v < Int64(data.factorSizes[i % 5])) }
        // The images are those of the sampled factors.
        let first = (0..<5).map { Int(f[$0]) }
        XCTAssertEqual(Array(images.scalars(as: Float.self)[0..<256]), data.images(for: [first]).scalars(as: Float.self))
    }
}
