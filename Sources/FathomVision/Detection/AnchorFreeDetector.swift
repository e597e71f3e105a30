// A compact anchor-free one-stage detector (DAMO-YOLO / GiraffeDet family, scaled down for
// 64×64 grayscale images on a CPU): RepVGG backbone → PAFPN or RepGFPN neck → decoupled
// per-level head. One prior point per feature-map cell, (cx, cy) = ((j + ½)·s, (i + ½)·s).
//
// Box decoding (in image pixels):
// - horizontal: (l, t, r, b) = exp(clamp(raw, ±10))·s, box = (cx − l, cy − t, cx + r, cy + b);
// - rotated (le90): centre = prior + (dx, dy)·s, (w, h) = exp(clamp(raw, ±10))·s,
//   θ = π·(sigmoid(clamp(raw_θ, ±15)) − ½) ∈ (−π/2, π/2): bounded, smooth, the le90 angle range. w ≥ h is
//   not forced during training (Gaussian / KLD losses are invariant to swapping w and h with
//   a quarter turn); `predict` regularises its detections to le90.

import Foundation
import FathomNN
import FathomTensor

/// The detector's architecture.
public struct DetectorConfig: Sendable, Equatable {
    /// Which neck fuses the backbone's maps.
    public enum NeckKind: String, Sendable, CaseIterable {
        /// FPN top-down + PAN bottom-up (`PAFPNNeck`).
        case fpn
        /// RepGFPN with queen fusion (`GFPNNeck`).
        case gfpn
    }

    public var inputChannels: Int = 1
    public var classCount: Int
    /// Rotated boxes (cx, cy, w, h, θ le90) instead of horizontal xyxy.
    public var rotated: Bool
    public var neck: NeckKind
    /// `[stem, stage1, …]`; the last three stages feed the neck (see `DetectorBackbone`).
    public var backboneWidths: [Int]
    /// Stride-1 RepConvs per backbone stage.
    public var backboneDepths: [Int]
    /// The neck's output widths per level.
    public var neckWidths: [Int]
    /// RepConvs per neck fusion node.
    public var neckDepth: Int
    /// Conv-BN-act blocks per head branch (0: ZeroHead).
    public var headDepth: Int = 0
    /// Adds a quality (IoU / centerness) logit per prior.
    public var quality: Bool = false
    public var activation: DetectorActivation = .relu

    public init(classCount: Int, rotated: Bool, neck: NeckKind, backboneWidths: [Int], backboneDepths: [Int],
                neckWidths: [Int], neckDepth: Int, headDepth: Int = 0, quality: Bool = false,
                inputChannels: Int = 1, activation: DetectorActivation = .relu) {
        self.classCount = classCount
        self.rotated = rotated
        self.neck = neck
        self.backboneWidths = backboneWidths
        self.backboneDepths = backboneDepths
        self.neckWidths = neckWidths
        self.neckDepth = neckDepth
        self.headDepth = headDepth
        self.quality = quality
        self.inputChannels = inputChannels
        self.activation = activation
    }

    /// GiraffeDet's paradigm: a light backbone and a heavy RepGFPN neck (strides 4/8/16).
    /// About the same multiply-adds as `heavyBackbone` at 64×64 (see `multiplyAdds`).
    public static func heavyNeck(classCount: Int, rotated: Bool = true) -> DetectorConfig {
        DetectorConfig(classCount: classCount, rotated: rotated, neck: .gfpn,
                       backboneWidths: [8, 16, 24, 32], backboneDepths: [0, 1, 1],
                       neckWidths: [16, 24, 40], neckDepth: 2)
    }

    /// The conventional paradigm: a heavier backbone and a light PAFPN neck (strides 4/8/16).
    public static func heavyBackbone(classCount: Int, rotated: Bool = true) -> DetectorConfig {
        DetectorConfig(classCount: classCount, rotated: rotated, neck: .fpn,
                       backboneWidths: [8, 16, 32, 48], backboneDepths: [0, 1, 2],
                       neckWidths: [16, 24, 32], neckDepth: 1)
    }
}

/// The raw and decoded predictions for every prior of every image.
public struct DetectorOutput {
    /// Class logits `[B, P, classCount]` (apply sigmoid for scores).
    public let classLogits: Tensor
    /// Decoded boxes in image pixels: `[B, P, 4]` xyxy, or `[B, P, 5]` (cx, cy, w, h, θ).
    public let boxes: Tensor
    /// Undecoded regression `[B, P, 4 or 5]` (what `AnchorFreeDetector.decode` maps to boxes).
    public let regression: Tensor
    /// Quality logits `[B, P]` when the config asks for them.
    public let quality: Tensor?
}

/// Backbone + neck + head, with prior points, decoding, post-processing and re-parameterisation.
public final class AnchorFreeDetector: Module {
    public let config: DetectorConfig
    public let backbone: DetectorBackbone
    public let neck: DetectorNeck
    public let head: DetectorHead
    private var priorCache: [String: Tensor] = [:]

    /// - Parameter seed: makes the initial weights reproducible.
    public init(_ config: DetectorConfig, seed: UInt64? = nil) {
        precondition(config.classCount > 0, "Fathom.AnchorFreeDetector: classCount must be positive, got \(config.classCount)")
        let g = seed.map { Generator(seed: $0) }
        self.config = config
        backbone = DetectorBackbone(inputChannels: config.inputChannels, widths: config.backboneWidths,
                                    depths: config.backboneDepths, activation: config.activation, generator: g)
        switch config.neck {
        case .fpn:
            neck = PAFPNNeck(inChannels: backbone.outChannels, widths: config.neckWidths, depth: config.neckDepth,
                             activation: config.activation, generator: g)
        case .gfpn:
            neck = GFPNNeck(inChannels: backbone.outChannels, widths: config.neckWidths, depth: config.neckDepth,
                            activation: config.activation, generator: g)
        }
        head = DetectorHead(inChannels: config.neckWidths, classCount: config.classCount, rotated: config.rotated,
                            depth: config.headDepth, quality: config.quality, activation: config.activation, generator: g)
        super.init()
    }

    /// The strides of the three levels.
    public var strides: [Int] { backbone.outStrides }

    /// Prior points per level for an input of `height × width`, in level order.
    public func priorCounts(height: Int, width: Int) -> [Int] {
        strides.map { (height / $0) * (width / $0) }
    }

    /// The prior points `[P, 3]` float32 (cx, cy, stride) for an input of `height × width`:
    /// levels fine to coarse, each row-major — the order of `DetectorOutput`'s P axis.
    public func priors(height: Int, width: Int) -> Tensor {
        checkInputSize(height: height, width: width)
        let key = "\(height)x\(width)"
        if let cached = priorCache[key] { return cached }
        var values: [Float] = []
        for s in strides {
            for i in 0..<(height / s) {
                for j in 0..<(width / s) {
                    values += [(Float(j) + 0.5) * Float(s), (Float(i) + 0.5) * Float(s), Float(s)]
                }
            }
        }
        let priors = Tensor(values, shape: [values.count / 3, 3])
        priorCache[key] = priors
        return priors
    }

    /// Square-input shorthand for `priors(height:width:)`.
    public func priors(inputSize: Int) -> Tensor { priors(height: inputSize, width: inputSize) }

    private func checkInputSize(height: Int, width: Int) {
        let s = strides.last!
        guard height > 0, width > 0, height % s == 0, width % s == 0 else {
            fatalError(TensorError(op: "AnchorFreeDetector", "input size \(height)×\(width) must be a positive multiple of the coarsest stride \(s) (the neck upsamples by exact factors of 2)").description)
        }
    }

    /// Maps raw regression `[B, P, 4 or 5]` to boxes in pixels with `priors` `[P, 3]` (see the
    /// file comment for the parameterisation). Differentiable.
    public static func decode(_ regression: Tensor, priors: Tensor, rotated: Bool) -> Tensor {
        let centre = priors[.all, 0..<2], stride = priors[.all, 2..<3]
        if rotated {
            let parts = regression.split([2, 2, 1], axis: -1)
            let xy = centre + parts[0] * stride
            let wh = parts[1].clamp(min: -10, max: 10).exp() * stride
            // Clamped so that float32 rounding cannot reach ±π/2 exactly.
            let theta = (parts[2].clamp(min: -15, max: 15).sigmoid() - 0.5) * Double.pi
            return Tensor.cat([xy, wh, theta], axis: -1)
        }
        let distances = regression.clamp(min: -10, max: 10).exp() * stride
        let halves = distances.split(2, axis: -1)
        return Tensor.cat([centre - halves[0], centre + halves[1]], axis: -1)
    }

    /// `[B, K, H, W]` → `[B, H·W, K]`.
    private func flattenLevel(_ x: Tensor) -> Tensor {
        let (b, k, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return x.permuted([0, 2, 3, 1]).reshaped([b, h * w, k])
    }

    /// Runs the network on `[B, inputChannels, H, W]` images (H, W multiples of the coarsest
    /// stride) and decodes every prior's box.
    public func callAsFunction(_ images: Tensor) -> DetectorOutput {
        guard images.rank == 4, images.shape[1] == config.inputChannels else {
            fatalError(TensorError(op: "AnchorFreeDetector", "images have shape \(images.shape); expected [B, \(config.inputChannels), H, W]").description)
        }
        let priors = self.priors(height: images.shape[2], width: images.shape[3])
        let levels = head(neck(backbone(images)))
        let logits = Tensor.cat(levels.map { flattenLevel($0.classLogits) }, axis: 1)
        let regression = Tensor.cat(levels.map { flattenLevel($0.regression) }, axis: 1)
        let quality = config.quality
            ? Tensor.cat(levels.map { flattenLevel($0.quality!) }, axis: 1).squeezed(axis: -1) : nil
        return DetectorOutput(classLogits: logits, boxes: Self.decode(regression, priors: priors, rotated: config.rotated),
                              regression: regression, quality: quality)
    }

    /// Detections per image: score = sigmoid(class logit) (× sigmoid(quality) when present);
    /// every (prior, class) pair above `scoreThreshold` is a candidate (the best
    /// `preNMSTopK` by score), then class-aware NMS (`batchedNMS` / `batchedRotatedNMS`) keeps
    /// at most `maxDetections`. Rotated boxes come back in le90 form. Runs in evaluation mode
    /// without recording gradients, restoring the previous mode afterwards. `Detection.image`
    /// is `imageOffset + b`.
    public func predict(_ images: Tensor, scoreThreshold: Double = 0.05, iouThreshold: Double = 0.5,
                        maxDetections: Int = 100, preNMSTopK: Int = 1000, imageOffset: Int = 0) -> [[Detection<[Double]>]] {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        let output = noGrad { self(images) }
        var scores = noGrad { output.classLogits.sigmoid() }
        if let q = output.quality { scores = noGrad { scores * q.sigmoid().unsqueezed(axis: -1) } }
        let (b, p, c) = (scores.shape[0], scores.shape[1], scores.shape[2])
        let width = config.rotated ? 5 : 4
        let allScores = scores.contiguous().doubles, allBoxes = output.boxes.contiguous().doubles
        var results: [[Detection<[Double]>]] = []
        for image in 0..<b {
            var candidates: [(prior: Int, cls: Int, score: Double)] = []
            for prior in 0..<p {
                for cls in 0..<c {
                    let s = allScores[(image * p + prior) * c + cls]
                    if s > scoreThreshold { candidates.append((prior, cls, s)) }
                }
            }
            candidates.sort { $0.score != $1.score ? $0.score > $1.score : ($0.prior, $0.cls) < ($1.prior, $1.cls) }
            if candidates.count > preNMSTopK { candidates.removeLast(candidates.count - preNMSTopK) }
            guard !candidates.isEmpty else { results.append([]); continue }
            var boxes: [Double] = []
            for cand in candidates {
                let start = (image * p + cand.prior) * width
                var box = Array(allBoxes[start..<(start + width)])
                if config.rotated {
                    let r = regularizeRotatedBox(w: box[2], h: box[3], theta: box[4], .le90)
                    box[2] = r.w; box[3] = r.h; box[4] = r.theta
                }
                boxes += box
            }
            let boxTensor = Tensor(boxes, shape: [candidates.count, width])
            let scoreTensor = Tensor(candidates.map(\.score), shape: [candidates.count])
            let classTensor = Tensor(candidates.map { Int64($0.cls) }, shape: [candidates.count])
            let keep = config.rotated
                ? batchedRotatedNMS(boxTensor, scores: scoreTensor, classes: classTensor, iouThreshold: iouThreshold, maxOutput: maxDetections)
                : batchedNMS(boxTensor, scores: scoreTensor, classes: classTensor, iouThreshold: iouThreshold, maxOutput: maxDetections)
            results.append(keep.scalars(as: Int64.self).map { k in
                let i = Int(k)
                return Detection(image: imageOffset + image, classIndex: candidates[i].cls,
                                 box: Array(boxes[(i * width)..<((i + 1) * width)]), score: candidates[i].score)
            })
        }
        return results
    }

    /// Folds every `RepConv` into its single-convolution inference form (RepVGG). Outputs in
    /// evaluation mode are unchanged; the state-dict keys change (`…fused.weight`), and the
    /// model should not be trained further (its RepConvs no longer have batch norm).
    public func reparameterize() {
        for (_, module) in namedModules() { (module as? RepConv)?.fuse() }
    }

    /// Multiply-accumulates of every convolution for one `inputSize × inputSize` image, in the
    /// current form (training form counts every RepConv branch; after `reparameterize()` the
    /// fused 3×3 only). Each conv contributes outH·outW·(out·in/groups·kH·kW); the output
    /// sizes are read from a batch-1 dry run in evaluation mode (no gradients, no statistics
    /// updated). Upsampling, concatenation, BN and activations are not counted.
    public func multiplyAdds(inputSize: Int) -> Int {
        let parts = multiplyAddsByPart(inputSize: inputSize)
        return parts.backbone + parts.neck + parts.head
    }

    /// `multiplyAdds(inputSize:)` split into backbone, neck and head.
    public func multiplyAddsByPart(inputSize: Int) -> (backbone: Int, neck: Int, head: Int) {
        var counts: [String: Int] = [:]
        var hooks: [(Layer, Int)] = []
        for (name, module) in namedModules() {
            guard let conv = module as? Conv2d else { continue }
            let part = String(name.prefix { $0 != "." })
            let handle = conv.addForwardHook { layer, _, output in
                let weight = (layer as! Conv2d).weight
                counts[part, default: 0] += output.shape[2] * output.shape[3] * weight.count
            }
            hooks.append((conv, handle))
        }
        let wasTraining = isTraining
        eval()
        _ = noGrad { self(Tensor.zeros([1, config.inputChannels, inputSize, inputSize])) }
        train(wasTraining)
        for (layer, handle) in hooks { layer.removeForwardHook(handle) }
        return (counts["backbone"] ?? 0, counts["neck"] ?? 0, counts["head"] ?? 0)
    }
}
