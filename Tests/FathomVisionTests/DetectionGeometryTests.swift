import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomVision

final class DetectionGeometryTests: XCTestCase {
    func fixtures() throws -> [String: FixtureCase] { try loadFixtures("detection_geometry") }

    func testRotatedIoUMatchesExactReference() throws {
        let cases = try fixtures()
        for name in ["rotated_iou_special", "rotated_iou_random"] {
            let c = try XCTUnwrap(cases[name])
            assertMatches(rotatedBoxIoU(c.inputs[0].tensor, c.inputs[1].tensor), c.output, rtol: 0, atol: 1e-6, name)
            // Symmetric in its arguments.
            assertMatches(rotatedBoxIoU(c.inputs[1].tensor, c.inputs[0].tensor).transposed(0, 1).contiguous(), c.output, rtol: 0, atol: 1e-6, name + " swapped")
        }
        let aligned = try XCTUnwrap(cases["rotated_iou_aligned"])
        assertMatches(alignedRotatedBoxIoU(aligned.inputs[0].tensor, aligned.inputs[1].tensor), aligned.output, rtol: 0, atol: 1e-6, "aligned")
        // The special cases pin exact values: identical 1, touching 0, disjoint 0, float32 output dtype.
        let special = try XCTUnwrap(cases["rotated_iou_special"])
        let iou = rotatedBoxIoU(special.inputs[0].tensor, special.inputs[1].tensor).doubles
        XCTAssertEqual(iou[0], 1, accuracy: 1e-12)
        XCTAssertEqual(iou[1], 0)
        XCTAssertEqual(iou[2], 0)
        XCTAssertEqual(iou[3], 0)
        XCTAssertEqual(rotatedBoxIoU(special.inputs[0].tensor.to(.float32), special.inputs[1].tensor).dtype, .float32)
    }

    func testCornersAndEnclosingBoxes() throws {
        let c = try XCTUnwrap(fixtures()["rotated_corners"])
        assertMatches(rotatedBoxCorners(c.inputs[0].tensor), c.output, rtol: 1e-12, atol: 1e-12, "corners")
        let corners = rotatedBoxCorners(c.inputs[0].tensor)
        let xyxy = rotatedBoxToXYXY(c.inputs[0].tensor)
        let expected = Tensor.cat([corners.min(axis: 1), corners.max(axis: 1)], axis: 1)
        XCTAssertLessThan(xyxy.maxAbsDifference(expected), 1e-12)
    }

    func testAngleConventionsRegularizeAndRoundTrip() {
        var values: [Double] = []
        for i in 0..<40 {
            let t = -7.0 + 0.37 * Double(i)
            values += [Double(i), -Double(i), 1 + Double(i % 5), 1 + Double((i * 3) % 7), t]
        }
        values += [0, 0, 2, 2, Double.pi / 2, 0, 0, 3, 1, -Double.pi / 2, 0, 0, 3, 1, Double.pi / 2]
        let boxes = Tensor(values, shape: [values.count / 5, 5])
        for convention in AngleConvention.allCases {
            let r = regularizeRotatedBoxes(boxes, convention)
            XCTAssertTrue(isRegular(r, convention), "\(convention)")
            // Same rectangles: IoU with the original is 1 and the corners agree as sets.
            let iou = alignedRotatedBoxIoU(r, boxes).doubles
            XCTAssertLessThan(iou.map { Swift.abs($0 - 1) }.max()!, 1e-9, "\(convention)")
            // Idempotent, and converting through every other convention comes back exactly.
            XCTAssertEqual(regularizeRotatedBoxes(r, convention).doubles, r.doubles)
            for other in AngleConvention.allCases {
                let back = regularizeRotatedBoxes(regularizeRotatedBoxes(r, other), convention)
                XCTAssertLessThan(back.maxAbsDifference(r), 1e-12, "\(convention) → \(other) → \(convention)")
            }
        }
        // Pinned values: a tall box in le90 becomes wide with θ − π/2 (wrapped).
        let tall = Tensor([0, 0, 1, 3, 0.25] as [Double], shape: [1, 5])
        XCTAssertEqual(regularizeRotatedBoxes(tall, .le90).doubles, [0, 0, 3, 1, 0.25 + Double.pi / 2 - Double.pi])
        XCTAssertEqual(regularizeRotatedBoxes(tall, .le135).doubles, [0, 0, 3, 1, 0.25 + Double.pi / 2])
        XCTAssertEqual(regularizeRotatedBoxes(tall, .oc).doubles[2...4].map { $0 }, [3, 1, 0.25 - Double.pi / 2])
        XCTAssertEqual(AngleConvention.le135.angleRange.upper, 3 * Double.pi / 4)
    }

    func testPolygonsToMinimumAreaBoxes() throws {
        let c = try XCTUnwrap(fixtures()["min_area_rect_le90"])
        let boxes = rotatedBoxesFromPolygons(c.inputs[0].tensor, .le90)
        assertMatches(boxes, c.output, rtol: 1e-9, atol: 1e-9, "minAreaRect")
        // Rectangle corners come back as the same box in every convention.
        let source = Tensor([3, 4, 5, 2, 0.4, 10, -2, 1, 6, -1.2] as [Double], shape: [2, 5])
        for convention in AngleConvention.allCases {
            let back = rotatedBoxesFromPolygons(rotatedBoxCorners(source), convention)
            XCTAssertLessThan(back.maxAbsDifference(regularizeRotatedBoxes(source, convention)), 1e-9)
        }
    }

    func testHorizontalIoUFamily() throws {
        let cases = try fixtures()
        for kind in BoxIoUKind.allCases {
            let c = try XCTUnwrap(cases["hbox_\(kind.rawValue)"])
            let (a, b) = (c.inputs[0].tensor, c.inputs[1].tensor)
            assertMatches(pairwiseBoxIoU(a, b, kind: kind), c.output, rtol: 1e-9, atol: 1e-9, "pairwise \(kind)")
            // The differentiable elementwise form agrees with the matrix diagonal-by-pairs.
            let rows = Tensor(Array(repeating: Array(0..<a.shape[0]), count: b.shape[0]).joined().map { Int64($0) })
            let cols = Tensor((0..<b.shape[0]).flatMap { j in Array(repeating: Int64(j), count: a.shape[0]) })
            let elementwise = alignedBoxIoU(a.indexSelect(axis: 0, index: rows), b.indexSelect(axis: 0, index: cols), kind: kind)
            let expected = Tensor(c.output.data, shape: c.output.shape).transposed(0, 1).contiguous().reshaped([-1])
            XCTAssertLessThan(elementwise.maxAbsDifference(expected), 1e-6, "\(kind)")
        }
        let boxes = Tensor([0, 0, 2, 4, 1, 1, 3, 2] as [Double], shape: [2, 4])
        XCTAssertEqual(xyxyToCXCYWH(boxes).doubles, [1, 2, 2, 4, 2, 1.5, 2, 1])
        XCTAssertEqual(cxcywhToXYXY(xyxyToCXCYWH(boxes)).doubles, boxes.doubles)
        XCTAssertEqual(boxArea(boxes).doubles, [8, 2])
    }

    func testTensorAtanUsedByCIoU() {
        let xs: [Double] = [1e-6, 0.1, 0.5, 1, 2, 10, 1e4, -3]
        let got = Tensor(xs).atan().doubles
        for (x, g) in zip(xs, got) { XCTAssertEqual(g, atan(x), accuracy: 1e-15) }
        checkGradients([Tensor([0.3, 1.7, 8.0] as [Double])]) { $0[0].atan() }
    }

    /// Brute-force greedy NMS: repeatedly take the best remaining box, drop its overlaps.
    func bruteForceNMS(_ iou: [[Double]], _ scores: [Double], _ classes: [Int64]?, _ threshold: Double) -> [Int64] {
        var remaining = Set(scores.indices), keep: [Int64] = []
        while let best = remaining.max(by: { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 > $1 }) {
            keep.append(Int64(best))
            remaining.remove(best)
            for j in remaining where iou[best][j] > threshold && (classes == nil || classes![best] == classes![j]) {
                remaining.remove(j)
            }
        }
        return keep
    }

    func testNMSMatchesBruteForce() {
        let generator = Generator(seed: 7)
        for trial in 0..<6 {
            let n = 40
            let xy = Tensor.uniform([n, 2], low: 0, high: 20, dtype: .float64, generator: generator)
            let wh = Tensor.uniform([n, 2], low: 2, high: 8, dtype: .float64, generator: generator)
            let angle = Tensor.uniform([n, 1], low: -3, high: 3, dtype: .float64, generator: generator)
            // Quantized scores make ties, which must resolve by index.
            let scores = Tensor((0..<n).map { Double(($0 * 7 + trial) % 9) / 9 })
            let classes = Tensor((0..<n).map { Int64(($0 * 5) % 3) })
            let labels = classes.scalars(as: Int64.self)
            let hboxes = Tensor.cat([xy, xy + wh], axis: 1)
            let rboxes = Tensor.cat([xy, wh, angle], axis: 1)
            let hiou = pairwiseBoxIoU(hboxes, hboxes).doubles, riou = rotatedBoxIoU(rboxes, rboxes).doubles
            let h2 = (0..<n).map { Array(hiou[$0 * n..<($0 + 1) * n]) }, r2 = (0..<n).map { Array(riou[$0 * n..<($0 + 1) * n]) }
            let s = scores.doubles
            for threshold in [0.1, 0.5] {
                XCTAssertEqual(nms(hboxes, scores: scores, iouThreshold: threshold).scalars(as: Int64.self), bruteForceNMS(h2, s, nil, threshold))
                XCTAssertEqual(batchedNMS(hboxes, scores: scores, classes: classes, iouThreshold: threshold).scalars(as: Int64.self), bruteForceNMS(h2, s, labels, threshold))
                XCTAssertEqual(rotatedNMS(rboxes, scores: scores, iouThreshold: threshold).scalars(as: Int64.self), bruteForceNMS(r2, s, nil, threshold))
                XCTAssertEqual(batchedRotatedNMS(rboxes, scores: scores, classes: classes, iouThreshold: threshold).scalars(as: Int64.self), bruteForceNMS(r2, s, labels, threshold))
            }
        }
        // Identical boxes with equal scores: the lower index wins; maxOutput caps the result.
        let same = Tensor([0, 0, 1, 1, 0, 0, 1, 1, 5, 5, 6, 6] as [Double], shape: [3, 4])
        XCTAssertEqual(nms(same, scores: Tensor([0.5, 0.5, 0.1] as [Double]), iouThreshold: 0.5).scalars(as: Int64.self), [0, 2])
        XCTAssertEqual(nms(same, scores: Tensor([0.5, 0.5, 0.1] as [Double]), iouThreshold: 0.5, maxOutput: 1).scalars(as: Int64.self), [0])
    }
}
