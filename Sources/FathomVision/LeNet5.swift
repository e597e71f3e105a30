import FathomNN
import FathomTensor

/// LeNet-5 (LeCun et al. 1998) with ReLU and max pooling, as in most modern
/// reproductions: conv 5×5 (6) → pool → conv 5×5 (16) → pool → 120 → 84 → classes.
/// 28×28 inputs are padded by 2 so the feature map matches the 32×32 original.
public final class LeNet5: Layer {
    public let features: Sequential
    public let classifier: Sequential

    public init(inputShape: [Int], classCount: Int) {
        precondition(inputShape.count == 3, "Fathom.LeNet5: inputShape must be [channels, height, width], got \(inputShape)")
        let padding = inputShape[1] < 32 ? (32 - inputShape[1]) / 2 : 0
        features = Sequential(
            Conv2d(inputShape[0], 6, kernelSize: 5, padding: Size2(padding)), ReLU(), MaxPool2d(kernelSize: 2),
            Conv2d(6, 16, kernelSize: 5), ReLU(), MaxPool2d(kernelSize: 2))
        let side = ((inputShape[1] + 2 * padding - 4) / 2 - 4) / 2
        let sideW = ((inputShape[2] + 2 * padding - 4) / 2 - 4) / 2
        classifier = Sequential(Flatten(), Linear(16 * side * sideW, 120), ReLU(), Linear(120, 84), ReLU(),
                                Linear(84, classCount))
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { classifier(features(input)) }
}
