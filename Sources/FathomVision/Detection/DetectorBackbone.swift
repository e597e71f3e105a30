// A light RepVGG-style backbone for the anchor-free detector: a stride-2 conv-BN-act stem,
// then stages that each halve the resolution with a stride-2 RepConv and refine with
// `depth` stride-1 RepConvs. The last three stages feed the neck.
//
// For the 64×64 synthetic-shapes images the default has three stages after the stem, so the
// outputs are at strides 4, 8 and 16 (16×16, 8×8, 4×4 maps, 336 priors): objects are 10–35 px
// long with short sides down to 2.5 px, so a stride-32 level (2×2) would carry almost nothing
// and the thin objects need the stride-4 grid. Four stages give COCO's 8/16/32.

import FathomNN
import FathomTensor

/// The backbone: `forward` returns the feature maps of the last three stages (fine to coarse).
public final class DetectorBackbone: Module {
    public let stem: ConvBNAct
    public let stages: [Sequential]
    /// The channels of the three returned maps.
    public let outChannels: [Int]
    /// The strides of the three returned maps (relative to the input).
    public let outStrides: [Int]

    /// - Parameters:
    ///   - inputChannels: image channels (1 for grayscale).
    ///   - widths: `[stem, stage1, stage2, …]`; at least three stages.
    ///   - depths: the stride-1 RepConvs after each stage's downsampling block, one per stage.
    public init(inputChannels: Int, widths: [Int], depths: [Int], activation: DetectorActivation = .relu,
                generator: Generator? = nil) {
        precondition(widths.count >= 4 && depths.count == widths.count - 1,
                     "Fathom.DetectorBackbone: need widths [stem, ≥3 stages] and one depth per stage, got widths \(widths) and depths \(depths)")
        stem = ConvBNAct(inputChannels, widths[0], kernelSize: 3, stride: 2, activation: activation, generator: generator)
        var stages: [Sequential] = []
        for s in 1..<widths.count {
            var blocks: [Layer] = [RepConv(widths[s - 1], widths[s], stride: 2, activation: activation, generator: generator)]
            for _ in 0..<depths[s - 1] {
                blocks.append(RepConv(widths[s], widths[s], activation: activation, generator: generator))
            }
            stages.append(Sequential(blocks))
        }
        self.stages = stages
        outChannels = Array(widths.suffix(3))
        let count = widths.count - 1
        outStrides = (count - 2...count).map { 1 << ($0 + 1) }
        super.init()
    }

    /// The three deepest feature maps, fine to coarse.
    public func callAsFunction(_ images: Tensor) -> [Tensor] {
        var x = stem(images)
        var outputs: [Tensor] = []
        for (s, stage) in stages.enumerated() {
            x = stage(x)
            if s >= stages.count - 3 { outputs.append(x) }
        }
        return outputs
    }
}
