import Foundation
import FathomTensor

/// A per-image transform applied to batches, like torchvision's transforms. Random
/// transforms draw from `rng`, which the loader derives from (seed, epoch, example index),
/// so augmentation never depends on batch composition, threads or prefetching.
public protocol Transform: Sendable {
    /// Transforms one image `[channels, height, width]` (row-major) in place or into a new
    /// shape; returns the new `[channels, height, width]`.
    func apply(_ image: inout [Float], shape: [Int], rng: inout SplitMix64) -> [Int]
}

/// Applies transforms in order (`transforms.Compose`).
public struct Compose: Transform {
    public let transforms: [any Transform]
    public init(_ transforms: [any Transform]) { self.transforms = transforms }
    public func apply(_ image: inout [Float], shape: [Int], rng: inout SplitMix64) -> [Int] {
        transforms.reduce(shape) { shape, t in t.apply(&image, shape: shape, rng: &rng) }
    }
}

/// `(x − mean[c]) / std[c]` per channel (`transforms.Normalize`).
public struct Normalize: Transform {
    public let mean: [Float], std: [Float]
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && std.allSatisfy { $0 > 0 }, "Fathom.Normalize: need one positive std per mean")
        self.mean = mean
        self.std = std
    }
    public func apply(_ image: inout [Float], shape: [Int], rng: inout SplitMix64) -> [Int] {
        precondition(shape[0] == mean.count, "Fathom.Normalize: \(mean.count) channel means for an image of \(shape[0]) channels")
        let plane = shape[1] * shape[2]
        for c in 0..<shape[0] {
            let m = mean[c], s = 1 / std[c]
            for i in (c * plane)..<((c + 1) * plane) { image[i] = (image[i] - m) * s }
        }
        return shape
    }
}

/// Pads by `padding` zeros on each side, then crops `size × size` at a random place
/// (`transforms.RandomCrop(size, padding)`).
public struct RandomCrop: Transform {
    public let size: Int, padding: Int
    public init(size: Int, padding: Int = 0) {
        self.size = size
        self.padding = padding
    }
    public func apply(_ image: inout [Float], shape: [Int], rng: inout SplitMix64) -> [Int] {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let paddedH = h + 2 * padding, paddedW = w + 2 * padding
        precondition(size <= paddedH && size <= paddedW, "Fathom.RandomCrop: crop \(size) is larger than the padded image \(paddedH)×\(paddedW)")
        let top = Int(rng.next(below: UInt64(paddedH - size + 1))) - padding
        let left = Int(rng.next(below: UInt64(paddedW - size + 1))) - padding
        var out = [Float](repeating: 0, count: c * size * size)
        for ch in 0..<c {
            for y in 0..<size {
                let sy = top + y
                guard sy >= 0 && sy < h else { continue }
                for x in 0..<size {
                    let sx = left + x
                    if sx >= 0 && sx < w { out[(ch * size + y) * size + x] = image[(ch * h + sy) * w + sx] }
                }
            }
        }
        image = out
        return [c, size, size]
    }
}

/// Mirrors left–right with probability `p` (`transforms.RandomHorizontalFlip`).
public struct RandomHorizontalFlip: Transform {
    public let p: Double
    public init(p: Double = 0.5) { self.p = p }
    public func apply(_ image: inout [Float], shape: [Int], rng: inout SplitMix64) -> [Int] {
        guard rng.nextDouble() < p else { return shape }
        let w = shape[2]
        for row in 0..<(shape[0] * shape[1]) {
            var a = row * w, b = a + w - 1
            while a < b {
                image.swapAt(a, b)
                a += 1
                b -= 1
            }
        }
        return shape
    }
}

/// Crops a random area fraction in `scale` with aspect ratio in `ratio` (log-uniform) and
/// resizes it bilinearly to `size × size` (`transforms.RandomResizedCrop`, with its ten
/// attempts and central-crop fallback).
public struct RandomResizedCrop: Transform {
    public let size: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>
    public init(size: Int, scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3)) {
        self.size = size
        self.scale = scale
        self.ratio = ratio
    }
    public func apply(_ image: inout [Float], shape: [Int], rng: inout SplitMix64) -> [Int] {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let area = Double(h * w)
        var box: (top: Int, left: Int, height: Int, width: Int)?
        for _ in 0..<10 {
            let target = area * rng.nextDouble(in: scale)
            let aspect = exp(rng.nextDouble(in: log(ratio.lowerBound)...log(ratio.upperBound)))
            let cw = Int((target * aspect).squareRoot().rounded()), ch = Int((target / aspect).squareRoot().rounded())
            if cw > 0 && ch > 0 && cw <= w && ch <= h {
                box = (Int(rng.next(below: UInt64(h - ch + 1))), Int(rng.next(below: UInt64(w - cw + 1))), ch, cw)
                break
            }
        }
        let crop = box ?? { () -> (Int, Int, Int, Int) in
            let side = min(h, w)
            return ((h - side) / 2, (w - side) / 2, side, side)
        }()
        var out = [Float](repeating: 0, count: c * size * size)
        for y in 0..<size {
            // Align pixel centres, as bilinear resizing with align_corners=False does.
            let sy = min(max((Double(y) + 0.5) * Double(crop.2) / Double(size) - 0.5, 0), Double(crop.2 - 1))
            let y0 = Int(sy), y1 = min(y0 + 1, crop.2 - 1), fy = Float(sy - Double(y0))
            for x in 0..<size {
                let sx = min(max((Double(x) + 0.5) * Double(crop.3) / Double(size) - 0.5, 0), Double(crop.3 - 1))
                let x0 = Int(sx), x1 = min(x0 + 1, crop.3 - 1), fx = Float(sx - Double(x0))
                for ch in 0..<c {
                    func at(_ yy: Int, _ xx: Int) -> Float { image[(ch * h + crop.0 + yy) * w + crop.1 + xx] }
                    let top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx
                    let bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx
                    out[(ch * size + y) * size + x] = top * (1 - fy) + bottom * fy
                }
            }
        }
        image = out
        return [c, size, size]
    }
}

/// Random brightness, contrast and saturation changes (`transforms.ColorJitter` without
/// hue), in random order, for images in [0, 1]. Saturation needs three channels.
public struct ColorJitter: Transform {
    public let brightness: Double, contrast: Double, saturation: Double
    public init(brightness: Double = 0, contrast: Double = 0, saturation: Double = 0) {
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
    }
    public func apply(_ image: inout [Float], shape: [Int], rng: inout SplitMix64) -> [Int] {
        let plane = shape[1] * shape[2]
        func factor(_ amount: Double) -> Float { Float(rng.nextDouble(in: max(0, 1 - amount)...(1 + amount))) }
        func gray(_ i: Int) -> Float {
            shape[0] == 3 ? 0.299 * image[i] + 0.587 * image[i + plane] + 0.114 * image[i + 2 * plane] : image[i]
        }
        var order = [0, 1, 2]
        for i in stride(from: 2, to: 0, by: -1) { order.swapAt(i, Int(rng.next(below: UInt64(i + 1)))) }
        for op in order {
            switch op {
            case 0 where brightness > 0:
                let f = factor(brightness)
                for i in image.indices { image[i] = min(1, max(0, image[i] * f)) }
            case 1 where contrast > 0:
                let f = factor(contrast)
                let mean = (0..<plane).reduce(Float(0)) { $0 + gray($1) } / Float(plane)
                for i in image.indices { image[i] = min(1, max(0, (image[i] - mean) * f + mean)) }
            case 2 where saturation > 0 && shape[0] == 3:
                let f = factor(saturation)
                for i in 0..<plane {
                    let g = gray(i)
                    for ch in 0..<3 { image[i + ch * plane] = min(1, max(0, (image[i + ch * plane] - g) * f + g)) }
                }
            default: break
            }
        }
        return shape
    }
}

/// A dataset whose images pass through a transform, with randomness keyed by
/// (seed, epoch, example index). The loader selects the epoch with `forEpoch`.
public struct TransformedDataset<Base: Dataset>: Dataset {
    public let base: Base
    public let transform: any Transform
    public let seed: UInt64
    public var epoch: Int = 0

    public init(_ base: Base, transform: any Transform, seed: UInt64 = 0) {
        self.base = base
        self.transform = transform
        self.seed = seed
    }

    public var count: Int { base.count }

    public func forEpoch(_ epoch: Int) -> Self {
        var copy = self
        copy.epoch = epoch
        return copy
    }

    public func batch(at indices: [Int]) -> Batch {
        let raw = base.batch(at: indices)
        let inputs = raw.inputs.contiguous()
        let shape = Array(inputs.shape.dropFirst())
        let size = shape.reduce(1, *)
        var images: [[Float]] = []
        var outShape = shape
        inputs.withUnsafeBufferPointer(as: Float.self) { all in
            for (row, index) in indices.enumerated() {
                var image = Array(all[(row * size)..<((row + 1) * size)])
                var rng = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03), stream: UInt64(index))
                outShape = transform.apply(&image, shape: shape, rng: &rng)
                images.append(image)
            }
        }
        return Batch(inputs: Tensor(images.flatMap { $0 }, shape: [indices.count] + outShape), labels: raw.labels)
    }
}
