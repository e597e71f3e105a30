import FathomNN
import FathomTensor

/// A small re-identification network in the shape of Luo et al.'s BoT baseline ("Bag of
/// Tricks and A Strong Baseline for Deep Person Re-identification", 2019), scaled to 32×32
/// grayscale images:
///
///     backbone (5 conv3×3-BN-ReLU, two with stride 2) → global average pool → f_t  (triplet loss)
///     → BNNeck: BatchNorm1d with its bias frozen at 0 → f_i                         (inference feature)
///     → classifier: Linear without bias → logits                                   (ID loss)
///
/// The triplet loss sees the pooled feature f_t, the ID loss the logits of the
/// batch-normalized f_i; retrieval uses f_i (`forward` in evaluation mode returns it).
/// Channels: `width`, 2·width, 2·width, 4·width, 4·width; the feature has 4·width entries.
public final class ReIDNet: Module {
    public let backbone: Sequential
    /// The BNNeck. Its `bias` does not require grad (BoT freezes it so that f_i stays
    /// centred and the classifier's hyperplanes pass through the origin).
    public let bottleneck: BatchNorm1d
    /// The identity classifier; replaced by `resetClassifier` when the identities change
    /// (each round of pseudo-label training).
    public var classifier: Linear
    public let width: Int
    public var featureCount: Int { 4 * width }

    /// What a training forward pass returns.
    public struct Output {
        /// The pooled backbone feature f_t `[N, featureCount]`, for the triplet loss.
        public var feature: Tensor
        /// The BNNeck feature f_i `[N, featureCount]`.
        public var neckFeature: Tensor
        /// Classifier logits `[N, classCount]`, for the ID loss.
        public var logits: Tensor
    }

    public init(classCount: Int, width: Int = 16, inputChannels: Int = 1, generator: Generator? = nil) {
        precondition(classCount >= 1 && width >= 1, "Fathom.ReIDNet: classCount and width must be positive, got \(classCount), \(width)")
        self.width = width
        func block(_ i: Int, _ o: Int, stride: Int) -> [Layer] {
            [Conv2d(i, o, kernelSize: 3, stride: Size2(stride), padding: 1, bias: false, generator: generator), BatchNorm2d(o), ReLU()]
        }
        backbone = Sequential(block(inputChannels, width, stride: 1) + block(width, 2 * width, stride: 2)
                              + block(2 * width, 2 * width, stride: 1) + block(2 * width, 4 * width, stride: 2)
                              + block(4 * width, 4 * width, stride: 1))
        bottleneck = BatchNorm1d(4 * width)
        bottleneck.bias?.requiresGrad = false
        classifier = Self.makeClassifier(4 * width, classCount, generator: generator)
        super.init()
    }

    /// A fresh classifier for `classCount` identities (N(0, 0.001²) weights).
    public func resetClassifier(classCount: Int, generator: Generator? = nil) {
        precondition(classCount >= 1, "Fathom.ReIDNet.resetClassifier: classCount must be positive, got \(classCount)")
        classifier = Self.makeClassifier(featureCount, classCount, generator: generator)
    }

    /// A bias-free classifier with BoT's N(0, 0.001²) initial weights.
    private static func makeClassifier(_ features: Int, _ classCount: Int, generator: Generator?) -> Linear {
        let linear = Linear(features, classCount, bias: false, generator: generator)
        noGrad { linear.weight.assign(Tensor.randn([classCount, features], generator: generator) * 0.001) }
        return linear
    }

    /// The pooled backbone feature f_t `[N, featureCount]` of images `[N, C, H, W]`.
    public func pooledFeature(_ images: Tensor) -> Tensor {
        adaptiveAvgPool2d(backbone(images), outputSize: 1).flattened(startAxis: 1)
    }

    /// f_t, f_i and logits (use in training mode).
    public func trainingOutput(_ images: Tensor) -> Output {
        let feature = pooledFeature(images)
        let neck = bottleneck(feature)
        return Output(feature: feature, neckFeature: neck, logits: classifier(neck))
    }

    /// The retrieval feature f_i (post-BNNeck) `[N, featureCount]`.
    public func callAsFunction(_ images: Tensor) -> Tensor { bottleneck(pooledFeature(images)) }
}
