import Foundation
import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomVision

/// Axis-aligned box for the tests (the IoU is a parameter of the evaluation).
private struct Rect { var x1, y1, x2, y2: Double }

/// Continuous horizontal IoU, the same as scripts/fixtures_detection_ap.py.
private func rectIoU(_ a: Rect, _ b: Rect) -> Double {
    let iw = Swift.max(Swift.min(a.x2, b.x2) - Swift.max(a.x1, b.x1), 0)
    let ih = Swift.max(Swift.min(a.y2, b.y2) - Swift.max(a.y1, b.y1), 0)
    let inter = iw * ih
    return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter)
}

final class AveragePrecisionTests: XCTestCase {
    func testMatchesTheDOTADevkitReference() throws {
        let cases = try loadFixtures("detection_ap")
        XCTAssertEqual(cases.count, 5)
        for (name, c) in cases {
            let classCount = Int(c.params["classCount"]!)
            let d = c.inputs[0].data, g = c.inputs[1].data
            var detections: [Detection<Rect>] = []
            for i in stride(from: 0, to: d.count, by: 7) {
                let box = Rect(x1: d[i + 3], y1: d[i + 4], x2: d[i + 5], y2: d[i + 6])
                detections.append(Detection(image: Int(d[i]), classIndex: Int(d[i + 1]), box: box, score: d[i + 2]))
            }
            var truth: [GroundTruthObject<Rect>] = []
            for i in stride(from: 0, to: g.count, by: 7) {
                let box = Rect(x1: g[i + 3], y1: g[i + 4], x2: g[i + 5], y2: g[i + 6])
                truth.append(GroundTruthObject(image: Int(g[i]), classIndex: Int(g[i + 1]), box: box, difficult: g[i + 2] != 0))
            }
            var values: [Double] = []
            for interpolation in [APInterpolation.allPoints, .elevenPoint] {
                let evaluation = evaluateDetections(detections, groundTruth: truth, classCount: classCount,
                                                    interpolation: interpolation, iou: rectIoU)
                XCTAssertEqual(evaluation.iouThresholds.count, 10)
                for t in 0..<10 { values += evaluation.perClass[t].map { $0.averagePrecision ?? .nan } }
            }
            assertMatches(Tensor(values, shape: [2, 10, classCount]), c.output, rtol: 1e-12, atol: 1e-12, name)
        }
    }

    private let truth = [
        GroundTruthObject(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 10)),
        GroundTruthObject(image: 0, classIndex: 1, box: Rect(x1: 20, y1: 20, x2: 30, y2: 40)),
        GroundTruthObject(image: 1, classIndex: 0, box: Rect(x1: 5, y1: 5, x2: 9, y2: 9)),
    ]

    func testPerfectDetectionsScoreOneAndFalsePositivesZero() {
        let perfect = truth.enumerated().map { i, g in Detection(image: g.image, classIndex: g.classIndex, box: g.box, score: 1 - 0.1 * Double(i)) }
        for interpolation in [APInterpolation.allPoints, .elevenPoint] {
            let evaluation = evaluateDetections(perfect, groundTruth: truth, classCount: 2, interpolation: interpolation, iou: rectIoU)
            // The 11-point sum of eleven 1/11 rounds to 1 + 2⁻⁵², as in the devkit.
            XCTAssertEqual(evaluation.mAP50!, 1, accuracy: 1e-12)
            XCTAssertEqual(evaluation.mAP75!, 1, accuracy: 1e-12)
            XCTAssertEqual(evaluation.mAPAveraged!, 1, accuracy: 1e-12)
        }
        let wrong = truth.map { g in Detection(image: g.image, classIndex: g.classIndex, box: Rect(x1: 50, y1: 50, x2: 60, y2: 60), score: 0.9) }
        let evaluation = evaluateDetections(wrong, groundTruth: truth, classCount: 2, iou: rectIoU)
        XCTAssertEqual(evaluation.mAP50, 0)
        XCTAssertEqual(evaluation.mAPAveraged, 0)
        // No detections at all: AP 0 for classes with ground truth.
        XCTAssertEqual(evaluateDetections([Detection<Rect>](), groundTruth: truth, classCount: 2, iou: rectIoU).mAP50, 0)
    }

    func testDuplicatesAreFalsePositivesAndThresholdIsStrict() {
        let g = [GroundTruthObject(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 10))]
        // A lower-scored exact box after a duplicate: precision 1 then 1/2; AP stays 1 because recall hits 1 first.
        let dets = [Detection(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 10), score: 0.9),
                    Detection(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 10), score: 0.8)]
        let e = evaluateDetections(dets, groundTruth: g, classCount: 1, iouThresholds: [0.5], iou: rectIoU)
        XCTAssertEqual(e.perClass[0][0].precision, [1, 0.5])
        XCTAssertEqual(e.mAP50, 1)
        // IoU exactly 0.5 (half-overlapping box of equal... area 10×10 vs 10×5 inside) is not a match: IoU must exceed.
        let half = [Detection(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 5), score: 1)]
        XCTAssertEqual(evaluateDetections(half, groundTruth: g, classCount: 1, iouThresholds: [0.5], iou: rectIoU).mAP50, 0)
        XCTAssertEqual(evaluateDetections(half, groundTruth: g, classCount: 1, iouThresholds: [0.49], iou: rectIoU).meanAP(thresholdIndex: 0), 1)
    }

    func testDifficultObjectsAreIgnored() {
        let g = [GroundTruthObject(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 10)),
                 GroundTruthObject(image: 0, classIndex: 0, box: Rect(x1: 20, y1: 0, x2: 30, y2: 10), difficult: true)]
        // The top-scored detection hits the difficult object: neither TP nor FP, so AP is still 1.
        let dets = [Detection(image: 0, classIndex: 0, box: Rect(x1: 20, y1: 0, x2: 30, y2: 10), score: 0.99),
                    Detection(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 10), score: 0.5)]
        let e = evaluateDetections(dets, groundTruth: g, classCount: 1, iou: rectIoU)
        XCTAssertEqual(e.perClass[0][0].groundTruthCount, 1)
        XCTAssertEqual(e.perClass[0][0].recall, [1])
        XCTAssertEqual(e.mAP50, 1)
        // Only difficult ground truth: AP undefined, left out of the mean.
        let onlyDifficult = [GroundTruthObject(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 1, y2: 1), difficult: true)]
        XCTAssertNil(evaluateDetections(dets, groundTruth: onlyDifficult, classCount: 1, iou: rectIoU).mAP50)
    }

    func testElevenPointAndAllPointInterpolation() {
        // Precision 1, 0.5, 2/3 at recall 0.5, 0.5, 1: all-point = 0.5·1 + 0.5·(2/3); 11-point = (6·1 + 5·(2/3)) / 11.
        let recall = [0.5, 0.5, 1.0], precision = [1.0, 0.5, 2.0 / 3]
        XCTAssertEqual(averagePrecision(recall: recall, precision: precision, interpolation: .allPoints), 0.5 + 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(averagePrecision(recall: recall, precision: precision, interpolation: .elevenPoint), (6 + 5 * 2.0 / 3) / 11, accuracy: 1e-15)
    }

    func testPerBucketAP() {
        // Bucket 0: the first object, found. Bucket 1: the second object, missed; its false positive is in bucket 1.
        let g = [GroundTruthObject(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 10), bucket: 0),
                 GroundTruthObject(image: 0, classIndex: 0, box: Rect(x1: 20, y1: 0, x2: 60, y2: 5), bucket: 1)]
        let dets = [Detection(image: 0, classIndex: 0, box: Rect(x1: 0, y1: 0, x2: 10, y2: 10), score: 0.5, bucket: 0),
                    Detection(image: 0, classIndex: 0, box: Rect(x1: 70, y1: 70, x2: 110, y2: 75), score: 0.9, bucket: 1)]
        XCTAssertEqual(evaluateDetections(dets, groundTruth: g, classCount: 1, bucket: 0, iou: rectIoU).mAP50, 1)
        XCTAssertEqual(evaluateDetections(dets, groundTruth: g, classCount: 1, bucket: 1, iou: rectIoU).mAP50, 0)
        XCTAssertEqual(evaluateDetections(dets, groundTruth: g, classCount: 1, iou: rectIoU).mAP50!, 0.5 * 0.5, accuracy: 1e-15)
        let byBucket = evaluateDetectionsByBucket(dets, groundTruth: g, classCount: 1, iouThresholds: [0.5], iou: rectIoU)
        XCTAssertEqual(byBucket.keys.sorted(), [0, 1])
        XCTAssertEqual(byBucket[0]?.mAP50, 1)
        XCTAssertEqual(byBucket[1]?.mAP50, 0)
    }
}
