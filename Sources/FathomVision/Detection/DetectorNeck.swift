// Necks that fuse the backbone's three maps (fine C0, middle C1, coarse C2) into three
// output maps at the same strides.
//
// - `PAFPNNeck`: the plain FPN top-down path plus PANet's bottom-up path (YOLOv5/YOLOX
//   style): 4 fusion nodes, each taking its level and one neighbour.
// - `GFPNNeck`: DAMO-YOLO's RepGFPN topology (GiraffeDet's Generalized-FPN made efficient):
//   5 fusion nodes with "queen fusion" — a node takes its same-level input and the resized
//   neighbours from the level above (upsampled) and below (stride-2 conv), e.g. the middle
//   top-down node fuses C1, down(C0) and up(node of C2), and the top bottom-up node fuses the
//   top top-down node, down(middle top-down node) and down(middle bottom-up node).
//
// Every node concatenates its inputs and runs a `FusionBlock` (DAMO-YOLO's CSPStage,
// simplified: the last block's output only is concatenated with the shortcut half, not
// every intermediate one; plain RepConvs instead of BasicBlock_3x3_Reverse). GiraffeDet's
// log2n skip-layer links are left out (DAMO-YOLO also drops them for latency).

import FathomNN
import FathomTensor

/// A CSP fusion node: 1×1 conv to two halves; one half goes through `depth` RepConvs; the
/// halves are concatenated and mixed by a 1×1 conv to `outChannels`.
public final class FusionBlock: Layer {
    public let shortcut: ConvBNAct, main: ConvBNAct
    public let blocks: [RepConv]
    public let mix: ConvBNAct

    public init(_ inChannels: Int, _ outChannels: Int, depth: Int, activation: DetectorActivation = .relu,
                generator: Generator? = nil) {
        let hidden = Swift.max(4, outChannels / 2)
        shortcut = ConvBNAct(inChannels, hidden, kernelSize: 1, activation: activation, generator: generator)
        main = ConvBNAct(inChannels, hidden, kernelSize: 1, activation: activation, generator: generator)
        blocks = (0..<depth).map { _ in RepConv(hidden, hidden, activation: activation, generator: generator) }
        mix = ConvBNAct(2 * hidden, outChannels, kernelSize: 1, activation: activation, generator: generator)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let y = blocks.reduce(main(input)) { x, block in block(x) }
        return mix(Tensor.cat([shortcut(input), y], axis: 1))
    }
}

/// The interface of a neck: three maps in (fine to coarse), three maps out.
open class DetectorNeck: Module {
    /// The channels of the three output maps.
    public let outChannels: [Int]

    public init(outChannels: [Int]) {
        self.outChannels = outChannels
        super.init()
    }

    /// Fuses `[C0, C1, C2]` (strides s, 2s, 4s) into `[P0, P1, P2]` at the same strides.
    open func callAsFunction(_ features: [Tensor]) -> [Tensor] {
        fatalError("Fathom.DetectorNeck: \(type(of: self)) must override callAsFunction(_:)")
    }
}

/// Nearest-neighbour ×2 upsampling (the neck's top-down resize).
@inline(__always)
func upsampled2(_ x: Tensor) -> Tensor { upsample(x, scaleFactor: 2, mode: .nearest) }

/// FPN top-down + PAN bottom-up with concatenation and `FusionBlock` nodes.
public final class PAFPNNeck: DetectorNeck {
    public let topDown1: FusionBlock, topDown0: FusionBlock
    public let down0: ConvBNAct, down1: ConvBNAct
    public let bottomUp1: FusionBlock, bottomUp2: FusionBlock

    /// - Parameters:
    ///   - inChannels: the backbone's three widths.
    ///   - widths: the output widths per level.
    ///   - depth: RepConvs per fusion node.
    public init(inChannels c: [Int], widths w: [Int], depth: Int, activation: DetectorActivation = .relu,
                generator: Generator? = nil) {
        precondition(c.count == 3 && w.count == 3, "Fathom.PAFPNNeck: need three input and three output widths, got \(c) and \(w)")
        topDown1 = FusionBlock(c[1] + c[2], w[1], depth: depth, activation: activation, generator: generator)
        topDown0 = FusionBlock(c[0] + w[1], w[0], depth: depth, activation: activation, generator: generator)
        down0 = ConvBNAct(w[0], w[0], kernelSize: 3, stride: 2, activation: activation, generator: generator)
        bottomUp1 = FusionBlock(w[1] + w[0], w[1], depth: depth, activation: activation, generator: generator)
        down1 = ConvBNAct(w[1], w[1], kernelSize: 3, stride: 2, activation: activation, generator: generator)
        bottomUp2 = FusionBlock(c[2] + w[1], w[2], depth: depth, activation: activation, generator: generator)
        super.init(outChannels: w)
    }

    public override func callAsFunction(_ features: [Tensor]) -> [Tensor] {
        let (c0, c1, c2) = (features[0], features[1], features[2])
        let t1 = topDown1(Tensor.cat([c1, upsampled2(c2)], axis: 1))
        let p0 = topDown0(Tensor.cat([c0, upsampled2(t1)], axis: 1))
        let p1 = bottomUp1(Tensor.cat([t1, down0(p0)], axis: 1))
        let p2 = bottomUp2(Tensor.cat([c2, down1(p1)], axis: 1))
        return [p0, p1, p2]
    }
}

/// RepGFPN (DAMO-YOLO's GiraffeNeckV2) with queen fusion; node names follow its source.
public final class GFPNNeck: DetectorNeck {
    public let downC1: ConvBNAct, node3: FusionBlock
    public let downC0: ConvBNAct, node4: FusionBlock
    public let node5: FusionBlock
    public let down5: ConvBNAct, node7: FusionBlock
    public let down4: ConvBNAct, down7: ConvBNAct, node6: FusionBlock

    /// - Parameters:
    ///   - inChannels: the backbone's three widths.
    ///   - widths: the output widths per level (the inner top-down nodes keep the input widths,
    ///     as in RepGFPN).
    ///   - depth: RepConvs per fusion node.
    public init(inChannels c: [Int], widths w: [Int], depth: Int, activation: DetectorActivation = .relu,
                generator: Generator? = nil) {
        precondition(c.count == 3 && w.count == 3, "Fathom.GFPNNeck: need three input and three output widths, got \(c) and \(w)")
        let a = activation, g = generator
        downC1 = ConvBNAct(c[1], c[1], kernelSize: 3, stride: 2, activation: a, generator: g)
        node3 = FusionBlock(c[2] + c[1], c[2], depth: depth, activation: a, generator: g)
        downC0 = ConvBNAct(c[0], c[0], kernelSize: 3, stride: 2, activation: a, generator: g)
        node4 = FusionBlock(c[1] + c[0] + c[2], c[1], depth: depth, activation: a, generator: g)
        node5 = FusionBlock(c[0] + c[1], w[0], depth: depth, activation: a, generator: g)
        down5 = ConvBNAct(w[0], w[0], kernelSize: 3, stride: 2, activation: a, generator: g)
        node7 = FusionBlock(c[1] + w[0], w[1], depth: depth, activation: a, generator: g)
        down4 = ConvBNAct(c[1], c[1], kernelSize: 3, stride: 2, activation: a, generator: g)
        down7 = ConvBNAct(w[1], w[1], kernelSize: 3, stride: 2, activation: a, generator: g)
        node6 = FusionBlock(c[2] + c[1] + w[1], w[2], depth: depth, activation: a, generator: g)
        super.init(outChannels: w)
    }

    public override func callAsFunction(_ features: [Tensor]) -> [Tensor] {
        let (c0, c1, c2) = (features[0], features[1], features[2])
        let x3 = node3(Tensor.cat([c2, downC1(c1)], axis: 1))                       // coarse, top-down
        let x4 = node4(Tensor.cat([c1, downC0(c0), upsampled2(x3)], axis: 1))      // middle: queen fusion
        let x5 = node5(Tensor.cat([c0, upsampled2(x4)], axis: 1))                  // fine output
        let x7 = node7(Tensor.cat([x4, down5(x5)], axis: 1))                       // middle output
        let x6 = node6(Tensor.cat([x3, down4(x4), down7(x7)], axis: 1))            // coarse output
        return [x5, x7, x6]
    }
}
