import XCTest
import FathomTensor
@testable import FathomData

final class ShapesReIDTests: XCTestCase {
    private let data = ShapesReID(seed: 3, cameraCount: 3, trainIdentities: 10, testIdentities: 6, imagesPerCamera: 3, queryCameras: 2)

    func testSplitsFollowTheMarketProtocol() {
        XCTAssertEqual(data.train.count, 10 * 3 * 3)
        XCTAssertEqual(Set(data.train.map(\.identity)), Set(0..<10))
        // One query per test identity per query camera; the gallery holds every other test image.
        XCTAssertEqual(data.query.count, 6 * 2)
        XCTAssertEqual(Set(data.query.map(\.identity)), Set(10..<16))
        XCTAssertEqual(Set(data.query.map(\.camera)), [0, 1])
        XCTAssertEqual(data.gallery.count, 6 * 3 * 3 - 6 * 2)
        XCTAssertTrue(Set(data.query).isDisjoint(with: Set(data.gallery)))
        XCTAssertTrue(Set(data.gallery.map(\.identity)).isDisjoint(with: Set(data.train.map(\.identity))))
        // Every query has a match in another camera (a valid Market-1501 query).
        for q in data.query {
            XCTAssertTrue(data.gallery.contains { $0.identity == q.identity && $0.camera != q.camera })
        }
    }

    func testDeterministicAndDistinctImages() {
        let a = data.images(Array(data.train.prefix(12)))
        let b = ShapesReID(seed: 3, cameraCount: 3, trainIdentities: 10, testIdentities: 6, imagesPerCamera: 3,
                           queryCameras: 2).images(Array(data.train.prefix(12)))
        XCTAssertEqual(a.shape, [12, 1, 32, 32])
        XCTAssertEqual(a.scalars(as: Float.self), b.scalars(as: Float.self))
        let values = a.scalars(as: Float.self)
        XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Two images of one identity differ (pose, noise), and another seed gives other identities.
        let first = data.render(data.train[0]), second = data.render(data.train[1])
        XCTAssertNotEqual(first, second)
        XCTAssertNotEqual(ShapesReID(seed: 4).identity(0), data.identity(0))
        XCTAssertEqual(data.identity(5), data.identity(5))
        XCTAssertTrue((2...3).contains(data.identity(5).parts.count))
    }

    func testIdentitiesAreMostlyDistinct() {
        let many = ShapesReID(seed: 0, trainIdentities: 300)
        let kinds = Set((0..<300).map { id in many.identity(id).parts.map(\.kind.rawValue) })
        XCTAssertGreaterThan(kinds.count, 100, "part kinds alone should separate most of 300 identities")
    }

    func testTargetDomainIsShifted() {
        let source = ShapesReID(seed: 1, domain: .source), target = ShapesReID(seed: 1, domain: .target, targetShift: 1)
        XCTAssertNotEqual(source.identity(0), target.identity(0), "the target domain has its own identities")
        for c in 0..<4 {
            XCTAssertGreaterThan(target.camera(c).noise, source.camera(c).noise)
            XCTAssertLessThan(target.camera(c).contrast.upperBound, source.camera(c).contrast.lowerBound)
            XCTAssertGreaterThan(target.camera(c).background, 0)
        }
        func mean(_ d: ShapesReID) -> Float {
            let v = d.images(Array(d.train.prefix(32))).scalars(as: Float.self)
            return v.reduce(0, +) / Float(v.count)
        }
        // A gray background lifts the mean of the target images, less so at half the shift.
        let half = ShapesReID(seed: 1, domain: .target, targetShift: 0.5)
        XCTAssertEqual(half.targetShift, 0.5)
        XCTAssertGreaterThan(mean(target), mean(half))
        XCTAssertGreaterThan(mean(half), mean(source))
        // Without shift the target cameras draw from the source ranges.
        let none = ShapesReID(seed: 1, domain: .target, targetShift: 0)
        XCTAssertEqual(none.camera(2).background, 0)
        XCTAssertGreaterThanOrEqual(none.camera(2).contrast.lowerBound, 0.7)
    }
}
