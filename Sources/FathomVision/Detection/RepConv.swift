// Re-parameterisable convolution (RepVGG, Ding et al. 2021), the block DAMO-YOLO's RepGFPN
// and backbones build on: in training a 3×3 conv+BN, a 1×1 conv+BN and (when the shape is
// kept) an identity BN run in parallel and are summed before the activation; for inference
// the three linear branches fold into one 3×3 convolution with a bias, exactly (in eval mode).

import FathomNN
import FathomTensor

/// The nonlinearity of the detector's blocks.
public enum DetectorActivation: String, Sendable, CaseIterable {
    case relu, silu

    /// Applies the activation.
    public func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: x.relu()
        case .silu: x.silu()
        }
    }
}

/// Convolution (no bias) → batch norm → activation, the plain building block
/// (`ConvBNAct` in DAMO-YOLO / YOLOX). Padding keeps the size at stride 1 (`kernel / 2`).
public final class ConvBNAct: Layer {
    public let conv: Conv2d
    public let bn: BatchNorm2d
    public let activation: DetectorActivation?

    /// - Parameter activation: nil for a linear block (conv + BN only).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int = 3, stride: Int = 1,
                activation: DetectorActivation? = .relu, generator: Generator? = nil) {
        conv = Conv2d(inChannels, outChannels, kernelSize: Size2(kernelSize), stride: Size2(stride),
                      padding: Size2(kernelSize / 2), bias: false, generator: generator)
        bn = BatchNorm2d(outChannels)
        self.activation = activation
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let y = bn(conv(input))
        return activation?.apply(y) ?? y
    }
}

/// A RepVGG block: `act(BN(conv3×3(x)) + BN(conv1×1(x)) [+ BN(x)])`, the identity branch
/// present when `inChannels == outChannels` and `stride == 1`. `fuse()` replaces the
/// branches with one 3×3 convolution with bias (`fused`), equal to the training form in
/// evaluation mode; afterwards the state dict holds `fused.weight` / `fused.bias` only.
public final class RepConv: Layer {
    public let inChannels: Int, outChannels: Int, stride: Int
    public let activation: DetectorActivation
    public private(set) var conv3: Conv2d?
    public private(set) var bn3: BatchNorm2d?
    public private(set) var conv1: Conv2d?
    public private(set) var bn1: BatchNorm2d?
    public private(set) var identity: BatchNorm2d?
    /// The single 3×3 convolution after `fuse()`; nil in the training form.
    public private(set) var fused: Conv2d?

    /// True once `fuse()` has folded the branches.
    public var isFused: Bool { fused != nil }

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, activation: DetectorActivation = .relu,
                generator: Generator? = nil) {
        precondition(stride == 1 || stride == 2, "Fathom.RepConv: stride must be 1 or 2, got \(stride)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
        self.activation = activation
        conv3 = Conv2d(inChannels, outChannels, kernelSize: 3, stride: Size2(stride), padding: 1, bias: false, generator: generator)
        bn3 = BatchNorm2d(outChannels)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 1, stride: Size2(stride), bias: false, generator: generator)
        bn1 = BatchNorm2d(outChannels)
        identity = (inChannels == outChannels && stride == 1) ? BatchNorm2d(outChannels) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        if let fused { return activation.apply(fused(input)) }
        var y = bn3!(conv3!(input)) + bn1!(conv1!(input))
        if let identity { y = y + identity(input) }
        return activation.apply(y)
    }

    /// Folds the branches into one 3×3 convolution with bias using the batch norms' running
    /// statistics (RepVGG's `switch_to_deploy`): BN(conv(x)) = (γ/σ)·W * x + (β − γμ/σ),
    /// the 1×1 kernel padded to the 3×3 centre and the identity as a centred unit kernel.
    /// Exact for evaluation mode; the fused block is for inference (it has no batch norm).
    public func fuse() {
        guard !isFused, let conv3, let bn3, let conv1, let bn1 else { return }
        let (o, i) = (outChannels, inChannels)
        var kernel = [Double](repeating: 0, count: o * i * 9)
        var bias = [Double](repeating: 0, count: o)
        // Adds one branch: `weight(oc, ic, k)` is its 3×3-placed kernel entry before BN.
        func addBranch(_ bn: BatchNorm, _ weight: (Int, Int, Int) -> Double) {
            let mean = bn.runningMean!.doubles, variance = bn.runningVar!.doubles
            let gamma = bn.weight?.doubles ?? [Double](repeating: 1, count: o)
            let beta = bn.bias?.doubles ?? [Double](repeating: 0, count: o)
            for oc in 0..<o {
                let scale = gamma[oc] / (variance[oc] + bn.eps).squareRoot()
                bias[oc] += beta[oc] - mean[oc] * scale
                for ic in 0..<i {
                    for k in 0..<9 { kernel[(oc * i + ic) * 9 + k] += scale * weight(oc, ic, k) }
                }
            }
        }
        let w3 = conv3.weight.doubles, w1 = conv1.weight.doubles
        addBranch(bn3) { oc, ic, k in w3[(oc * i + ic) * 9 + k] }
        addBranch(bn1) { oc, ic, k in k == 4 ? w1[oc * i + ic] : 0 }
        if let identity { addBranch(identity) { oc, ic, k in (k == 4 && oc == ic) ? 1 : 0 } }
        let dtype = conv3.weight.dtype
        let conv = Conv2d(i, o, kernelSize: 3, stride: Size2(stride), padding: 1, bias: true)
        conv.weight = Tensor(kernel, shape: [o, i, 3, 3], dtype: dtype)
        conv.bias = Tensor(bias, shape: [o], dtype: dtype)
        conv.train(isTraining)
        fused = conv
        self.conv3 = nil; self.bn3 = nil; self.conv1 = nil; self.bn1 = nil; self.identity = nil
    }
}
