import FathomNN
import FathomTensor

/// A small convolutional encoder f(·) for self-supervised learning on small grayscale or
/// colour images: three 3×3 conv–BN–ReLU stages (widths w, 2w, 4w) with 2×2 max pooling after
/// the first two, then global average pooling to a `4w`-dimensional representation h. No
/// classifier: it is the backbone that SimCLR, the supervised baseline and the probes share.
public final class ConvEncoder: Layer {
    public let body: Sequential
    /// Dimension of the representation h.
    public let featureCount: Int

    public init(inputChannels: Int, width: Int = 16, generator: Generator? = nil) {
        precondition(inputChannels > 0 && width > 0, "Fathom.ConvEncoder: need positive inputChannels and width, got \(inputChannels), \(width)")
        func stage(_ i: Int, _ o: Int) -> [Layer] {
            [Conv2d(i, o, kernelSize: 3, padding: 1, bias: false, generator: generator), BatchNorm2d(o), ReLU()]
        }
        body = Sequential(stage(inputChannels, width) + [MaxPool2d(kernelSize: 2)] + stage(width, 2 * width)
                          + [MaxPool2d(kernelSize: 2)] + stage(2 * width, 4 * width)
                          + [AdaptiveAvgPool2d(outputSize: 1), Flatten()])
        featureCount = 4 * width
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { body(input) }
}

/// The encoder's representations of `images` (`[N, C, H, W]` → `[N, featureCount]`), in
/// evaluation mode (batch-norm running statistics) and without gradients, `batchSize` images
/// at a time; the encoder's training mode is restored afterwards.
public func extractFeatures(_ encoder: Layer, images: Tensor, batchSize: Int = 256) -> Tensor {
    precondition(batchSize > 0 && images.rank >= 1, "Fathom.extractFeatures: need a batch of images and a positive batchSize")
    let wasTraining = encoder.isTraining
    encoder.eval()
    defer { encoder.train(wasTraining) }
    let n = images.shape[0]
    return noGrad {
        let chunks = stride(from: 0, to: n, by: batchSize).map { start in
            encoder(images.select([.range(start: start, end: Swift.min(start + batchSize, n))]))
        }
        return Tensor.cat(chunks, axis: 0)
    }
}
