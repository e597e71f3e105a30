import Foundation
import XCTest
import FathomNN
import FathomTensor
import FathomTestSupport
@testable import FathomVision

final class DetectorModelTests: XCTestCase {
    /// Random running statistics and affine parameters for every batch norm under `module`.
    private func randomizeBatchNorms(_ module: Module, seed: UInt64) {
        let g = Generator(seed: seed)
        noGrad {
            for (_, m) in module.namedModules() {
                guard let bn = m as? BatchNorm else { continue }
                let n = bn.numFeatures
                bn.runningMean!.assign(Tensor.randn([n], generator: g) * 0.5)
                bn.runningVar!.assign(Tensor.uniform([n], low: 0.5, high: 2, generator: g))
                bn.weight!.assign(Tensor.uniform([n], low: 0.5, high: 1.5, generator: g))
                bn.bias!.assign(Tensor.randn([n], generator: g) * 0.2)
            }
        }
    }

    func testRepConvFusionEqualsBranches() {
        for (i, o, s) in [(8, 8, 1), (8, 8, 2), (6, 10, 1), (6, 10, 2)] {
            let block = RepConv(i, o, stride: s, generator: Generator(seed: 7))
            XCTAssertEqual(block.identity != nil, i == o && s == 1)
            randomizeBatchNorms(block, seed: UInt64(i * 100 + o * 10 + s))
            block.eval()
            let x = Tensor.randn([2, i, 9, 9], seed: 3)
            let branches = block(x)
            block.fuse()
            XCTAssertTrue(block.isFused)
            XCTAssertEqual(block.stateDict().keys.sorted(), ["fused.bias", "fused.weight"])
            let fused = block(x)
            XCTAssertEqual(fused.shape, branches.shape)
            XCTAssertEqual(fused.shape, [2, o, s == 1 ? 9 : 5, s == 1 ? 9 : 5])
            XCTAssertLessThan(fused.maxAbsDifference(branches), 1e-5, "RepConv(\(i), \(o), stride \(s))")
        }
    }

    func testOutputShapesAndPriors() {
        for rotated in [true, false] {
            var config = DetectorConfig.heavyNeck(classCount: 4, rotated: rotated)
            config.quality = !rotated
            let model = AnchorFreeDetector(config, seed: 1)
            XCTAssertEqual(model.strides, [4, 8, 16])
            XCTAssertEqual(model.priorCounts(height: 64, width: 64), [256, 64, 16])
            let priors = model.priors(inputSize: 64)
            XCTAssertEqual(priors.shape, [336, 3])
            XCTAssertEqual(priors[0].doubles, [2, 2, 4])
            XCTAssertEqual(priors[1].doubles, [6, 2, 4])
            XCTAssertEqual(priors[256].doubles, [4, 4, 8])
            XCTAssertEqual(priors[335].doubles, [56, 56, 16])
            let out = model(Tensor.rand([2, 1, 64, 64], seed: 2))
            XCTAssertEqual(out.classLogits.shape, [2, 336, 4])
            XCTAssertEqual(out.boxes.shape, [2, 336, rotated ? 5 : 4])
            XCTAssertEqual(out.regression.shape, [2, 336, rotated ? 5 : 4])
            XCTAssertEqual(out.quality?.shape, rotated ? nil : [2, 336])
            // Initial boxes sit on their priors with about the prior's stride as size.
            let box = out.boxes[1, 300].doubles, prior = priors[300].doubles
            if rotated {
                XCTAssertEqual(box[0], prior[0], accuracy: 0.5 * prior[2])
                XCTAssertEqual(box[2] / prior[2], 1, accuracy: 0.5)
                XCTAssertLessThan(abs(box[4]), Double.pi / 2)
            } else {
                XCTAssertEqual((box[0] + box[2]) / 2, prior[0], accuracy: 0.5 * prior[2])
                XCTAssertEqual((box[2] - box[0]) / prior[2], 2, accuracy: 1)
            }
            // Initial scores are at the prior probability 0.01.
            XCTAssertEqual(out.classLogits.sigmoid().mean().item(as: Float.self), 0.01, accuracy: 0.01)
        }
    }

    func testDecodeParameterisation() {
        let priors = Tensor([Float(10), 20, 8], shape: [1, 3])
        let raw = Tensor([Float(0.5), -0.25, Float(log(2.0)), 0, 0], shape: [1, 1, 5])
        let rotated = AnchorFreeDetector.decode(raw, priors: priors, rotated: true).doubles
        for (a, b) in zip(rotated, [14.0, 18, 16, 8, 0]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let ltrb = Tensor([Float(0), Float(log(2.0)), 0, 0], shape: [1, 1, 4])
        let horizontal = AnchorFreeDetector.decode(ltrb, priors: priors, rotated: false).doubles
        for (a, b) in zip(horizontal, [2.0, 4, 18, 28]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // The angle is bounded to le90's (−π/2, π/2).
        let extreme = Tensor([Float(0), 0, 0, 0, 50], shape: [1, 1, 5])
        let theta = AnchorFreeDetector.decode(extreme, priors: priors, rotated: true).doubles[4]
        XCTAssertLessThan(theta, Double.pi / 2)
    }

    func testReparameterizeKeepsOutputs() {
        for config in [DetectorConfig.heavyNeck(classCount: 3), .heavyBackbone(classCount: 3, rotated: false)] {
            let model = AnchorFreeDetector(config, seed: 4)
            randomizeBatchNorms(model, seed: 5)
            model.eval()
            let x = Tensor.rand([2, 1, 32, 32], seed: 6)
            let before = model(x)
            let macsBefore = model.multiplyAdds(inputSize: 32)
            model.reparameterize()
            XCTAssertTrue(model.namedModules().allSatisfy { ($0.module as? RepConv)?.isFused ?? true })
            let after = model(x)
            XCTAssertLessThan(before.classLogits.maxAbsDifference(after.classLogits), 1e-4)
            XCTAssertLessThan(before.regression.maxAbsDifference(after.regression), 1e-4)
            XCTAssertLessThan(model.multiplyAdds(inputSize: 32), macsBefore)
        }
    }

    func testGradientReachesEveryParameter() {
        var config = DetectorConfig.heavyNeck(classCount: 2)
        config.quality = true
        config.headDepth = 1
        for neck in DetectorConfig.NeckKind.allCases {
            config.neck = neck
            let model = AnchorFreeDetector(config, seed: 8)
            let out = model(Tensor.rand([2, 1, 32, 32], seed: 9))
            let loss = (out.classLogits.sigmoid() - 0.3).square().mean() + (out.boxes / 32).square().mean()
                + out.quality!.sigmoid().mean()
            loss.backward()
            for (name, p) in model.namedParameters() {
                guard let g = p.grad else { XCTFail("\(neck): no gradient for \(name)"); continue }
                XCTAssertEqual(g.shape, p.shape, name)
                let norm = g.square().sum().item(as: Float.self)
                XCTAssertTrue(norm.isFinite && norm > 0, "\(neck): gradient of \(name) has squared norm \(norm)")
            }
        }
    }

    func testMultiplyAddsOfPresetsMatch() {
        let heavyNeck = AnchorFreeDetector(.heavyNeck(classCount: 4), seed: 1)
        let heavyBackbone = AnchorFreeDetector(.heavyBackbone(classCount: 4), seed: 1)
        let a = heavyNeck.multiplyAdds(inputSize: 64), b = heavyBackbone.multiplyAdds(inputSize: 64)
        for (name, m) in [("heavyNeck", heavyNeck), ("heavyBackbone", heavyBackbone)] {
            let p = m.multiplyAddsByPart(inputSize: 64)
            print("DetectorModelTests MACs \(name): backbone \(p.backbone), neck \(p.neck), head \(p.head)")
        }
        print("DetectorModelTests MACs at 64×64 (training form): heavyNeck (GFPN) \(a), heavyBackbone (PAFPN) \(b); params \(heavyNeck.parameterCount) vs \(heavyBackbone.parameterCount)")
        XCTAssertLessThan(abs(Double(a - b)) / Double(b), 0.10)
        // The counts equal the closed forms: head Σ cells·(out·in·3·3); backbone stem 8·9·32² + RepConvs (3×3 + 1×1)·out·in·cells = 1 302 528.
        let parts = heavyNeck.multiplyAddsByPart(inputSize: 64)
        XCTAssertEqual(parts.head, 16 * 16 * (16 * 9 * 9) + 8 * 8 * (24 * 9 * 9) + 4 * 4 * (40 * 9 * 9))
        XCTAssertEqual(parts.backbone, 1302528)
        heavyNeck.reparameterize(); heavyBackbone.reparameterize()
        let fa = heavyNeck.multiplyAdds(inputSize: 64), fb = heavyBackbone.multiplyAdds(inputSize: 64)
        print("DetectorModelTests MACs at 64×64 (fused): heavyNeck \(fa), heavyBackbone \(fb)")
        XCTAssertLessThan(abs(Double(fa - fb)) / Double(fb), 0.10)
    }

    func testForwardBackwardTimeBatch16() {
        for config in [DetectorConfig.heavyNeck(classCount: 4), .heavyBackbone(classCount: 4)] {
            let model = AnchorFreeDetector(config, seed: 1)
            let x = Tensor.rand([16, 1, 64, 64], seed: 2)
            _ = model(x[0..<2])  // warm-up: thread pool start, prior cache
            let start = Date(), cpuStart = clock()
            let out = model(x)
            ((out.classLogits.sigmoid()).mean() + (out.boxes / 64).square().mean()).backward()
            let elapsed = Date().timeIntervalSince(start)
            let cpu = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
            XCTAssertNotNil(model.backbone.stem.conv.weight.grad)
            print("DetectorModelTests forward+backward batch 16 at 64×64 (\(config.neck)): wall \(String(format: "%.3f", elapsed)) s, CPU \(String(format: "%.3f", cpu)) s")
            // CPU time (all threads) rather than wall time: the shared machine's load would
            // otherwise decide the outcome.
            XCTAssertLessThan(Swift.min(elapsed, cpu), 3)
        }
    }

    func testStateDictRoundTrip() throws {
        let config = DetectorConfig.heavyBackbone(classCount: 3)
        let a = AnchorFreeDetector(config, seed: 1), b = AnchorFreeDetector(config, seed: 2)
        randomizeBatchNorms(a, seed: 3)
        try b.load(stateDict: a.stateDict())
        a.eval(); b.eval()
        let x = Tensor.rand([1, 1, 32, 32], seed: 4)
        XCTAssertEqual(a(x).boxes.maxAbsDifference(b(x).boxes), 0)
        XCTAssertTrue(a.stateDict().keys.contains("backbone.stages.1.1.conv3.weight"))
        // The fused form round-trips too, under its own keys.
        a.reparameterize()
        let c = AnchorFreeDetector(config, seed: 5)
        c.reparameterize()
        try c.load(stateDict: a.stateDict())
        c.eval()
        XCTAssertTrue(a.stateDict().keys.contains("backbone.stages.1.1.fused.weight"))
        XCTAssertEqual(a(x).classLogits.maxAbsDifference(c(x).classLogits), 0)
        // A training-form model does not accept a fused state dict.
        XCTAssertThrowsError(try b.load(stateDict: a.stateDict()))
    }

    func testPredictReturnsLe90Detections() {
        let model = AnchorFreeDetector(.heavyNeck(classCount: 4), seed: 3)
        let images = Tensor.rand([2, 1, 64, 64], seed: 5)
        let detections = model.predict(images, scoreThreshold: 0, iouThreshold: 0.5, maxDetections: 20, imageOffset: 10)
        XCTAssertTrue(model.isTraining, "predict restores the training mode")
        XCTAssertEqual(detections.count, 2)
        for (b, perImage) in detections.enumerated() {
            XCTAssertFalse(perImage.isEmpty)
            XCTAssertLessThanOrEqual(perImage.count, 20)
            XCTAssertEqual(zip(perImage, perImage.dropFirst()).allSatisfy { $0.score >= $1.score }, true)
            for d in perImage {
                XCTAssertEqual(d.image, 10 + b)
                XCTAssertEqual(d.box.count, 5)
                XCTAssertGreaterThanOrEqual(d.box[2], d.box[3])
                XCTAssertTrue(d.box[4] >= -Double.pi / 2 && d.box[4] < Double.pi / 2)
            }
        }
        XCTAssertTrue(model.predict(images, scoreThreshold: 0.999).allSatisfy(\.isEmpty))
    }
}
