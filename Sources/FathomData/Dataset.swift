import FathomTensor

/// A batch of inputs with their labels, as a `DataLoader` yields it.
public struct Batch {
    /// Inputs, batch axis first (images: `[batch, channels, height, width]`, float32).
    public let inputs: Tensor
    /// Class labels, int64 `[batch]`.
    public let labels: Tensor

    public init(inputs: Tensor, labels: Tensor) {
        self.inputs = inputs
        self.labels = labels
    }

    public var count: Int { inputs.shape.first ?? 0 }
}

/// A finite, indexable source of labelled examples, like `torch.utils.data.Dataset`.
///
/// Datasets collate whole batches rather than single examples: reading 128 images into
/// one tensor in one pass is what makes data loading cheap next to the training step.
/// `batch(at:)` runs on the loader's prefetch thread, so it must only read the dataset.
public protocol Dataset: Sendable {
    /// Number of examples.
    var count: Int { get }
    /// The examples at `indices`, in that order, as one batch.
    func batch(at indices: [Int]) -> Batch
    /// This dataset as seen in `epoch` (random augmentation is keyed by the epoch).
    func forEpoch(_ epoch: Int) -> Self
}

extension Dataset {
    public func forEpoch(_ epoch: Int) -> Self { self }
}
