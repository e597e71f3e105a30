import Foundation
import FathomTensor

/// A dSprites-style procedural dataset with known generative factors, for disentanglement
/// studies: one white shape on black, every image a pure function of five integer factors
/// `(shape, scale, rotation, x, y)`, laid out on a grid like dSprites (Matthey et al. 2017,
/// 3×6×40×32×32 at 64×64) but smaller and configurable. The dataset is the full Cartesian
/// product; `enumerateAll()` renders it exhaustively (factors exactly independent, which
/// MIG's estimate relies on), `sample(count:seed:)` draws factor tuples uniformly.
public struct ShapesFactors: Sendable {
    /// The three shapes (dSprites draws square, ellipse and heart; a triangle stands in
    /// for the heart). The shape factor's index `i` means `kinds[i]`.
    public static let kinds: [ShapeKind] = [.square, .ellipse, .triangle]
    /// The factor names, in the column order of `factors` arrays.
    public static let factorNames = ["shape", "scale", "rotation", "x", "y"]

    public let imageSize: Int
    public let scaleCount: Int, rotationCount: Int, positionCount: Int

    /// - Parameters:
    ///   - imageSize: side of the square images in pixels (≥ 16).
    ///   - scaleCount: scale values, evenly spaced from 0.5 to 1 of the largest size.
    ///   - rotationCount: angles 2π·r/rotationCount for r in 0..<rotationCount.
    ///   - positionCount: positions along x and along y, evenly spaced so that every shape
    ///     stays inside the image.
    public init(imageSize: Int = 32, scaleCount: Int = 4, rotationCount: Int = 8, positionCount: Int = 8) {
        precondition(imageSize >= 16, "Fathom.ShapesFactors: imageSize must be at least 16, got \(imageSize)")
        precondition(scaleCount >= 1 && rotationCount >= 1 && positionCount >= 1,
                     "Fathom.ShapesFactors: every factor needs at least one value, got scales \(scaleCount), "
                     + "rotations \(rotationCount), positions \(positionCount)")
        self.imageSize = imageSize
        self.scaleCount = scaleCount
        self.rotationCount = rotationCount
        self.positionCount = positionCount
    }

    /// Values per factor, `[3, scaleCount, rotationCount, positionCount, positionCount]`.
    public var factorSizes: [Int] { [Self.kinds.count, scaleCount, rotationCount, positionCount, positionCount] }

    /// The number of distinct images (the product of `factorSizes`).
    public var count: Int { factorSizes.reduce(1, *) }

    /// The width of the largest shape, in pixels.
    var largestSize: Double { 0.3 * Double(imageSize) }

    /// The factors of image `index` in row-major order (the last factor, y, varies fastest),
    /// as dSprites orders its images.
    public func factors(at index: Int) -> [Int] {
        precondition(index >= 0 && index < count, "Fathom.ShapesFactors: index \(index) out of range 0..<\(count)")
        var rest = index
        var result = [Int](repeating: 0, count: 5)
        for axis in (0..<5).reversed() {
            result[axis] = rest % factorSizes[axis]
            rest /= factorSizes[axis]
        }
        return result
    }

    /// The index of the image with `factors` (the inverse of `factors(at:)`).
    public func index(of factors: [Int]) -> Int {
        precondition(factors.count == 5, "Fathom.ShapesFactors: need 5 factors (shape, scale, rotation, x, y), got \(factors.count)")
        var index = 0
        for (axis, value) in factors.enumerated() {
            precondition(value >= 0 && value < factorSizes[axis],
                         "Fathom.ShapesFactors: factor \(Self.factorNames[axis]) = \(value) out of range 0..<\(factorSizes[axis])")
            index = index * factorSizes[axis] + value
        }
        return index
    }

    /// The shape drawn for `factors`.
    public func instance(for factors: [Int]) -> ShapeInstance {
        _ = index(of: factors)  // validates
        let kind = Self.kinds[factors[0]]
        let scale = scaleCount == 1 ? 1 : 0.5 + 0.5 * Double(factors[1]) / Double(scaleCount - 1)
        let width = largestSize * scale
        // The ellipse is elongated so that its rotation is visible.
        let height = kind == .ellipse ? width * 0.6 : width
        let angle = 2 * Double.pi * Double(factors[2]) / Double(rotationCount)
        // The margin fits the largest square at any angle (half its diagonal) plus a pixel.
        let margin = largestSize * 0.5 * 2.0.squareRoot() + 1
        func position(_ i: Int) -> Double {
            positionCount == 1 ? Double(imageSize) / 2
                : margin + (Double(imageSize) - 2 * margin) * Double(i) / Double(positionCount - 1)
        }
        return ShapeInstance(kind: kind, centerX: position(factors[3]), centerY: position(factors[4]),
                             width: width, height: height, angle: angle, intensity: 1)
    }

    /// Images `[N, 1, imageSize, imageSize]` (float32 in [0, 1], anti-aliased edges) for
    /// factor tuples `[[shape, scale, rotation, x, y]]`.
    public func images(for factors: [[Int]]) -> Tensor {
        let renderer = ShapeRenderer(size: imageSize)
        let pixels = imageSize * imageSize
        var values = [Float](repeating: 0, count: factors.count * pixels)
        var rng = SplitMix64(seed: 0)  // unused: no noise
        for (row, tuple) in factors.enumerated() {
            let image = renderer.render([instance(for: tuple)], noise: 0, rng: &rng)
            values.replaceSubrange(row * pixels..<(row + 1) * pixels, with: image)
        }
        return Tensor(values, shape: [factors.count, 1, imageSize, imageSize])
    }

    /// Factor tuples as an int64 tensor `[N, 5]`.
    public static func factorTensor(_ factors: [[Int]]) -> Tensor {
        Tensor(factors.flatMap { $0.map(Int64.init) }, shape: [factors.count, 5])
    }

    /// Every image of the grid in index order: images `[count, 1, H, W]`, factors `[count, 5]`.
    public func enumerateAll() -> (images: Tensor, factors: Tensor) {
        let all = (0..<count).map(factors(at:))
        return (images(for: all), Self.factorTensor(all))
    }

    /// `count` images with factors drawn uniformly and independently (with replacement),
    /// a pure function of `seed`.
    public func sample(count: Int, seed: UInt64) -> (images: Tensor, factors: Tensor) {
        precondition(count >= 0, "Fathom.ShapesFactors: sample count must be non-negative, got \(count)")
        var rng = SplitMix64(seed: seed)
        let drawn = (0..<count).map { _ in factorSizes.map { Int(rng.next(below: UInt64($0))) } }
        return (images(for: drawn), Self.factorTensor(drawn))
    }
}
