import Foundation
import FathomTensor

/// The geometric shapes the procedural datasets draw.
public enum ShapeKind: Int, CaseIterable, Sendable, CustomStringConvertible {
    case circle, square, triangle, rectangle, ellipse, cross

    // String(describing: self) would call this property again (infinite recursion).
    public var description: String {
        switch self {
        case .circle: "circle"
        case .square: "square"
        case .triangle: "triangle"
        case .rectangle: "rectangle"
        case .ellipse: "ellipse"
        case .cross: "cross"
        }
    }
    /// Shapes whose width and height are always equal.
    var isIsotropic: Bool { self == .circle || self == .square || self == .cross || self == .triangle }
}

/// One drawn object: its kind and its rotated box (centre, size, angle), the ground
/// truth that detection and disentanglement tasks read.
public struct ShapeInstance: Sendable, Equatable {
    public var kind: ShapeKind
    /// Centre in pixels (x right, y down).
    public var centerX: Double, centerY: Double
    /// Full width and height in pixels, before rotation.
    public var width: Double, height: Double
    /// Rotation in radians, counter-clockwise on screen.
    public var angle: Double
    /// Gray level in (0, 1].
    public var intensity: Double

    public init(kind: ShapeKind, centerX: Double, centerY: Double, width: Double, height: Double,
                angle: Double, intensity: Double = 1) {
        self.kind = kind
        self.centerX = centerX
        self.centerY = centerY
        self.width = width
        self.height = height
        self.angle = angle
        self.intensity = intensity
    }

    /// Whether the point (x, y) lies inside the shape.
    func contains(_ x: Double, _ y: Double) -> Bool {
        // Into the shape's frame: undo the rotation, scale to the unit half-size.
        let dx = x - centerX, dy = y - centerY
        let c = cos(angle), s = sin(angle)
        let u = (c * dx - s * dy) / (width / 2)
        let v = (s * dx + c * dy) / (height / 2)
        switch kind {
        case .circle, .ellipse: return u * u + v * v <= 1
        case .square, .rectangle: return abs(u) <= 1 && abs(v) <= 1
        case .triangle: return v <= 1 && v >= -1 && abs(u) <= (v + 1) / 2
        case .cross: return (abs(u) <= 1.0 / 3 && abs(v) <= 1) || (abs(v) <= 1.0 / 3 && abs(u) <= 1)
        }
    }
}

/// Draws shapes into a grayscale image with 4×4 supersampling (anti-aliased edges).
public struct ShapeRenderer: Sendable {
    public let size: Int

    public init(size: Int) {
        precondition(size > 0, "Fathom.ShapeRenderer: size must be positive")
        self.size = size
    }

    /// The image (`size × size`, row-major, values in [0, 1]) with `shapes` drawn over a
    /// black background, later shapes on top, plus Gaussian noise of std `noise` (clamped).
    public func render(_ shapes: [ShapeInstance], noise: Double = 0, rng: inout SplitMix64) -> [Float] {
        var image = [Float](repeating: 0, count: size * size)
        let samples = 4
        for shape in shapes {
            // Only pixels inside the shape's bounding circle can change.
            let reach = 0.5 * (shape.width * shape.width + shape.height * shape.height).squareRoot() + 1
            let x0 = max(0, Int(shape.centerX - reach)), x1 = min(size - 1, Int(shape.centerX + reach))
            let y0 = max(0, Int(shape.centerY - reach)), y1 = min(size - 1, Int(shape.centerY + reach))
            guard x0 <= x1, y0 <= y1 else { continue }
            for py in y0...y1 {
                for px in x0...x1 {
                    var covered = 0
                    for sy in 0..<samples {
                        for sx in 0..<samples {
                            let x = Double(px) + (Double(sx) + 0.5) / Double(samples)
                            let y = Double(py) + (Double(sy) + 0.5) / Double(samples)
                            if shape.contains(x, y) { covered += 1 }
                        }
                    }
                    guard covered > 0 else { continue }
                    let alpha = Float(covered) / Float(samples * samples)
                    let i = py * size + px
                    image[i] = image[i] * (1 - alpha) + alpha * Float(shape.intensity)
                }
            }
        }
        if noise > 0 {
            for i in image.indices {
                image[i] = min(1, max(0, image[i] + Float(noise * rng.nextGaussian())))
            }
        }
        return image
    }
}

/// A procedural classification dataset: one shape per image, labelled by its kind, with
/// random position, scale, rotation, aspect (for rectangles and ellipses), intensity and
/// noise. Example `i` is a pure function of `(seed, i)`: no files, any size, random access.
public struct ShapesDataset: Dataset {
    public let count: Int
    public let seed: UInt64
    public let imageSize: Int
    public let noise: Double
    public var classCount: Int { ShapeKind.allCases.count }

    public init(count: Int, seed: UInt64 = 0, imageSize: Int = 28, noise: Double = 0.05) {
        precondition(count >= 0 && imageSize >= 8, "Fathom.ShapesDataset: need count >= 0 and imageSize >= 8")
        self.count = count
        self.seed = seed
        self.imageSize = imageSize
        self.noise = noise
    }

    /// The shape drawn in example `index`.
    public func instance(at index: Int) -> ShapeInstance {
        var rng = SplitMix64(seed: seed, stream: UInt64(index))
        return Self.randomInstance(imageSize: imageSize, rng: &rng)
    }

    /// A random shape that fits inside an image of `imageSize`.
    public static func randomInstance(imageSize: Int, kind: ShapeKind? = nil, rng: inout SplitMix64) -> ShapeInstance {
        let s = Double(imageSize)
        let kind = kind ?? ShapeKind(rawValue: Int(rng.next(below: UInt64(ShapeKind.allCases.count))))!
        let major = s * rng.nextDouble(in: 0.35...0.7)
        // Anisotropic kinds get a clearly non-square aspect, so the label is well defined.
        let minor = kind.isIsotropic ? major : major * rng.nextDouble(in: 0.35...0.65)
        let radius = 0.5 * (major * major + minor * minor).squareRoot()
        let margin = min(radius, s / 2 - 1)
        return ShapeInstance(kind: kind,
                             centerX: rng.nextDouble(in: margin...(s - margin)),
                             centerY: rng.nextDouble(in: margin...(s - margin)),
                             width: major, height: minor,
                             angle: rng.nextDouble(in: 0...(2 * Double.pi)),
                             intensity: rng.nextDouble(in: 0.6...1))
    }

    public func batch(at indices: [Int]) -> Batch {
        let renderer = ShapeRenderer(size: imageSize)
        let pixels = imageSize * imageSize
        var values = [Float](repeating: 0, count: indices.count * pixels)
        var labels = [Int64](repeating: 0, count: indices.count)
        for (row, index) in indices.enumerated() {
            precondition(index >= 0 && index < count, "Fathom.ShapesDataset: index \(index) out of range 0..<\(count)")
            var rng = SplitMix64(seed: seed, stream: UInt64(index))
            let shape = Self.randomInstance(imageSize: imageSize, rng: &rng)
            let image = renderer.render([shape], noise: noise, rng: &rng)
            values.replaceSubrange(row * pixels..<(row + 1) * pixels, with: image)
            labels[row] = Int64(shape.kind.rawValue)
        }
        return Batch(inputs: Tensor(values, shape: [indices.count, 1, imageSize, imageSize]), labels: Tensor(labels))
    }
}
