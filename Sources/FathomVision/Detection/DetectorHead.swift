// A light decoupled head per pyramid level (YOLOX/GFL-style decoupling; with `depth` 0 it is
// DAMO-YOLO's ZeroHead: no stacked convs, the heavy neck does the work and 3×3 predictors
// read the neck's maps directly).
//
// Outputs per level (raw, not decoded; `AnchorFreeDetector` decodes):
// - class logits `[B, classCount, H, W]` (sigmoid / focal-loss style, bias initialised to the
//   prior probability 0.01 as in RetinaNet);
// - regression `[B, 4, H, W]` horizontal (log-distances l, t, r, b) or `[B, 5, H, W]` rotated
//   (dx, dy, log w, log h, angle logit);
// - optionally a quality logit `[B, 1, H, W]` (IoU / centerness), from the regression branch.

import Foundation
import FathomNN
import FathomTensor

/// The head of one level.
public final class DetectorHeadLevel: Module {
    public let classConvs: [ConvBNAct]
    public let regressionConvs: [ConvBNAct]
    public let classPrediction: Conv2d
    public let regressionPrediction: Conv2d
    public let qualityPrediction: Conv2d?

    /// - Parameters:
    ///   - channels: the neck's width at this level.
    ///   - depth: 3×3 conv-BN-act blocks per branch before the predictors (0: ZeroHead).
    ///   - regressionChannels: 4 (horizontal) or 5 (rotated).
    public init(channels: Int, classCount: Int, regressionChannels: Int, depth: Int, quality: Bool,
                activation: DetectorActivation = .relu, priorProbability: Double = 0.01, generator: Generator? = nil) {
        classConvs = (0..<depth).map { _ in ConvBNAct(channels, channels, activation: activation, generator: generator) }
        regressionConvs = (0..<depth).map { _ in ConvBNAct(channels, channels, activation: activation, generator: generator) }
        classPrediction = Conv2d(channels, classCount, kernelSize: 3, padding: 1, generator: generator)
        regressionPrediction = Conv2d(channels, regressionChannels, kernelSize: 3, padding: 1, generator: generator)
        qualityPrediction = quality ? Conv2d(channels, 1, kernelSize: 3, padding: 1, generator: generator) : nil
        super.init()
        noGrad {
            // Small predictor weights: the initial boxes are the prior's default size and the
            // initial scores sit at the prior probability.
            for conv in [classPrediction, regressionPrediction] + (qualityPrediction.map { [$0] } ?? []) {
                conv.weight = conv.weight * 0.1
                conv.bias = Tensor.zeros([conv.weight.shape[0]], dtype: conv.weight.dtype)
            }
            classPrediction.bias = Tensor.full([classCount], -Foundation.log((1 - priorProbability) / priorProbability),
                                               dtype: classPrediction.weight.dtype)
        }
    }

    /// Raw (class logits, regression, quality logit) maps of this level.
    public func callAsFunction(_ x: Tensor) -> (classLogits: Tensor, regression: Tensor, quality: Tensor?) {
        let c = classConvs.reduce(x) { y, conv in conv(y) }
        let r = regressionConvs.reduce(x) { y, conv in conv(y) }
        return (classPrediction(c), regressionPrediction(r), qualityPrediction?(r))
    }
}

/// The per-level heads (weights are not shared across levels: the levels' widths may differ).
public final class DetectorHead: Module {
    public let levels: [DetectorHeadLevel]
    public let classCount: Int
    /// 4 (horizontal ltrb) or 5 (rotated cx, cy, w, h, θ).
    public let regressionChannels: Int

    public init(inChannels: [Int], classCount: Int, rotated: Bool, depth: Int, quality: Bool,
                activation: DetectorActivation = .relu, generator: Generator? = nil) {
        self.classCount = classCount
        regressionChannels = rotated ? 5 : 4
        levels = inChannels.map {
            DetectorHeadLevel(channels: $0, classCount: classCount, regressionChannels: rotated ? 5 : 4,
                              depth: depth, quality: quality, activation: activation, generator: generator)
        }
        super.init()
    }

    /// Runs each level's head on the matching neck map.
    public func callAsFunction(_ features: [Tensor]) -> [(classLogits: Tensor, regression: Tensor, quality: Tensor?)] {
        zip(levels, features).map { head, x in head(x) }
    }
}
