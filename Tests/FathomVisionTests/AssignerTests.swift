import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomVision

final class AssignerTests: XCTestCase {
    /// One fixture scene: priors, gts, labels, logits, predicted boxes.
    struct Scene {
        var priors: [PriorPoint]
        var gts: Tensor, labels: [Int], logits: Tensor, predicted: Tensor
    }

    func scenes() throws -> [(String, Scene, FixtureCase)] {
        try loadFixtures("assigners").sorted { $0.key < $1.key }.map { name, c in
            let p = c.inputs[0].data
            let priors = stride(from: 0, to: p.count, by: 4).map {
                PriorPoint(cx: p[$0], cy: p[$0 + 1], stride: p[$0 + 2], level: Int(p[$0 + 3]))
            }
            return (name, Scene(priors: priors, gts: c.inputs[1].tensor, labels: c.inputs[2].data.map { Int($0) },
                                logits: c.inputs[3].tensor, predicted: c.inputs[4].tensor), c)
        }
    }

    static let fixtureRanges: [(lower: Double, upper: Double)] = [(-1, 24), (24, 48), (48, .infinity)]

    /// The four assignments of a scene as the fixtures' [P, 8] columns.
    func allAssignments(_ s: Scene, gts: Tensor? = nil, predicted: Tensor? = nil) -> [AssignmentResult] {
        let gts = gts ?? s.gts, predicted = predicted ?? s.predicted
        return [
            ATSSAssigner().assign(priors: s.priors, gtBoxes: gts),
            FCOSAssigner(regressRanges: Self.fixtureRanges).assign(priors: s.priors, gtBoxes: gts),
            OTAAssigner(cost: .simOTA).assign(priors: s.priors, classLogits: s.logits, predictedBoxes: predicted, gtBoxes: gts, gtLabels: s.labels),
            OTAAssigner(cost: .alignedOTA).assign(priors: s.priors, classLogits: s.logits, predictedBoxes: predicted, gtBoxes: gts, gtLabels: s.labels),
        ]
    }

    func table(_ results: [AssignmentResult]) -> Tensor {
        let p = results[0].priorCount
        var out: [Double] = []
        for i in 0..<p { for r in results { out += [Double(r.gtIndices[i]), r.qualities[i]] } }
        return Tensor(out, shape: [p, 2 * results.count], dtype: .float64)
    }

    func testMatchReferenceImplementations() throws {
        let all = try scenes()
        XCTAssertEqual(all.count, 4)
        for (name, scene, c) in all {
            assertMatches(table(allAssignments(scene)), c.output, rtol: 1e-9, atol: 1e-12, name)
        }
    }

    func testNamedFrontEndMatchesTheAssigners() throws {
        let (_, s, c) = try XCTUnwrap(scenes().first)
        XCTAssertNil(LabelAssigner.named("hungarian"))
        let fcosRanges = FCOSAssigner.defaultRegressRanges(levelCount: 3)
        XCTAssertEqual(fcosRanges.map(\.lower), [-1, 64, 128])
        XCTAssertEqual(fcosRanges.map(\.upper), [64, 128, .infinity])
        for (i, name) in LabelAssigner.names.enumerated() {
            var assigner = try XCTUnwrap(LabelAssigner.named(name.uppercased()))
            if case .fcos = assigner { assigner = .fcos(FCOSAssigner(regressRanges: Self.fixtureRanges)) }
            XCTAssertEqual(assigner.usesPredictions, i >= 2)
            let r = assigner.assign(priors: s.priors, classLogits: s.logits, predictedBoxes: s.predicted, gtBoxes: s.gts, gtLabels: s.labels)
            let expected = (0..<s.priors.count).map { Int(c.output.data[8 * $0 + 2 * i]) }
            XCTAssertEqual(r.gtIndices, expected, name)
        }
    }

    /// Rotated boxes with θ = 0 give the horizontal assignment (same positives, same qualities).
    func testRotatedWithZeroAngleMatchesHorizontal() throws {
        for (name, scene, c) in try scenes() {
            func rotated(_ xyxy: Tensor) -> Tensor {
                let cxcywh = xyxyToCXCYWH(xyxy)
                return Tensor.cat([cxcywh, Tensor.zeros([xyxy.shape[0], 1], dtype: .float64)], axis: 1)
            }
            assertMatches(table(allAssignments(scene, gts: rotated(scene.gts), predicted: rotated(scene.predicted))),
                          c.output, rtol: 1e-9, atol: 1e-9, name + " rotated")
        }
    }

    /// Rotating the whole scene by 90° about the image centre rotates the assignment with it
    /// (the prior grid maps onto itself; square anchors stay axis-aligned).
    func testRotatedAssignmentIsEquivariantUnderQuarterTurns() {
        let image = 64.0, priors = PriorPoint.grid(sizes: [(8, 8), (4, 4), (2, 2)], strides: [8, 16, 32])
        let gts: [Double] = [20.3, 25.1, 30, 9, 0.6, 41.7, 38.2, 18, 14, -0.9, 30.4, 44.9, 12, 12, 0.2]
        func turned(_ x: Double, _ y: Double) -> (Double, Double) { (image - y, x) }  // 90° in the y-down frame
        var turnedGts = gts
        for g in 0..<3 {
            let (x, y) = turned(gts[5 * g], gts[5 * g + 1])
            turnedGts[5 * g] = x; turnedGts[5 * g + 1] = y; turnedGts[5 * g + 4] += Double.pi / 2
        }
        // Index of each prior's image under the turn.
        var lookup: [PriorPoint: Int] = [:]
        for (i, p) in priors.enumerated() { lookup[p] = i }
        let map = priors.map { p -> Int in
            let (x, y) = turned(p.cx, p.cy)
            return lookup[PriorPoint(cx: x, cy: y, stride: p.stride, level: p.level)]!
        }
        // Predictions for the OTA assigners: a jittered copy of a gt at each prior, and logits;
        // the turned scene carries prior p's prediction to map[p], turned with the scene.
        var seed: UInt64 = 7
        func uniform() -> Double { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Double(seed >> 11) / Double(1 << 53) }
        var predicted = [Double](repeating: 0, count: 5 * priors.count), turnedPredicted = predicted
        var logits = [Double](repeating: 0, count: 2 * priors.count), turnedLogits = logits
        for p in priors.indices {
            let g = p % 3
            let box = [gts[5 * g] + 4 * uniform() - 2, gts[5 * g + 1] + 4 * uniform() - 2,
                       gts[5 * g + 2] * (0.8 + 0.4 * uniform()), gts[5 * g + 3] * (0.8 + 0.4 * uniform()), gts[5 * g + 4] + 0.2 * uniform()]
            predicted.replaceSubrange(5 * p..<5 * p + 5, with: box)
            let (x, y) = turned(box[0], box[1])
            turnedPredicted.replaceSubrange(5 * map[p]..<5 * map[p] + 5, with: [x, y, box[2], box[3], box[4] + Double.pi / 2])
            let l = [4 * uniform() - 2, 4 * uniform() - 2]
            logits.replaceSubrange(2 * p..<2 * p + 2, with: l)
            turnedLogits.replaceSubrange(2 * map[p]..<2 * map[p] + 2, with: l)
        }
        func ota(_ cost: OTAAssigner.Cost) -> ([Double]) -> AssignmentResult {
            { boxes in
                let isTurned = boxes == turnedGts
                return OTAAssigner(cost: cost).assign(priors: priors, logits: isTurned ? turnedLogits : logits, classCount: 2,
                                                      predictedBoxes: isTurned ? turnedPredicted : predicted,
                                                      gtBoxes: boxes, boxWidth: 5, gtLabels: [0, 1, 1])
            }
        }
        let assigners: [(String, ([Double]) -> AssignmentResult)] = [
            ("atss", { ATSSAssigner().assign(priors: priors, gtBoxes: $0, boxWidth: 5) }),
            ("fcos", { FCOSAssigner().assign(priors: priors, gtBoxes: $0, boxWidth: 5) }),
            ("simota", ota(.simOTA)), ("alignedota", ota(.alignedOTA)),
        ]
        for (name, assign) in assigners {
            let a = assign(gts), b = assign(turnedGts)
            XCTAssertGreaterThan(a.positiveCount, 3, name)
            for i in priors.indices {
                XCTAssertEqual(a.gtIndices[i], b.gtIndices[map[i]], "\(name) prior \(i)")
                XCTAssertEqual(a.qualities[i], b.qualities[map[i]], accuracy: 1e-9, "\(name) prior \(i)")
            }
        }
    }

    /// A thin box at 45°: every positive's point lies inside the rotated box, and points inside
    /// its enclosing horizontal box but outside the rotated one are never positive.
    func testRotatedPositivesLieInsideTheRotatedBox() {
        let priors = PriorPoint.grid(sizes: [(16, 16), (8, 8)], strides: [4, 8])
        let gt: [Double] = [32, 32, 56, 10, Double.pi / 4]
        let boxes = AssignerBoxes(values: gt, width: 5, op: "test")
        for (name, result) in [("atss", ATSSAssigner(octaveBaseScale: 4).assign(priors: priors, gtBoxes: gt, boxWidth: 5)),
                               ("fcos", FCOSAssigner(centerSampling: false).assign(priors: priors, gtBoxes: gt, boxWidth: 5))] {
            XCTAssertGreaterThanOrEqual(result.positiveCount, 2, name)
            for p in result.positiveIndices {
                let o = boxes.localOffset(priors[p].cx, priors[p].cy, 0)
                XCTAssertLessThan(abs(o.x), 28, name); XCTAssertLessThan(abs(o.y), 5, name)
            }
        }
        // (14, 50) lies inside the enclosing horizontal box (x, y ∈ [8.7, 55.3]) but 25 px off the
        // rotated box's long axis, so it is background; (22, 22) lies on that axis.
        let fcos = FCOSAssigner(centerSampling: false).assign(priors: priors, gtBoxes: gt, boxWidth: 5)
        let corner = priors.firstIndex { $0.cx == 14 && $0.cy == 50 && $0.level == 0 }!
        XCTAssertEqual(fcos.gtIndices[corner], -1)
        let onAxis = priors.firstIndex { $0.cx == 22 && $0.cy == 22 && $0.level == 0 }!
        XCTAssertEqual(fcos.gtIndices[onAxis], 0)
    }

    func testOneObjectHasTheObviousPositives() {
        // One 32×32 object centred in a 64×64 image; stride-8 points at 4, 12, …, 60.
        let priors = PriorPoint.grid(sizes: [(8, 8)], strides: [8])
        let gt = Tensor([16, 16, 48, 48], shape: [1, 4], dtype: .float64)
        let fcos = FCOSAssigner().assign(priors: priors, gtBoxes: gt)
        // Centre sampling keeps |dx|, |dy| < 1.5·8 = 12: the points 28 and 36 on each axis.
        let expected = priors.indices.filter { [28.0, 36].contains(priors[$0].cx) && [28.0, 36].contains(priors[$0].cy) }
        XCTAssertEqual(fcos.positiveIndices, expected)
        for p in expected { XCTAssertEqual(fcos.qualities[p], 0.6, accuracy: 1e-12) }  // centre-ness √((12/20)²)
        // Without centre sampling, every point strictly inside the box (20…44 on each axis).
        XCTAssertEqual(FCOSAssigner(centerSampling: false).assign(priors: priors, gtBoxes: gt).positiveCount, 16)

        // ATSS with 32-px anchors: the 9 candidates are the 4 central points (IoU 28²/(2·32² − 28²)
        // ≈ 0.620) and 5 at (±12, ±4) (IoU ≈ 0.376); mean + std ≈ 0.613 keeps the central four.
        let atss = ATSSAssigner(octaveBaseScale: 4).assign(priors: priors, gtBoxes: gt)
        XCTAssertEqual(atss.positiveIndices, expected)
        let centralIoU: Double = 784.0 / 1264.0  // 28² / (2·32² − 28²)
        for p in expected { XCTAssertEqual(atss.qualities[p], centralIoU, accuracy: 1e-12) }

        // SimOTA with a perfect prediction at one prior and poor ones elsewhere: it takes that prior.
        var boxes = [Double](repeating: 0, count: 4 * priors.count)
        for (i, p) in priors.enumerated() { boxes.replaceSubrange(4 * i..<4 * i + 4, with: [p.cx - 2, p.cy - 2, p.cx + 2, p.cy + 2]) }
        let best = expected[1]
        boxes.replaceSubrange(4 * best..<4 * best + 4, with: [16, 16, 48, 48])
        let logits = [Double](repeating: 0, count: priors.count * 2)
        for cost in OTAAssigner.Cost.allCases {
            let r = OTAAssigner(cost: cost).assign(priors: priors, logits: logits, classCount: 2, predictedBoxes: boxes,
                                                   gtBoxes: [16, 16, 48, 48], boxWidth: 4, gtLabels: [1])
            XCTAssertEqual(r.positiveIndices, [best], "\(cost)")
            XCTAssertEqual(r.qualities[best], 1, accuracy: 1e-12)
            XCTAssertEqual(r.labels(gtLabels: [1])[best], 1)
            let targets = r.classTargets(gtLabels: [1], classCount: 2)
            XCTAssertEqual(targets.shape, [priors.count, 2])
            XCTAssertEqual(targets.doubles.reduce(0, +), 1, accuracy: 1e-6)
            XCTAssertEqual(r.assignedBoxes(Tensor([16, 16, 48, 48], shape: [1, 4], dtype: .float64)).doubles, [16, 16, 48, 48])
        }
    }

    func testNoObjectsMeansAllBackground() throws {
        let (_, s, _) = try XCTUnwrap(scenes().first)
        for width in [4, 5] {
            let none = Tensor([Double](), shape: [0, width], dtype: .float64)
            let predicted = width == 4 ? s.predicted : Tensor([Double](repeating: 1, count: 5 * s.priors.count), shape: [s.priors.count, 5], dtype: .float64)
            let results = [
                ATSSAssigner().assign(priors: s.priors, gtBoxes: none),
                FCOSAssigner().assign(priors: s.priors, gtBoxes: none),
                OTAAssigner().assign(priors: s.priors, classLogits: s.logits, predictedBoxes: predicted, gtBoxes: none, gtLabels: []),
                OTAAssigner(cost: .alignedOTA).assign(priors: s.priors, classLogits: s.logits, predictedBoxes: predicted, gtBoxes: none, gtLabels: []),
            ]
            for r in results {
                XCTAssertEqual(r, AssignmentResult(priorCount: s.priors.count))
                XCTAssertEqual(r.positiveCount, 0)
                XCTAssertEqual(r.assignedBoxes(none).shape, [0, width])
            }
        }
    }

    func testPriorInsideTwoObjects() {
        // A large box and a small box nested around the same points.
        let priors = PriorPoint.grid(sizes: [(8, 8)], strides: [8])
        let gts: [Double] = [0, 0, 64, 64, 22, 22, 42, 42]
        let fcos = FCOSAssigner(radius: 10, regressRanges: [(-1, 1000)]).assign(priors: priors, gtBoxes: gts, boxWidth: 4)
        let shared = priors.firstIndex { $0.cx == 28 && $0.cy == 28 }!
        XCTAssertEqual(fcos.gtIndices[shared], 1, "the smaller object wins")
        XCTAssertEqual(fcos.gtIndices[0], 0, "a point only in the large box keeps it")
        // ATSS: a shared positive goes to the gt with the higher anchor IoU.
        let atss = ATSSAssigner(octaveBaseScale: 3).assign(priors: priors, gtBoxes: gts, boxWidth: 4)
        for p in atss.positiveIndices {
            let anchor = Tensor([priors[p].cx - 12, priors[p].cy - 12, priors[p].cx + 12, priors[p].cy + 12], shape: [1, 4], dtype: .float64)
            let ious = boxIoU(anchor, Tensor(gts, shape: [2, 4], dtype: .float64)).doubles
            XCTAssertEqual(atss.qualities[p], ious[atss.gtIndices[p]], accuracy: 1e-12)
        }
        XCTAssertEqual(atss.gtIndices[shared], 1)
    }

    func testTiesGoToTheLowerIndexAndRepeat() {
        // One level, two points equidistant from the gt centre (8, 4): with topK 1, prior 0.
        let priors = [PriorPoint(cx: 4, cy: 4, stride: 8, level: 0), PriorPoint(cx: 12, cy: 4, stride: 8, level: 0)]
        let gt: [Double] = [0, 0, 16, 8]
        let atss = ATSSAssigner(topK: 1).assign(priors: priors, gtBoxes: gt, boxWidth: 4)
        XCTAssertEqual(atss.gtIndices, [0, -1])
        // Two identical gts: every claim goes to gt 0 (FCOS equal areas, ATSS equal IoUs).
        let twin = gt + gt
        XCTAssertEqual(FCOSAssigner(regressRanges: [(-1, 100)]).assign(priors: priors, gtBoxes: twin, boxWidth: 4).gtIndices, [0, 0])
        XCTAssertEqual(ATSSAssigner().assign(priors: priors, gtBoxes: twin, boxWidth: 4).gtIndices.filter { $0 > 0 }, [])
        // SimOTA with identical predictions at both priors and k = 1: prior 0.
        let boxes: [Double] = [1, 1, 15, 7, 1, 1, 15, 7]
        for cost in OTAAssigner.Cost.allCases {
            let assign = { OTAAssigner(cost: cost).assign(priors: priors, logits: [0.3, 0.3], classCount: 1, predictedBoxes: boxes,
                                                           gtBoxes: gt, boxWidth: 4, gtLabels: [0]) }
            let first = assign()
            XCTAssertEqual(first.gtIndices, [0, -1], "\(cost)")
            XCTAssertEqual(assign(), first)
        }
    }

    /// Detector-sized problem: 8400 priors (640² at strides 8/16/32), 20 objects.
    func testDetectorSizedSceneIsFast() {
        let priors = PriorPoint.grid(sizes: [(80, 80), (40, 40), (20, 20)], strides: [8, 16, 32])
        var gts: [Double] = [], labels: [Int] = []
        var seed: UInt64 = 12345
        func uniform() -> Double { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Double(seed >> 11) / Double(1 << 53) }
        for g in 0..<20 {
            let w = 20 + 200 * uniform(), h = 20 + 200 * uniform(), x = w / 2 + (640 - w) * uniform(), y = h / 2 + (640 - h) * uniform()
            gts += [x - w / 2, y - h / 2, x + w / 2, y + h / 2]; labels.append(g % 5)
        }
        var boxes: [Double] = [], logits: [Double] = []
        for p in priors {
            let r = 4 * p.stride * (0.5 + uniform())
            boxes += [p.cx - r, p.cy - r, p.cx + r, p.cy + r]
            for _ in 0..<5 { logits.append(4 * uniform() - 2) }
        }
        let start = Date()
        let atss = ATSSAssigner().assign(priors: priors, gtBoxes: gts, boxWidth: 4)
        let fcos = FCOSAssigner().assign(priors: priors, gtBoxes: gts, boxWidth: 4)
        let ota = OTAAssigner(cost: .alignedOTA).assign(priors: priors, logits: logits, classCount: 5, predictedBoxes: boxes,
                                                        gtBoxes: gts, boxWidth: 4, gtLabels: labels)
        let elapsed = Date().timeIntervalSince(start)
        print("assigners on 8400 priors × 20 gts (ATSS + FCOS + AlignedOTA): \(String(format: "%.1f", elapsed * 1000)) ms")
        XCTAssertGreaterThan(atss.positiveCount, 20)
        XCTAssertGreaterThan(fcos.positiveCount, 20)
        XCTAssertGreaterThanOrEqual(ota.positiveCount, 20)
        XCTAssertLessThan(elapsed, 2)
    }
}
