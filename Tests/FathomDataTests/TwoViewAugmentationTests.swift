import XCTest
@testable import FathomData
import FathomTensor

final class TwoViewAugmentationTests: XCTestCase {
    /// Smooth-ish images in [0, 1], `[b, c, h, w]`.
    private func images(_ b: Int, _ c: Int, _ h: Int, _ w: Int, seed: UInt64 = 3) -> Tensor {
        var rng = SplitMix64(seed: seed)
        let values = (0..<(b * c * h * w)).map { _ in Float(rng.nextDouble()) }
        return Tensor(values, shape: [b, c, h, w])
    }

    func testFullImageCropReproducesInput() {
        let x = images(3, 2, 9, 7)
        let box = CropBox(top: 0, left: 0, height: 9, width: 7)
        let y = Augment.resizedCrop(x, boxes: Array(repeating: box, count: 3))
        XCTAssertEqual(y.scalars(as: Float.self), x.scalars(as: Float.self))
        // The same through the pipeline at scale 1, ratio 1 on square images.
        let square = images(4, 3, 8, 8)
        XCTAssertEqual(SimCLRAugmentation.none(square, seed: 9).scalars(as: Float.self), square.scalars(as: Float.self))
    }

    func testCropOfHalfImageUpsamplesIt() {
        // A horizontal ramp: the left half, resized to full width, is a ramp of half the slope.
        let w = 8
        let x = Tensor((0..<(4 * w)).map { Float($0 % w) }, shape: [1, 1, 4, w])
        let y = Augment.resizedCrop(x, boxes: [CropBox(top: 0, left: 0, height: 4, width: 4)]).scalars(as: Float.self)
        // Interior pixel 3 samples source x = (3.5)·4/8 − 0.5 = 1.25.
        XCTAssertEqual(y[3], 1.25, accuracy: 1e-6)
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[w - 1], 3)
    }

    func testFlipTwiceIsIdentity() {
        let x = images(3, 2, 5, 6)
        let once = Augment.horizontalFlip(x)
        XCTAssertNotEqual(once.scalars(as: Float.self), x.scalars(as: Float.self))
        XCTAssertEqual(once.scalars(as: Float.self)[0], x.scalars(as: Float.self)[5])
        XCTAssertEqual(Augment.horizontalFlip(once).scalars(as: Float.self), x.scalars(as: Float.self))
        let masked = Augment.horizontalFlip(x, mask: [false, true, false]).scalars(as: Float.self)
        XCTAssertEqual(Array(masked[0..<60]), Array(x.scalars(as: Float.self)[0..<60]))
    }

    func testBlurPreservesMeanAndSmooths() {
        // A constant image stays constant (normalized kernel, reflect padding).
        let flat = Tensor(Array(repeating: Float(0.3), count: 2 * 10 * 10), shape: [1, 2, 10, 10])
        for v in Augment.gaussianBlur(flat, sigma: 1.5).scalars(as: Float.self) { XCTAssertEqual(v, 0.3, accuracy: 1e-6) }
        // A noisy image keeps its mean (up to boundary reflection) and loses variance.
        let x = images(2, 1, 24, 24)
        let y = Augment.gaussianBlur(x, sigma: 1.0)
        XCTAssertEqual(y.mean().item(), x.mean().item(), accuracy: 5e-3)
        XCTAssertLessThan(y.variance().item(), 0.5 * x.variance().item())
    }

    func testColorJitter() {
        let x = images(2, 3, 4, 4)
        let bright = Augment.colorJitter(x, brightness: [1, 0.5]).scalars(as: Float.self)
        let xs = x.scalars(as: Float.self)
        XCTAssertEqual(Array(bright[0..<48]), Array(xs[0..<48]))
        XCTAssertEqual(bright[48], xs[48] * 0.5, accuracy: 1e-7)
        // Contrast 0 collapses to the mean luma; saturation 0 to gray; hue 0 is the identity (up to rounding).
        let flat = Augment.colorJitter(x, contrast: [0, 0]).scalars(as: Float.self)
        XCTAssertEqual(flat[0], flat[17], accuracy: 1e-6)
        let gray = Augment.colorJitter(x, saturation: [0, 0]).scalars(as: Float.self)
        XCTAssertEqual(gray[5], gray[5 + 16], accuracy: 1e-6)
        let hue = Augment.colorJitter(x, hue: [0, 0]).scalars(as: Float.self)
        for (a, b) in zip(hue, xs) { XCTAssertEqual(a, b, accuracy: 2e-3) }
        // One channel: saturation and hue do nothing.
        let mono = images(1, 1, 4, 4)
        XCTAssertEqual(Augment.colorJitter(mono, saturation: [0], hue: [0.3]).scalars(as: Float.self), mono.scalars(as: Float.self))
    }

    func testTwoViewsAreDeterministicIndependentAndThreadCountFree() {
        let x = images(40, 1, 28, 28)
        let pair = TwoViewAugmentation()
        let (a, b) = pair(x, seed: 7)
        let (a2, b2) = pair(x, seed: 7)
        XCTAssertEqual(a.scalars(as: Float.self), a2.scalars(as: Float.self))
        XCTAssertEqual(b.scalars(as: Float.self), b2.scalars(as: Float.self))
        XCTAssertEqual(a.shape, [40, 1, 28, 28])
        XCTAssertNotEqual(a.scalars(as: Float.self), b.scalars(as: Float.self))
        XCTAssertNotEqual(pair(x, seed: 8).0.scalars(as: Float.self), a.scalars(as: Float.self))
        let threads = numThreads()
        setNumThreads(1)
        let (a1, _) = pair(x, seed: 7)
        setNumThreads(threads)
        XCTAssertEqual(a1.scalars(as: Float.self), a.scalars(as: Float.self))
        // An image's views do not depend on the rest of the batch.
        let (first, _) = pair(x.select([.range(start: 0, end: 5)]).contiguous(), seed: 7)
        XCTAssertEqual(first.scalars(as: Float.self), Array(a.scalars(as: Float.self)[0..<(5 * 784)]))
        for v in a.scalars(as: Float.self) { XCTAssertTrue(v >= 0 && v <= 1 + 1e-6) }
    }

    func testParametersStayInsideTheImage() {
        let aug = SimCLRAugmentation()
        for s in 0..<200 {
            var rng = SplitMix64(seed: UInt64(s))
            let p = aug.parameters(height: 28, width: 20, rng: &rng)
            XCTAssertTrue(p.crop.top >= 0 && p.crop.left >= 0 && p.crop.height >= 1 && p.crop.width >= 1)
            XCTAssertTrue(p.crop.top + p.crop.height <= 28 && p.crop.left + p.crop.width <= 20)
            if let sigma = p.blurSigma { XCTAssertTrue(aug.blurSigma.contains(sigma)) }
        }
    }
}
