import Foundation
import FathomTensor

/// One part of a re-ID identity: a shape at a fixed place relative to the identity's centre.
public struct ShapesReIDPart: Sendable, Equatable {
    public var kind: ShapeKind
    /// Offset from the identity's centre, in units of the image size (before camera scaling).
    public var offsetX: Double, offsetY: Double
    /// Width and height in units of the image size.
    public var width: Double, height: Double
    /// Rotation relative to the identity's frame, in radians.
    public var angle: Double
    /// Gray level in (0, 1].
    public var intensity: Double
}

/// An identity: a fixed composition of 2–3 shapes (kinds, aspects, intensities and relative
/// layout never change between images of the identity; only the camera conditions do).
public struct ShapesReIDIdentity: Sendable, Equatable {
    public var parts: [ShapesReIDPart]
}

/// A camera: the rendering conditions of its images. Every image draws its pose, scale,
/// offset, contrast and occlusion from these ranges, so two images of one identity differ
/// even under one camera, and the ranges differ between cameras.
public struct ShapesReIDCamera: Sendable, Equatable {
    /// The camera's typical rotation and the jitter around it (radians).
    public var rotation: Double, rotationJitter: Double
    public var scale: ClosedRange<Double>
    /// Largest shift of the identity's centre, in units of the image size.
    public var offset: Double
    /// Foreground gain and background gray level: pixel = background + contrast·(drawn value).
    public var contrast: ClosedRange<Double>
    public var background: Double
    /// Standard deviation of the additive Gaussian noise.
    public var noise: Double
    /// Probability that a random band (a quarter to a third of the image) is blanked out.
    public var occlusion: Double
}

/// A procedural person-re-identification analogue built on `ShapeRenderer`: identities are
/// fixed compositions of shapes, cameras are rendering conditions (pose jitter, scale,
/// offset, contrast, noise, partial occlusion). Everything is a pure function of
/// `(seed, domain, identity, camera, instance)`: no files, deterministic, random access.
///
/// Splits follow Market-1501: identities `0..<trainIdentities` train (every image of every
/// camera); identities `trainIdentities..<trainIdentities + testIdentities` test, with the
/// query holding one image (instance 0) per test identity for each of the first
/// `queryCameras` cameras and the gallery every other test image (all cameras).
///
/// `domain: .target` is a second "dataset" for domain adaptation: other identities (a
/// different appearance stream) seen by cameras with shifted conditions — lower contrast
/// on a gray background, more noise, smaller scale, more occlusion — by `targetShift`.
public struct ShapesReID: Sendable {
    public enum Domain: String, Sendable, CaseIterable { case source, target }

    /// One image: who, which camera, which of that camera's images of them.
    public struct Sample: Sendable, Equatable, Hashable {
        public var identity: Int, camera: Int, instance: Int
        public init(identity: Int, camera: Int, instance: Int) {
            self.identity = identity
            self.camera = camera
            self.instance = instance
        }
    }

    public let seed: UInt64
    public let domain: Domain
    public let imageSize: Int
    public let cameraCount: Int
    public let trainIdentities: Int
    public let testIdentities: Int
    public let imagesPerCamera: Int
    public let queryCameras: Int
    /// How far the target domain's cameras are from the source's (default 0.25), 0 (same condition ranges,
    /// other identities) to 1 (the full shift); ignored for the source domain.
    public let targetShift: Double

    public init(seed: UInt64 = 0, domain: Domain = .source, imageSize: Int = 32, cameraCount: Int = 4,
                trainIdentities: Int = 100, testIdentities: Int = 50, imagesPerCamera: Int = 4, queryCameras: Int = 2, targetShift: Double = 0.25) {
        precondition(imageSize >= 16, "Fathom.ShapesReID: imageSize must be at least 16, got \(imageSize)")
        precondition(cameraCount >= 2 && (1...cameraCount).contains(queryCameras),
                     "Fathom.ShapesReID: need at least 2 cameras and 1 ≤ queryCameras ≤ cameraCount, got \(cameraCount) and \(queryCameras)")
        precondition((0...1).contains(targetShift), "Fathom.ShapesReID: targetShift must lie in [0, 1], got \(targetShift)")
        precondition(trainIdentities >= 1 && testIdentities >= 1 && imagesPerCamera >= 1,
                     "Fathom.ShapesReID: identities and imagesPerCamera must be positive")
        self.seed = seed
        self.domain = domain
        self.imageSize = imageSize
        self.cameraCount = cameraCount
        self.trainIdentities = trainIdentities
        self.testIdentities = testIdentities
        self.imagesPerCamera = imagesPerCamera
        self.queryCameras = queryCameras
        self.targetShift = targetShift
    }

    private var domainSalt: UInt64 { domain == .source ? 0x51D_0001 : 0x7A6_0002 }

    /// The appearance of identity `id` (train and test identities share one stream).
    public func identity(_ id: Int) -> ShapesReIDIdentity {
        var rng = SplitMix64(seed: seed ^ domainSalt, stream: UInt64(id) &* 3 &+ 1)
        let count = 2 + Int(rng.next(below: 2))
        // Parts spread around the centre at distinct angles, so the layout itself is part of
        // the identity; sizes keep the composition inside about 70% of the image.
        let startAngle = rng.nextDouble(in: 0...(2 * Double.pi))
        var parts: [ShapesReIDPart] = []
        for i in 0..<count {
            let kind = ShapeKind(rawValue: Int(rng.next(below: UInt64(ShapeKind.allCases.count))))!
            let major = rng.nextDouble(in: 0.2...0.34)
            let minor = kind.isIsotropic ? major : major * rng.nextDouble(in: 0.4...0.65)
            let direction = startAngle + Double(i) * 2 * Double.pi / Double(count) + rng.nextDouble(in: -0.4...0.4)
            let radius = rng.nextDouble(in: 0.12...0.2)
            parts.append(ShapesReIDPart(kind: kind, offsetX: radius * cos(direction), offsetY: radius * sin(direction),
                                        width: major, height: minor, angle: rng.nextDouble(in: 0...Double.pi),
                                        intensity: rng.nextDouble(in: 0.35...1)))
        }
        return ShapesReIDIdentity(parts: parts)
    }

    /// The rendering conditions of camera `index`. Source cameras: scale 0.9–1.1, contrast
    /// 0.8–1, black background, noise 0.02–0.06, occlusion 15%. The fully shifted target
    /// (`targetShift` 1): scale 0.72–0.85, contrast 0.45–0.6, gray background 0.15–0.3,
    /// noise 0.08–0.14, occlusion 25%, more pose jitter; `targetShift` s interpolates
    /// linearly between the two (each camera keeps its own draw within the ranges).
    public func camera(_ index: Int) -> ShapesReIDCamera {
        var rng = SplitMix64(seed: seed ^ domainSalt, stream: UInt64(index) &* 3 &+ 2)
        let rotation = rng.nextDouble(in: -0.5...0.5)
        let u = (rng.nextDouble(), rng.nextDouble(), rng.nextDouble(), rng.nextDouble())
        let t = domain == .source ? 0 : targetShift
        func lerp(_ a: Double, _ b: Double) -> Double { a + t * (b - a) }
        let s = lerp(0.9 + 0.2 * u.0, 0.72 + 0.13 * u.0)
        let c = lerp(0.8 + 0.2 * u.1, 0.45 + 0.15 * u.1)
        return ShapesReIDCamera(rotation: rotation, rotationJitter: lerp(0.25, 0.35), scale: (s - 0.07)...(s + 0.07),
                                offset: lerp(0.08, 0.1), contrast: (c - lerp(0.1, 0.08))...c,
                                background: lerp(0, 0.15 + 0.15 * u.2), noise: lerp(0.02 + 0.04 * u.3, 0.08 + 0.06 * u.3),
                                occlusion: lerp(0.15, 0.25))
    }

    /// The training images: every camera's images of every training identity, identity-major.
    public var train: [Sample] { samples(identities: 0..<trainIdentities) { _ in true } }

    /// One image (instance 0) per test identity for each of the first `queryCameras` cameras.
    public var query: [Sample] {
        testRange.flatMap { id in (0..<queryCameras).map { Sample(identity: id, camera: $0, instance: 0) } }
    }

    /// Every test image that is not a query.
    public var gallery: [Sample] {
        samples(identities: testRange) { !($0.instance == 0 && $0.camera < queryCameras) }
    }

    private var testRange: Range<Int> { trainIdentities..<(trainIdentities + testIdentities) }

    private func samples(identities: Range<Int>, where keep: (Sample) -> Bool) -> [Sample] {
        var result: [Sample] = []
        for id in identities {
            for camera in 0..<cameraCount {
                for instance in 0..<imagesPerCamera {
                    let sample = Sample(identity: id, camera: camera, instance: instance)
                    if keep(sample) { result.append(sample) }
                }
            }
        }
        return result
    }

    /// The image of `sample`, `imageSize × imageSize` row-major in [0, 1].
    public func render(_ sample: Sample) -> [Float] {
        precondition(sample.camera >= 0 && sample.camera < cameraCount && sample.identity >= 0 && sample.instance >= 0,
                     "Fathom.ShapesReID: sample \(sample) is outside \(cameraCount) cameras")
        let person = identity(sample.identity), cam = camera(sample.camera)
        let stream = (UInt64(sample.identity) << 24) ^ (UInt64(sample.camera) << 16) ^ UInt64(sample.instance)
        var rng = SplitMix64(seed: seed ^ domainSalt ^ 0xC0FFEE, stream: stream)
        let s = Double(imageSize)
        let theta = cam.rotation + rng.nextDouble(in: -cam.rotationJitter...cam.rotationJitter)
        let scale = rng.nextDouble(in: cam.scale) * s
        let cx = s / 2 + rng.nextDouble(in: -cam.offset...cam.offset) * s
        let cy = s / 2 + rng.nextDouble(in: -cam.offset...cam.offset) * s
        let (c, sn) = (cos(theta), sin(theta))
        // The identity's frame rotated by theta (counter-clockwise on screen, as ShapeInstance).
        let shapes = person.parts.map { part in
            ShapeInstance(kind: part.kind,
                          centerX: cx + scale * (c * part.offsetX + sn * part.offsetY),
                          centerY: cy + scale * (-sn * part.offsetX + c * part.offsetY),
                          width: part.width * scale, height: part.height * scale,
                          angle: part.angle + theta, intensity: part.intensity)
        }
        var image = ShapeRenderer(size: imageSize).render(shapes, rng: &rng)
        let contrast = Float(rng.nextDouble(in: cam.contrast)), background = Float(cam.background)
        for i in image.indices { image[i] = background + contrast * image[i] }
        if rng.nextDouble() < cam.occlusion {
            // A horizontal or vertical band set to the background level.
            let width = Int(rng.nextDouble(in: 0.25...0.34) * s)
            let start = Int(rng.next(below: UInt64(imageSize - width + 1)))
            let vertical = rng.next(below: 2) == 1
            for a in start..<(start + width) {
                for b in 0..<imageSize { image[vertical ? b * imageSize + a : a * imageSize + b] = background }
            }
        }
        for i in image.indices { image[i] = min(1, max(0, image[i] + Float(cam.noise * rng.nextGaussian()))) }
        return image
    }

    /// The images of `samples` as a float32 tensor `[n, 1, imageSize, imageSize]`.
    public func images(_ samples: [Sample]) -> Tensor {
        let pixels = imageSize * imageSize
        var values = [Float](repeating: 0, count: samples.count * pixels)
        values.withUnsafeMutableBufferPointer { out in
            // Images are independent; each writes its own slice, so any thread count agrees.
            ThreadPool.shared.parallelFor(samples.count, grain: 16) { range in
                for row in range {
                    let image = render(samples[row])
                    for j in 0..<pixels { out[row * pixels + j] = image[j] }
                }
            }
        }
        return Tensor(values, shape: [samples.count, 1, imageSize, imageSize])
    }
}
