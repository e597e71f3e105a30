import FathomNN
import FathomTensor

/// VGG with batch norm for 32×32 inputs (Simonyan & Zisserman 2015, CIFAR variant):
/// 3×3 conv–BN–ReLU stacks with max pooling, then a linear classifier on the 512 features.
public final class VGG: Layer {
    public let features: Sequential
    public let classifier: Linear

    /// Channel plans; 0 marks a 2×2 max pool.
    public static let vgg11 = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
    public static let vgg16 = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]

    public init(plan: [Int], inputShape: [Int], classCount: Int) {
        var layers: [Layer] = []
        var channels = inputShape[0], side = inputShape[1]
        for width in plan {
            if width == 0 {
                layers.append(MaxPool2d(kernelSize: 2))
                side /= 2
            } else {
                layers += [Conv2d(channels, width, kernelSize: 3, padding: 1), BatchNorm2d(width), ReLU()]
                channels = width
            }
        }
        precondition(side >= 1, "Fathom.VGG: input \(inputShape) is too small for \(plan.filter { $0 == 0 }.count) poolings")
        features = Sequential(layers)
        classifier = Linear(channels * side * side, classCount)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { classifier(features(input).flattened(startAxis: 1)) }
}
