import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomVision

final class SimCLRTests: XCTestCase {
    /// `perClass` points per class around well-separated centres in `dimension` dimensions.
    private func separable(classes: Int, perClass: Int, dimension: Int, seed: UInt64) -> (Tensor, Tensor) {
        let centres = Tensor.randn([classes, dimension], seed: 100) * 4
        let labels = Tensor((0..<(classes * perClass)).map { Int64($0 % classes) })
        let noise = Tensor.randn([classes * perClass, dimension], seed: seed)
        return (centres.indexSelect(axis: 0, index: labels) + noise, labels)
    }

    func testKNNOnSeparableFeaturesIsPerfect() {
        let (train, trainLabels) = separable(classes: 5, perClass: 40, dimension: 16, seed: 1)
        let (test, testLabels) = separable(classes: 5, perClass: 20, dimension: 16, seed: 2)
        let knn = KNNClassifier(features: train, labels: trainLabels, classCount: 5)
        XCTAssertEqual(knn.k, 20)
        XCTAssertEqual(knn.accuracy(features: test, labels: testLabels), 1.0)
        // Shuffled labels carry no signal: chance level.
        let shuffled = Tensor(trainLabels.scalars(as: Int64.self).shuffled(using: &seededRNG))
        XCTAssertLessThan(KNNClassifier(features: train, labels: shuffled, classCount: 5).accuracy(features: test, labels: testLabels), 0.6)
    }

    func testKNNVoteIsSimilarityWeighted() {
        // Query along x: two far "1" neighbours outvoted by one aligned "0" neighbour at T = 0.07.
        let bank = Tensor([1, 0, 0.2, 1, 0.2, 1] as [Float], shape: [3, 2])
        let knn = KNNClassifier(features: bank, labels: Tensor([0, 1, 1] as [Int64]), classCount: 2, k: 3)
        XCTAssertEqual(knn.predict(Tensor([1, 0] as [Float], shape: [1, 2])), [0])
        // A large temperature makes it a plain majority vote.
        let flat = KNNClassifier(features: bank, labels: Tensor([0, 1, 1] as [Int64]), classCount: 2, k: 3, temperature: 100)
        XCTAssertEqual(flat.predict(Tensor([1, 0] as [Float], shape: [1, 2])), [1])
    }

    func testLinearProbeOnSeparableFeatures() {
        let (train, trainLabels) = separable(classes: 4, perClass: 50, dimension: 8, seed: 3)
        let (test, testLabels) = separable(classes: 4, perClass: 25, dimension: 8, seed: 4)
        let probe = LinearProbe.fit(features: train, labels: trainLabels, classCount: 4, epochs: 30, batchSize: 64)
        XCTAssertGreaterThan(probe.accuracy(features: test, labels: testLabels), 0.95)
        XCTAssertLessThan(probe.finalLoss, 0.3)
    }

    func testSimCLRStepsReduceLossOnTinyBatch() {
        let images = ShapesDataset(count: 16, seed: 5, imageSize: 16).batch(at: Array(0..<16)).inputs
        let generator = Generator(seed: 0)
        let encoder = ConvEncoder(inputChannels: 1, width: 4, generator: generator)
        let model = SimCLR(encoder: encoder, projector: ProjectionHead(inFeatures: encoder.featureCount, outFeatures: 8, generator: generator))
        let optimizer = Adam(model.parameters(), lr: 1e-2)
        // Fixed views (same seed each step), so the decrease is the optimizer's, not augmentation noise.
        let views = TwoViewAugmentation()
        let first = model.trainStep(images, augmentation: views, seed: 1, optimizer: optimizer)
        var last = first
        for _ in 0..<8 { last = model.trainStep(images, augmentation: views, seed: 1, optimizer: optimizer) }
        XCTAssertTrue(first.isFinite)
        XCTAssertLessThan(last, first - 0.1)
        let h = model.features(images, batchSize: 5)
        XCTAssertEqual(h.shape, [16, 16])
        XCTAssertTrue(model.isTraining, "features(_:) restores the training mode")
    }
}

nonisolated(unsafe) private var seededRNG = SplitMix64Generator(state: 42)

/// A tiny RandomNumberGenerator for shuffling in tests.
private struct SplitMix64Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
