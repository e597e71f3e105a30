import XCTest
@testable import FathomData
import FathomTensor

final class TransformTests: XCTestCase {
    private let image: [Float] = (0..<(2 * 3 * 4)).map { Float($0) / 24 }  // [2, 3, 4]

    private func run(_ t: any Transform, seed: UInt64 = 1) -> ([Float], [Int]) {
        var copy = image
        var rng = SplitMix64(seed: seed)
        let shape = t.apply(&copy, shape: [2, 3, 4], rng: &rng)
        return (copy, shape)
    }

    func testNormalizeAndFlip() {
        let (normalized, _) = run(Normalize(mean: [0.5, 0], std: [0.5, 2]))
        XCTAssertEqual(normalized[0], -1, accuracy: 1e-6)
        XCTAssertEqual(normalized[12], 0.25, accuracy: 1e-6)
        let (flipped, _) = run(RandomHorizontalFlip(p: 1))
        XCTAssertEqual(Array(flipped[0..<4]), Array(image[0..<4].reversed()))
        XCTAssertEqual(run(RandomHorizontalFlip(p: 0)).0, image)
    }

    func testRandomCropStaysInsidePaddedImage() {
        for seed in 0..<50 {
            let (cropped, shape) = run(RandomCrop(size: 3, padding: 1), seed: UInt64(seed))
            XCTAssertEqual(shape, [2, 3, 3])
            // Every value is either padding or a pixel of the same channel.
            for (i, v) in cropped.enumerated() where v != 0 {
                let channel = i / 9
                XCTAssertTrue(image[(channel * 12)..<((channel + 1) * 12)].contains(v))
            }
        }
        XCTAssertEqual(run(RandomCrop(size: 3, padding: 0), seed: 3).1, [2, 3, 3])
    }

    func testFullScaleResizedCropIsIdentityAndColorJitterClamps() {
        var square: [Float] = (0..<16).map { Float($0) / 16 }
        var rng = SplitMix64(seed: 0)
        _ = RandomResizedCrop(size: 4, scale: 1...1, ratio: 1...1).apply(&square, shape: [1, 4, 4], rng: &rng)
        XCTAssertEqual(square, (0..<16).map { Float($0) / 16 })
        let (jittered, _) = run(ColorJitter(brightness: 0.9, contrast: 0.9))
        XCTAssertTrue(jittered.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertNotEqual(jittered, image)
    }

    func testAugmentationIsKeyedByEpochAndIndexOnly() {
        let base = ShapesDataset(count: 20, seed: 2, imageSize: 16)
        let data = TransformedDataset(base, transform: Compose([RandomCrop(size: 16, padding: 2), RandomHorizontalFlip()]), seed: 9)
        let together = data.forEpoch(1).batch(at: [3, 4])
        let alone = data.forEpoch(1).batch(at: [4])
        XCTAssertEqual(together.inputs[1].scalars(as: Float.self), alone.inputs[0].scalars(as: Float.self))
        XCTAssertNotEqual(data.forEpoch(2).batch(at: [4]).inputs.scalars(as: Float.self), alone.inputs.scalars(as: Float.self))
        let loader = DataLoader(data, batchSize: 5, shuffle: true, seed: 1)
        let first = loader.epoch(1).map { $0.inputs.scalars(as: Float.self) }
        let second = loader.epoch(1).map { $0.inputs.scalars(as: Float.self) }
        XCTAssertEqual(first, second)
        let unprefetched = DataLoader(data, batchSize: 5, shuffle: true, seed: 1, prefetch: 0)
        XCTAssertEqual(unprefetched.epoch(1).map { $0.inputs.scalars(as: Float.self) }, first)
        // Leaving an epoch early must not leave the prefetch thread blocked forever.
        for _ in 0..<20 {
            let iterator = loader.epoch(3).makeIterator()
            _ = iterator.next()
        }
    }
}
