import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomVision

final class ReIDTrainingTests: XCTestCase {
    func testPKSamplerBatches() {
        // 5 identities: two with fewer than K images (sampled with replacement).
        let labels = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 3, 4, 4, 4, 4, -1]
        let sampler = PKSampler(labels: labels, p: 2, k: 4, seed: 7)
        XCTAssertEqual(sampler.batchCount, 2)
        let batches = sampler.batches(epoch: 0)
        XCTAssertEqual(batches, sampler.batches(epoch: 0), "deterministic")
        XCTAssertNotEqual(batches, sampler.batches(epoch: 1))
        var seen = Set<Int>()
        for batch in batches {
            XCTAssertEqual(batch.count, 8)
            let ids = batch.map { labels[$0] }
            XCTAssertFalse(ids.contains(-1), "noise is never sampled")
            XCTAssertEqual(Set(ids).count, 2)
            for id in Set(ids) {
                XCTAssertEqual(ids.filter { $0 == id }.count, 4)
                seen.insert(id)
                let members = batch.filter { labels[$0] == id }
                // Identities with at least K images give K distinct ones.
                if labels.filter({ $0 == id }).count >= 4 { XCTAssertEqual(Set(members).count, 4) }
            }
        }
        XCTAssertEqual(seen.count, 4, "identities are not repeated within an epoch")
    }

    func testBNNeckBiasIsFrozenAndShapes() {
        let model = ReIDNet(classCount: 5, width: 4, generator: Generator(seed: 1))
        XCTAssertEqual(model.bottleneck.bias?.requiresGrad, false)
        XCTAssertFalse(model.trainableParameters().contains { $0 === model.bottleneck.bias })
        XCTAssertNil(model.classifier.bias)
        let x = Tensor.randn([6, 1, 32, 32], seed: 2)
        let out = model.trainingOutput(x)
        XCTAssertEqual(out.feature.shape, [6, 16])
        XCTAssertEqual(out.logits.shape, [6, 5])
        model.resetClassifier(classCount: 9)
        XCTAssertEqual(model.classifier.outFeatures, 9)
        XCTAssertEqual(extractFeatures(model, images: x, batchSize: 4).shape, [6, 16])
        XCTAssertTrue(model.isTraining, "extractFeatures restores the mode")
    }

    func testTrainingSeparatesIdentities() {
        // 6 identities × 2 cameras × 2 images; a few epochs must lower the losses.
        let data = ShapesReID(seed: 0, cameraCount: 2, trainIdentities: 6, testIdentities: 2, imagesPerCamera: 2)
        let images = data.images(data.train)
        let labels = data.train.map(\.identity)
        let model = ReIDNet(classCount: 6, width: 4, generator: Generator(seed: 0))
        var config = ReIDTrainingConfig()
        config.p = 6
        config.k = 4
        config.lr = 3e-3
        let trainer = ReIDTrainer(model: model, config: config)
        let first = trainer.trainEpoch(images: images, labels: labels)
        var last = first
        for _ in 0..<4 { last = trainer.trainEpoch(images: images, labels: labels) }
        XCTAssertEqual(first.batches, 1)
        XCTAssertLessThan(last.idLoss, first.idLoss)
        XCTAssertLessThan(last.tripletLoss + last.idLoss, first.tripletLoss + first.idLoss)
        let bias = model.bottleneck.bias!.scalars(as: Float.self)
        XCTAssertEqual(bias, [Float](repeating: 0, count: 16), "the frozen BNNeck bias stays 0")
    }
}
