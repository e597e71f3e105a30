import Foundation
import FathomTensor

/// One object of a `ShapesDetectionDataset` image: its class and its rotated box in the
/// le90 convention (mmrotate's): `width ≥ height`, and `angle ∈ [−π/2, π/2)` is the
/// direction of the long side, in radians from the x axis towards the y axis (x right,
/// y down: a positive angle turns clockwise on screen). Squares and circles have
/// `width == height`.
public struct ShapesDetectionObject: Sendable, Equatable {
    /// Index into `ShapesDetectionConfig.kinds`.
    public var classIndex: Int
    public var kind: ShapeKind
    public var cx: Double, cy: Double
    public var width: Double, height: Double
    public var angle: Double
    /// `width / height` ≥ 1.
    public var aspectRatio: Double { width / height }
    /// Index of the aspect-ratio bucket (see `ShapesDetectionConfig.aspectBucketEdges`).
    public var aspectBucket: Int
    /// Fraction of the object's pixels not hidden by objects drawn over it.
    public var visibleFraction: Double

    /// The box as `[cx, cy, w, h, θ]`.
    public var box: [Double] { [cx, cy, width, height, angle] }
}

/// What a `ShapesDetectionDataset` draws.
public struct ShapesDetectionConfig: Sendable {
    /// Image side in pixels.
    public var imageSize: Int = 64
    /// How many labelled objects per image (fewer when no free place is found).
    public var objectCount: ClosedRange<Int> = 2...6
    /// The classes, in class-index order. Each kind is drawn with any aspect ratio, so
    /// `.rectangle` includes squares and `.ellipse` includes circles.
    public var kinds: [ShapeKind] = [.rectangle, .ellipse, .triangle, .cross]
    /// Largest aspect ratio (long / short side); ratios are log-uniform in [1, maxAspect].
    public var maxAspect: Double = 8
    /// Probability that an object is exactly square (aspect 1).
    public var squareProbability: Double = 0.2
    /// Long side as a fraction of the image side.
    public var longSide: ClosedRange<Double> = 0.15...0.55
    /// Smallest short side in pixels (thin objects stay visible).
    public var minShortSide: Double = 2.5
    /// Largest fraction of any object that may be hidden by later objects.
    public var maxOccluded: Double = 0.4
    /// Unlabelled small blobs (clutter) per image.
    public var clutterCount: ClosedRange<Int> = 0...4
    /// Standard deviation of the Gaussian pixel noise.
    public var noise: Double = 0.05
    /// Upper edges of the aspect-ratio buckets: with `[1.5, 3, 5]`, bucket 0 is [1, 1.5)
    /// (near-square), 1 is [1.5, 3), 2 is [3, 5) and 3 is 5 and above.
    public var aspectBucketEdges: [Double] = [1.5, 3, 5]

    public init() {}

    public var classCount: Int { kinds.count }
    /// Class names for DOTA files (`rectangle`, `ellipse`, …).
    public var classNames: [String] { kinds.map(\.description) }

    /// The bucket of an aspect ratio.
    public func aspectBucket(_ ratio: Double) -> Int {
        aspectBucketEdges.firstIndex { ratio < $0 } ?? aspectBucketEdges.count
    }
}

/// A procedural oriented-object detection dataset: several rotated shapes per image,
/// classed by kind, with aspect ratios from 1:1 to 1:8 (squares included), partial
/// overlaps, unlabelled clutter and noise. Image `i` is a pure function of `(seed, i)`:
/// deterministic, random access, no files (though `exportDOTA` writes DOTA-style files).
public struct ShapesDetectionDataset: Sendable {
    public let count: Int
    public let seed: UInt64
    public let config: ShapesDetectionConfig

    public init(count: Int, seed: UInt64 = 0, config: ShapesDetectionConfig = ShapesDetectionConfig()) {
        precondition(count >= 0, "Fathom.ShapesDetectionDataset: count must be >= 0, got \(count)")
        precondition(config.imageSize >= 16, "Fathom.ShapesDetectionDataset: imageSize must be >= 16, got \(config.imageSize)")
        precondition(!config.kinds.isEmpty && config.objectCount.lowerBound >= 0,
                     "Fathom.ShapesDetectionDataset: need at least one kind and a non-negative object count")
        precondition(config.maxAspect >= 1 && config.longSide.lowerBound > 0 && config.longSide.upperBound <= 1,
                     "Fathom.ShapesDetectionDataset: need maxAspect >= 1 and longSide within (0, 1]")
        self.count = count
        self.seed = seed
        self.config = config
    }

    public var classCount: Int { config.classCount }

    /// Image `index` (float32 `[1, size, size]` in [0, 1]) and its objects.
    public func sample(at index: Int) -> (image: Tensor, objects: [ShapesDetectionObject]) {
        let (pixels, objects) = generate(index)
        return (Tensor(pixels, shape: [1, config.imageSize, config.imageSize]), objects)
    }

    /// The objects of image `index` (the same as `sample(at: index).objects`).
    public func objects(at index: Int) -> [ShapesDetectionObject] { generate(index).objects }

    /// Images `indices` as one float32 tensor `[batch, 1, size, size]` with their objects.
    public func batch(at indices: [Int]) -> (images: Tensor, objects: [[ShapesDetectionObject]]) {
        let pixels = config.imageSize * config.imageSize
        var values = [Float](repeating: 0, count: indices.count * pixels)
        var objects: [[ShapesDetectionObject]] = []
        for (row, index) in indices.enumerated() {
            let (image, found) = generate(index)
            values.replaceSubrange(row * pixels..<(row + 1) * pixels, with: image)
            objects.append(found)
        }
        return (Tensor(values, shape: [indices.count, 1, config.imageSize, config.imageSize]), objects)
    }

    /// The annotation of image `index` in DOTA form (corners clockwise on screen).
    public func dotaAnnotation(at index: Int) -> DOTAAnnotation {
        dotaAnnotation(objects(at: index))
    }

    func dotaAnnotation(_ objects: [ShapesDetectionObject]) -> DOTAAnnotation {
        DOTAAnnotation(imageSource: "FathomShapes", gsd: nil, objects: objects.map {
            DOTAObject(cx: $0.cx, cy: $0.cy, width: $0.width, height: $0.height, angle: $0.angle,
                       className: config.classNames[$0.classIndex])
        })
    }

    /// Writes images `indices` in the DOTA layout: `directory/images/P0000.png` and
    /// `directory/labelTxt/P0000.txt` (named by index). Returns the image names.
    @discardableResult
    public func exportDOTA(to directory: URL, indices: [Int]) throws -> [String] {
        let images = directory.appendingPathComponent("images"), labels = directory.appendingPathComponent("labelTxt")
        do {
            try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: labels, withIntermediateDirectories: true)
        } catch {
            throw DataError(file: directory.path, "cannot create the export folders: \(error.localizedDescription)")
        }
        var names: [String] = []
        for index in indices {
            let name = "P" + String(repeating: "0", count: Swift.max(0, 4 - String(index).count)) + String(index)
            let (pixels, objects) = generate(index)
            let image = PNGImage(width: config.imageSize, height: config.imageSize, channels: 1,
                                 pixels: pixels.map { UInt8((Swift.min(1, Swift.max(0, $0)) * 255).rounded()) })
            try PNG.write(image, to: images.appendingPathComponent(name + ".png"))
            try DOTA.write(dotaAnnotation(objects), to: labels.appendingPathComponent(name + ".txt"))
            names.append(name)
        }
        return names
    }

    // MARK: Generation

    /// The shape of a detection object (width/height/angle in the renderer's convention).
    private func instance(kind: ShapeKind, cx: Double, cy: Double, long: Double, short: Double, angle: Double,
                          intensity: Double) -> ShapeInstance {
        // The renderer turns counter-clockwise on screen; le90 turns clockwise (y down).
        ShapeInstance(kind: kind, centerX: cx, centerY: cy, width: long, height: short, angle: -angle, intensity: intensity)
    }

    /// Pixel centres inside `shape` (the object's mask, for the occlusion test).
    private func mask(_ shape: ShapeInstance) -> [Int] {
        let size = config.imageSize
        let reach = 0.5 * (shape.width * shape.width + shape.height * shape.height).squareRoot() + 1
        let x0 = Swift.max(0, Int(shape.centerX - reach)), x1 = Swift.min(size - 1, Int(shape.centerX + reach))
        let y0 = Swift.max(0, Int(shape.centerY - reach)), y1 = Swift.min(size - 1, Int(shape.centerY + reach))
        guard x0 <= x1, y0 <= y1 else { return [] }
        var pixels: [Int] = []
        for y in y0...y1 {
            for x in x0...x1 where shape.contains(Double(x) + 0.5, Double(y) + 0.5) { pixels.append(y * size + x) }
        }
        return pixels
    }

    private func generate(_ index: Int) -> (pixels: [Float], objects: [ShapesDetectionObject]) {
        precondition(index >= 0 && index < count, "Fathom.ShapesDetectionDataset: index \(index) out of range 0..<\(count)")
        var rng = SplitMix64(seed: seed, stream: UInt64(index))
        let size = Double(config.imageSize)
        let target = config.objectCount.lowerBound
            + Int(rng.next(below: UInt64(config.objectCount.count)))
        // owner[p]: the topmost object covering pixel p (-1: background).
        var owner = [Int](repeating: -1, count: config.imageSize * config.imageSize)
        var areas: [Int] = [], visible: [Int] = []
        var shapes: [ShapeInstance] = [], objects: [ShapesDetectionObject] = []
        var attempts = 0
        while objects.count < target && attempts < 30 * Swift.max(1, target) {
            attempts += 1
            let classIndex = Int(rng.next(below: UInt64(config.kinds.count)))
            let aspect = rng.nextDouble() < config.squareProbability
                ? 1 : Foundation.exp(rng.nextDouble() * Foundation.log(config.maxAspect))
            let maxLong = config.longSide.upperBound * size
            let minLong = Swift.min(maxLong, Swift.max(config.longSide.lowerBound * size, config.minShortSide * aspect))
            let long = rng.nextDouble(in: minLong...maxLong)
            let short = long / aspect
            // le90: angle of the long side in [−π/2, π/2).
            var angle = rng.nextDouble(in: -Double.pi / 2...Double.pi / 2)
            if angle >= Double.pi / 2 { angle = -Double.pi / 2 }
            // Keep the whole rotated box inside the image.
            let halfX = 0.5 * (abs(long * cos(angle)) + abs(short * sin(angle)))
            let halfY = 0.5 * (abs(long * sin(angle)) + abs(short * cos(angle)))
            guard 2 * halfX < size - 1, 2 * halfY < size - 1 else { continue }
            let cx = rng.nextDouble(in: (halfX + 0.5)...(size - halfX - 0.5))
            let cy = rng.nextDouble(in: (halfY + 0.5)...(size - halfY - 0.5))
            let shape = instance(kind: config.kinds[classIndex], cx: cx, cy: cy, long: long, short: short,
                                 angle: angle, intensity: rng.nextDouble(in: 0.45...1))
            let pixels = mask(shape)
            guard pixels.count >= 4 else { continue }
            // Reject a placement that would hide too much of an earlier object.
            var lost = [Int](repeating: 0, count: objects.count)
            for p in pixels where owner[p] >= 0 { lost[owner[p]] += 1 }
            let tooHidden = lost.indices.contains { Double(visible[$0] - lost[$0]) < (1 - config.maxOccluded) * Double(areas[$0]) }
            if tooHidden { continue }
            for p in pixels { owner[p] = objects.count }
            for i in lost.indices { visible[i] -= lost[i] }
            areas.append(pixels.count)
            visible.append(pixels.count)
            shapes.append(shape)
            let ratio = long / short
            objects.append(ShapesDetectionObject(classIndex: classIndex, kind: config.kinds[classIndex], cx: cx, cy: cy,
                                                 width: long, height: short, angle: angle,
                                                 aspectBucket: config.aspectBucket(ratio), visibleFraction: 1))
        }
        for i in objects.indices { objects[i].visibleFraction = Double(visible[i]) / Double(areas[i]) }
        // Clutter goes under the objects so that it never hides them.
        var clutter: [ShapeInstance] = []
        let clutterCount = config.clutterCount.lowerBound + Int(rng.next(below: UInt64(config.clutterCount.count)))
        for _ in 0..<clutterCount {
            let d = rng.nextDouble(in: 1.2...2.5)
            clutter.append(ShapeInstance(kind: .circle, centerX: rng.nextDouble(in: 1...(size - 1)),
                                         centerY: rng.nextDouble(in: 1...(size - 1)), width: d, height: d * rng.nextDouble(in: 0.5...1),
                                         angle: rng.nextDouble(in: 0...Double.pi), intensity: rng.nextDouble(in: 0.2...0.6)))
        }
        let pixels = ShapeRenderer(size: config.imageSize).render(clutter + shapes, noise: config.noise, rng: &rng)
        return (pixels, objects)
    }
}
