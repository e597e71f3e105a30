import FathomTensor

/// Labelled images held in memory as bytes (as MNIST and CIFAR ship them), converted to
/// float32 in [0, 1] batch by batch — `ToTensor` in torchvision's terms.
public struct ImageDataset: Dataset {
    /// Pixel bytes, image after image, each `[channels, height, width]` row-major.
    public let pixels: [UInt8]
    public let labels: [Int64]
    /// `[channels, height, width]`.
    public let imageShape: [Int]
    public let classCount: Int

    public init(pixels: [UInt8], labels: [Int64], imageShape: [Int], classCount: Int) {
        precondition(imageShape.count == 3, "Fathom.ImageDataset: imageShape must be [channels, height, width], got \(imageShape)")
        precondition(pixels.count == labels.count * imageShape.reduce(1, *),
                     "Fathom.ImageDataset: \(pixels.count) pixel bytes do not hold \(labels.count) images of shape \(imageShape)")
        self.pixels = pixels
        self.labels = labels
        self.imageShape = imageShape
        self.classCount = classCount
    }

    public var count: Int { labels.count }

    /// The first `n` examples (all of them if there are fewer).
    public func prefix(_ n: Int) -> ImageDataset {
        let kept = Swift.min(n, count), size = imageShape.reduce(1, *)
        return ImageDataset(pixels: Array(pixels[0..<(kept * size)]), labels: Array(labels[0..<kept]),
                            imageShape: imageShape, classCount: classCount)
    }

    public func batch(at indices: [Int]) -> Batch {
        let size = imageShape.reduce(1, *)
        var values = [Float](repeating: 0, count: indices.count * size)
        var batchLabels = [Int64](repeating: 0, count: indices.count)
        pixels.withUnsafeBufferPointer { source in
            values.withUnsafeMutableBufferPointer { destination in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "Fathom.ImageDataset: index \(index) out of range 0..<\(count)")
                    let from = source.baseAddress! + index * size, to = destination.baseAddress! + row * size
                    for i in 0..<size { to[i] = Float(from[i]) * (1 / 255) }
                    batchLabels[row] = labels[index]
                }
            }
        }
        return Batch(inputs: Tensor(values, shape: [indices.count] + imageShape), labels: Tensor(batchLabels))
    }
}
