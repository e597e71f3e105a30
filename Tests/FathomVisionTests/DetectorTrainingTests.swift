import Foundation
import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomVision

final class DetectorTrainingTests: XCTestCase {
    /// The dataset's le90 angle and `rotatedBoxCorners` describe the same rectangle as the drawn
    /// pixels: points along the box's own w axis are lit, points along the mirrored axis are not.
    func testDatasetAngleMatchesRotatedBoxCorners() {
        var config = ShapesDetectionConfig()
        config.kinds = [.rectangle]
        config.objectCount = 1...1
        config.clutterCount = 0...0
        config.noise = 0
        config.squareProbability = 0
        config.maxAspect = 8
        let data = ShapesDetectionDataset(count: 40, seed: 3, config: config)
        var checked = 0
        for i in 0..<data.count {
            let (image, objects) = data.sample(at: i)
            guard let o = objects.first, o.aspectRatio > 3, abs(sin(2 * o.angle)) > 0.5 else { continue }
            let pixels = image.scalars(as: Float.self), size = config.imageSize
            func lit(_ x: Double, _ y: Double) -> Bool { pixels[Int(y) * size + Int(x)] > 0.2 }
            let corners = rotatedBoxCorners(Tensor(o.box, shape: [1, 5], dtype: .float64)).doubles
            // Points 80 % of the way from the centre to each corner are inside the drawn shape.
            for k in 0..<4 {
                XCTAssertTrue(lit(o.cx + 0.8 * (corners[2 * k] - o.cx), o.cy + 0.8 * (corners[2 * k + 1] - o.cy)), "image \(i) corner \(k)")
            }
            // The mirrored angle's long axis leaves the shape.
            let far = 0.4 * o.width
            XCTAssertFalse(lit(o.cx + far * cos(-o.angle), o.cy + far * sin(-o.angle)), "image \(i): mirrored axis is lit")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 3)
    }

    /// A hand scene: one 24×6 object at 30° centred on a stride-8 prior; ATSS gives it positives
    /// near its centre and the class/box targets follow the assignment.
    func testTargetBuildingOnHandScene() {
        let detector = AnchorFreeDetector(.heavyNeck(classCount: 3), seed: 1)
        let images = Tensor.zeros([1, 1, 32, 32])
        let output = noGrad { detector(images) }
        let priors = priorPoints(detector.priors(inputSize: 32))
        XCTAssertEqual(priors.count, 64 + 16 + 4)
        XCTAssertEqual(Set(priors.map(\.level)), [0, 1, 2])
        let gt = DetectorGroundTruth(boxes: Tensor([12.0, 12, 24, 6, Double.pi / 6], shape: [1, 5], dtype: .float64), labels: [2])
        let targets = buildDetectorTargets(output, priors: priors, groundTruth: [gt], assigner: .atss(ATSSAssigner(topK: 9, octaveBaseScale: 4)))
        XCTAssertFalse(targets.positiveIndices.isEmpty)
        XCTAssertEqual(targets.labels, [Int](repeating: 2, count: targets.positiveIndices.count))
        XCTAssertEqual(targets.boxes.shape, [targets.positiveIndices.count, 5])
        for flat in targets.positiveIndices {
            let p = priors[flat]
            XCTAssertLessThan(hypot(p.cx - 12, p.cy - 12), 12, "positive \(flat) far from the object")
        }
        // An empty image gives no positives and a finite loss.
        let empty = DetectorGroundTruth([], rotated: true)
        let terms = detectorLoss(output, priors: detector.priors(inputSize: 32), groundTruth: [empty], options: DetectorLossOptions(boxLoss: .kld))
        XCTAssertEqual(terms.positives, 0)
        XCTAssertTrue(terms.total.item().isFinite)
    }

    /// Every box loss (rotated ones on a rotated detector, GIoU on a horizontal one) and every
    /// classification loss gives a finite loss whose gradient reaches the head.
    func testEveryLossIsFiniteAndDifferentiable() {
        var config = ShapesDetectionConfig()
        config.imageSize = 32
        let data = ShapesDetectionDataset(count: 2, seed: 4, config: config)
        let (images, objects) = data.batch(at: [0, 1])
        let cases: [(DetectorBoxLoss, DetectorClassificationLoss)] = [(.smoothL1, .qualityFocal), (.kld, .varifocal), (.gwd, .focal),
                                                                     (.kfiou, .qualityFocal), (.giou, .qualityFocal)]
        for (boxLoss, classification) in cases {
            let detector = AnchorFreeDetector(.heavyNeck(classCount: config.classCount, rotated: boxLoss.isRotated), seed: 3)
            let output = detector(images)
            let terms = detectorLoss(output, priors: detector.priors(inputSize: 32),
                                     groundTruth: objects.map { DetectorGroundTruth($0, rotated: boxLoss.isRotated) },
                                     options: DetectorLossOptions(boxLoss: boxLoss, classification: classification))
            XCTAssertGreaterThan(terms.positives, 0, "\(boxLoss)")
            XCTAssertTrue(terms.total.item().isFinite && terms.box.item() > 0, "\(boxLoss): \(terms.box.item())")
            terms.total.backward()
            let grad = detector.head.levels[0].regressionPrediction.weight.grad
            XCTAssertNotNil(grad, "\(boxLoss)")
            XCTAssertGreaterThan(grad.map { $0.abs().sum().item() } ?? 0, 0, "\(boxLoss)")
        }
    }

    /// KLD and Smooth-L1 both train: a few AdamW steps on the same 4 images lower the box loss.
    func testFewStepsLowerTheLoss() {
        var config = ShapesDetectionConfig()
        config.imageSize = 32
        config.longSide = 0.3...0.7
        let data = ShapesDetectionDataset(count: 4, seed: 5, config: config)
        for loss in [DetectorBoxLoss.kld, .smoothL1] {
            let detector = AnchorFreeDetector(.heavyNeck(classCount: config.classCount), seed: 2)
            let trainer = DetectorTrainer(detector: detector, dataset: data,
                                          options: DetectorTrainingOptions(loss: DetectorLossOptions(boxLoss: loss), steps: 8, batchSize: 4,
                                                                           lr: 3e-3, warmupSteps: 1, seed: 1, logEvery: 1))
            let curve = trainer.train()
            XCTAssertEqual(curve.count, 8)
            // The box term falls and the positives' IoU rises (the total can rise early: the
            // classification targets are those IoUs, so they grow as the boxes improve).
            let first = curve.prefix(2).map(\.box).reduce(0, +), last = curve.suffix(2).map(\.box).reduce(0, +)
            XCTAssertLessThan(last, first, "\(loss): \(curve.map(\.box))")
            XCTAssertGreaterThan(curve.last!.meanIoU, curve.first!.meanIoU, "\(loss): \(curve.map(\.meanIoU))")
            XCTAssertGreaterThan(curve[0].positivesPerImage, 0)
        }
    }

    /// Perfect predictions (the ground truth itself, score 1) give AP 1 at every threshold and in
    /// every bucket; a shifted box fails at 0.75 but not at 0.5.
    func testPerfectPredictionsGiveMAPOne() {
        let data = ShapesDetectionDataset(count: 6, seed: 9)
        var objects: [[ShapesDetectionObject]] = [], detections: [Detection<[Double]>] = []
        for i in 0..<data.count {
            let found = data.objects(at: i)
            objects.append(found)
            for o in found { detections.append(Detection(image: i, classIndex: o.classIndex, box: o.box, score: 1)) }
        }
        let report = evaluateDetectorOutputs(detections, objects: objects, config: data.config, rotated: true)
        XCTAssertEqual(report.map50, 1, accuracy: 1e-12)
        XCTAssertEqual(report.map75, 1, accuracy: 1e-12)
        XCTAssertEqual(report.map50_95, 1, accuracy: 1e-12)
        for entry in report.byAspect { XCTAssertEqual(entry.map50, 1, accuracy: 1e-12) }
        XCTAssertEqual(report.byAspect.map(\.objects).reduce(0, +), objects.map(\.count).reduce(0, +))
        let horizontal = evaluateDetectorOutputs(detections.map { d in
            var d = d
            d.box = rotatedBoxToXYXY(Tensor(d.box, shape: [1, 5], dtype: .float64)).doubles
            return d
        }, objects: objects, config: data.config, rotated: false)
        XCTAssertEqual(horizontal.map50_95, 1, accuracy: 1e-12)
        // Shrinking every box to 80 % of each side: IoU 0.64, a hit at 0.5, a miss at 0.75.
        let shrunk = detections.map { d -> Detection<[Double]> in
            var d = d
            d.box[2] *= 0.8; d.box[3] *= 0.8
            return d
        }
        let partial = evaluateDetectorOutputs(shrunk, objects: objects, config: data.config, rotated: true)
        XCTAssertEqual(partial.map50, 1, accuracy: 1e-12)
        XCTAssertEqual(partial.map75, 0, accuracy: 1e-12)
    }
}
