import Foundation
import FathomTensor

// Batched, seeded image augmentations on float32 `[B, C, H, W]` tensors, as self-supervised
// methods (SimCLR, BYOL, DINO) apply them to whole batches: random resized crop, horizontal
// flip, colour jitter, random grayscale, Gaussian blur, and a two-view wrapper.
//
// Determinism: every image's random parameters come from its own SplitMix64 stream keyed by
// (seed, image index, view), and images are processed independently, so the result is a pure
// function of (images, seed) — bitwise the same for any thread count or batch split.

/// The region of one image that a resized crop reads: rows `top..<top+height`, columns
/// `left..<left+width`.
public struct CropBox: Sendable, Equatable {
    public var top: Int, left: Int, height: Int, width: Int
    public init(top: Int, left: Int, height: Int, width: Int) {
        self.top = top
        self.left = left
        self.height = height
        self.width = width
    }
}

/// The random draws of one augmented view of one image.
public struct ViewParameters: Sendable, Equatable {
    public var crop: CropBox
    public var flip: Bool
    /// Jitter factors (1 = unchanged) and hue shift (turns); `nil` when jitter was not drawn.
    public var brightness: Float?, contrast: Float?, saturation: Float?, hue: Float?
    /// Order of the four jitter operations (brightness, contrast, saturation, hue).
    public var jitterOrder: [Int]
    public var grayscale: Bool
    /// Blur standard deviation in pixels; `nil` for no blur.
    public var blurSigma: Double?
}

/// SimCLR's augmentation pipeline (Chen et al. 2020, appendix A) for small images:
/// random resized crop → horizontal flip → colour jitter (with probability) → random
/// grayscale → Gaussian blur (with probability). Saturation, hue and grayscale only act on
/// three-channel images; values are clamped to [0, 1] after jitter, as torchvision does.
public struct SimCLRAugmentation: Sendable {
    /// Area fraction of the crop (SimCLR's 0.08…1 is too aggressive for 28×28 images).
    public var cropScale: ClosedRange<Double> = 0.2...1
    /// Aspect ratio range of the crop, drawn log-uniformly.
    public var cropRatio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3)
    public var flipProbability = 0.5
    /// Probability of applying colour jitter at all (SimCLR: 0.8).
    public var jitterProbability = 0.8
    /// Jitter strengths: factors drawn uniformly in [max(0, 1−s), 1+s]; hue shift in [−h, h] turns.
    public var brightness = 0.4, contrast = 0.4, saturation = 0.4, hue = 0.1
    /// Probability of converting a three-channel image to gray (SimCLR: 0.2).
    public var grayscaleProbability = 0.2
    /// Probability of blurring, and the range of σ in pixels (SimCLR: 0.5, 0.1…2).
    public var blurProbability = 0.5
    public var blurSigma: ClosedRange<Double> = 0.1...2.0

    public init() {}

    /// No augmentation at all (identity crop, no flip, jitter or blur): for tests and evaluation.
    public static var none: SimCLRAugmentation {
        var a = SimCLRAugmentation()
        a.cropScale = 1...1
        a.cropRatio = 1...1
        a.flipProbability = 0
        a.jitterProbability = 0
        a.grayscaleProbability = 0
        a.blurProbability = 0
        return a
    }

    /// Draws the parameters of one view of an `height × width` image, as torchvision's
    /// `RandomResizedCrop.get_params` does (ten attempts, then a central crop).
    public func parameters(height: Int, width: Int, rng: inout SplitMix64) -> ViewParameters {
        let area = Double(height * width)
        var crop: CropBox?
        for _ in 0..<10 {
            let target = area * rng.nextDouble(in: cropScale)
            let aspect = exp(rng.nextDouble(in: log(cropRatio.lowerBound)...log(cropRatio.upperBound)))
            let w = Int((target * aspect).squareRoot().rounded()), h = Int((target / aspect).squareRoot().rounded())
            if w > 0 && h > 0 && w <= width && h <= height {
                crop = CropBox(top: Int(rng.next(below: UInt64(height - h + 1))), left: Int(rng.next(below: UInt64(width - w + 1))),
                               height: h, width: w)
                break
            }
        }
        let side = Swift.min(height, width)
        var p = ViewParameters(crop: crop ?? CropBox(top: (height - side) / 2, left: (width - side) / 2, height: side, width: side),
                               flip: rng.nextDouble() < flipProbability, jitterOrder: [0, 1, 2, 3], grayscale: false)
        if rng.nextDouble() < jitterProbability {
            func factor(_ s: Double) -> Float? { s > 0 ? Float(rng.nextDouble(in: Swift.max(0, 1 - s)...(1 + s))) : nil }
            p.brightness = factor(brightness)
            p.contrast = factor(contrast)
            p.saturation = factor(saturation)
            p.hue = hue > 0 ? Float(rng.nextDouble(in: -hue...hue)) : nil
            for i in stride(from: 3, to: 0, by: -1) { p.jitterOrder.swapAt(i, Int(rng.next(below: UInt64(i + 1)))) }
        }
        p.grayscale = rng.nextDouble() < grayscaleProbability
        if rng.nextDouble() < blurProbability { p.blurSigma = rng.nextDouble(in: blurSigma) }
        return p
    }

    /// One augmented view of every image in `images` (float32 `[B, C, H, W]`, values in
    /// [0, 1]); image i uses stream `(seed, i · streams + stream)`, so views with different
    /// `stream` values are independent.
    public func callAsFunction(_ images: Tensor, seed: UInt64, stream: Int = 0, streams: Int = 1) -> Tensor {
        let (b, c, h, w) = checkImages(images, op: "SimCLRAugmentation")
        let params = (0..<b).map { i -> ViewParameters in
            var rng = SplitMix64(seed: seed, stream: UInt64(i * streams + stream))
            return parameters(height: h, width: w, rng: &rng)
        }
        return Augment.apply(images.contiguous(), channels: c, height: h, width: w, params: params)
    }
}

/// Two independently augmented views of a batch, the input of SimCLR-style contrastive
/// losses (`ntXentLoss(view1, view2)`).
public struct TwoViewAugmentation: Sendable {
    public var augmentation: SimCLRAugmentation
    public init(_ augmentation: SimCLRAugmentation = SimCLRAugmentation()) { self.augmentation = augmentation }

    /// Views 1 and 2 of every image; a pure function of (images, seed). Use a new seed per
    /// step (e.g. `seed ^ step`-derived) so each step sees fresh augmentations.
    public func callAsFunction(_ images: Tensor, seed: UInt64) -> (Tensor, Tensor) {
        (augmentation(images, seed: seed, stream: 0, streams: 2), augmentation(images, seed: seed, stream: 1, streams: 2))
    }
}

private func checkImages(_ images: Tensor, op: String) -> (Int, Int, Int, Int) {
    guard images.rank == 4, images.dtype == .float32 else {
        fatalError(TensorError(op: op, "expected float32 images [B, C, H, W], got \(images.dtype) of shape \(images.shape); convert with .to(.float32) / reshape first").description)
    }
    return (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
}

/// Batched augmentation kernels on float32 `[B, C, H, W]` tensors (no autograd: augmentation
/// happens before the model). Each returns a new contiguous tensor.
public enum Augment {
    /// Crops `boxes[i]` out of image i and resizes it bilinearly back to H×W (pixel centres
    /// aligned, `align_corners=False`, as torchvision). The full-image box reproduces the input.
    public static func resizedCrop(_ images: Tensor, boxes: [CropBox]) -> Tensor {
        let (b, c, h, w) = checkImages(images, op: "Augment.resizedCrop")
        precondition(boxes.count == b, "Fathom.Augment.resizedCrop: \(boxes.count) boxes for \(b) images")
        let base = identity(height: h, width: w)
        return apply(images.contiguous(), channels: c, height: h, width: w, params: boxes.map { var p = base; p.crop = $0; return p })
    }

    /// Mirrors left–right the images whose `mask` entry is true.
    public static func horizontalFlip(_ images: Tensor, mask: [Bool]? = nil) -> Tensor {
        let (b, c, h, w) = checkImages(images, op: "Augment.horizontalFlip")
        let base = identity(height: h, width: w)
        let flags = mask ?? Array(repeating: true, count: b)
        precondition(flags.count == b, "Fathom.Augment.horizontalFlip: mask of \(flags.count) for \(b) images")
        return apply(images.contiguous(), channels: c, height: h, width: w, params: flags.map { var p = base; p.flip = $0; return p })
    }

    /// Separable Gaussian blur of every channel with standard deviation `sigma` pixels,
    /// kernel radius ⌈3σ⌉ (capped below the image size), reflect padding as torchvision.
    public static func gaussianBlur(_ images: Tensor, sigma: Double) -> Tensor {
        let (b, c, h, w) = checkImages(images, op: "Augment.gaussianBlur")
        precondition(sigma > 0, "Fathom.Augment.gaussianBlur: sigma must be positive, got \(sigma)")
        var base = identity(height: h, width: w)
        base.blurSigma = sigma
        return apply(images.contiguous(), channels: c, height: h, width: w, params: Array(repeating: base, count: b))
    }

    /// Brightness, contrast (and for C = 3 saturation and hue) with one factor per image.
    public static func colorJitter(_ images: Tensor, brightness: [Float]? = nil, contrast: [Float]? = nil,
                                   saturation: [Float]? = nil, hue: [Float]? = nil) -> Tensor {
        let (b, c, h, w) = checkImages(images, op: "Augment.colorJitter")
        let base = identity(height: h, width: w)
        let params = (0..<b).map { i -> ViewParameters in
            var p = base
            p.brightness = brightness?[i]
            p.contrast = contrast?[i]
            p.saturation = saturation?[i]
            p.hue = hue?[i]
            return p
        }
        return apply(images.contiguous(), channels: c, height: h, width: w, params: params)
    }

    /// Parameters that leave an image unchanged.
    static func identity(height: Int, width: Int) -> ViewParameters {
        ViewParameters(crop: CropBox(top: 0, left: 0, height: height, width: width), flip: false,
                       jitterOrder: [0, 1, 2, 3], grayscale: false)
    }

    /// Applies `params[i]` to image i, images in parallel (each image's work is independent,
    /// so the result does not depend on the thread count).
    static func apply(_ images: Tensor, channels c: Int, height h: Int, width w: Int, params: [ViewParameters]) -> Tensor {
        let b = params.count, size = c * h * w
        let out = Tensor.zeros([b, c, h, w], dtype: .float32)
        images.withUnsafeBufferPointer(as: Float.self) { source in
            out.withUnsafeMutableBufferPointer(as: Float.self) { destination in
                let src = source.baseAddress!, dst = destination.baseAddress!
                let grain = Swift.max(1, ThreadPool.minParallelElements / Swift.max(size, 1))
                ThreadPool.shared.parallelFor(b, grain: grain) { range in
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size + Swift.max(h, w))
                    defer { scratch.deallocate() }
                    for i in range {
                        augmentOne(src + i * size, dst + i * size, scratch: scratch, c: c, h: h, w: w, params[i])
                    }
                }
            }
        }
        return out
    }

    /// One image through the pipeline: crop+resize+flip into `dst`, then jitter, gray, blur in place.
    private static func augmentOne(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                   c: Int, h: Int, w: Int, _ p: ViewParameters) {
        let box = p.crop, plane = h * w
        // Bilinear resize of the box to h × w; the flip is folded into the destination column.
        for y in 0..<h {
            let sy = Swift.min(Swift.max((Double(y) + 0.5) * Double(box.height) / Double(h) - 0.5, 0), Double(box.height - 1))
            let y0 = Int(sy), y1 = Swift.min(y0 + 1, box.height - 1), fy = Float(sy - Double(y0))
            for x in 0..<w {
                let sx = Swift.min(Swift.max((Double(x) + 0.5) * Double(box.width) / Double(w) - 0.5, 0), Double(box.width - 1))
                let x0 = Int(sx), x1 = Swift.min(x0 + 1, box.width - 1), fx = Float(sx - Double(x0))
                let r0 = (box.top + y0) * w + box.left, r1 = (box.top + y1) * w + box.left
                let column = p.flip ? w - 1 - x : x
                for ch in 0..<c {
                    let s = src + ch * plane
                    let top = s[r0 + x0] * (1 - fx) + s[r0 + x1] * fx
                    let bottom = s[r1 + x0] * (1 - fx) + s[r1 + x1] * fx
                    dst[ch * plane + y * w + column] = top * (1 - fy) + bottom * fy
                }
            }
        }
        let total = c * plane
        func clamp() { for i in 0..<total { dst[i] = Swift.min(1, Swift.max(0, dst[i])) } }
        // Luma (ITU-R 601, as torchvision's rgb_to_grayscale), into scratch.
        func gray() {
            if c == 3 {
                for i in 0..<plane { scratch[i] = 0.299 * dst[i] + 0.587 * dst[i + plane] + 0.114 * dst[i + 2 * plane] }
            } else {
                for i in 0..<plane { scratch[i] = dst[i] }
            }
        }
        for op in p.jitterOrder {
            switch op {
            case 0:
                guard let f = p.brightness else { continue }
                for i in 0..<total { dst[i] *= f }
                clamp()
            case 1:
                guard let f = p.contrast else { continue }
                gray()
                var sum: Float = 0
                for i in 0..<plane { sum += scratch[i] }
                let mean = sum / Float(plane)
                for i in 0..<total { dst[i] = (dst[i] - mean) * f + mean }
                clamp()
            case 2:
                guard let f = p.saturation, c == 3 else { continue }
                gray()
                for ch in 0..<3 { for i in 0..<plane { dst[ch * plane + i] = (dst[ch * plane + i] - scratch[i]) * f + scratch[i] } }
                clamp()
            default:
                guard let turns = p.hue, c == 3 else { continue }
                // Hue shift as a rotation of the chroma plane in YIQ space (an approximation of
                // torchvision's HSV shift that keeps luma fixed and needs no branches).
                let angle = 2 * Float.pi * turns, cs = cos(angle), sn = sin(angle)
                for i in 0..<plane {
                    let r = dst[i], g = dst[i + plane], bl = dst[i + 2 * plane]
                    let yy = 0.299 * r + 0.587 * g + 0.114 * bl
                    let ii = 0.596 * r - 0.274 * g - 0.322 * bl
                    let qq = 0.211 * r - 0.523 * g + 0.312 * bl
                    let i2 = cs * ii - sn * qq, q2 = sn * ii + cs * qq
                    dst[i] = yy + 0.956 * i2 + 0.621 * q2
                    dst[i + plane] = yy - 0.272 * i2 - 0.647 * q2
                    dst[i + 2 * plane] = yy - 1.106 * i2 + 1.703 * q2
                }
                clamp()
            }
        }
        if p.grayscale && c == 3 {
            gray()
            for ch in 0..<3 { for i in 0..<plane { dst[ch * plane + i] = scratch[i] } }
        }
        if let sigma = p.blurSigma { blur(dst, scratch: scratch, c: c, h: h, w: w, sigma: sigma) }
    }

    /// Separable Gaussian blur in place, reflect padding (`d c b | a b c d | c b a`).
    private static func blur(_ image: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, c: Int, h: Int, w: Int, sigma: Double) {
        let radius = Swift.max(0, Swift.min(Int((3 * sigma).rounded(.up)), Swift.min(h, w) - 1))
        guard radius > 0 else { return }
        var weights = (-radius...radius).map { Float(Foundation.exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let norm = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= norm }
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        let plane = h * w
        let line = scratch + plane  // a copy of one row or column
        for ch in 0..<c {
            let img = image + ch * plane
            for y in 0..<h {
                let row = img + y * w
                for x in 0..<w { line[x] = row[x] }
                for x in 0..<w {
                    var s: Float = 0
                    for k in -radius...radius { s += weights[k + radius] * line[reflect(x + k, w)] }
                    row[x] = s
                }
            }
            for x in 0..<w {
                for y in 0..<h { line[y] = img[y * w + x] }
                for y in 0..<h {
                    var s: Float = 0
                    for k in -radius...radius { s += weights[k + radius] * line[reflect(y + k, h)] }
                    img[y * w + x] = s
                }
            }
        }
    }
}
