import FathomTensor

/// Batches of a dataset in a seeded order, like `torch.utils.data.DataLoader`.
///
/// The order of epoch `e` is a pure function of `(seed, e)`, so a resumed run sees the
/// same batches as an uninterrupted one. Iterate it with `for batch in loader.epoch(e)`.
public struct DataLoader<Data: Dataset> {
    public let dataset: Data
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64

    public init(_ dataset: Data, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false, seed: UInt64 = 0) {
        precondition(batchSize > 0, "Fathom.DataLoader: batchSize must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The example order of `epoch`: a seeded permutation, or `0..<count` without shuffling.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
        var indices = Array(0..<dataset.count)
        // Fisher–Yates with an unbiased bounded draw.
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            indices.swapAt(i, Int(rng.next(below: UInt64(i + 1))))
        }
        return indices
    }

    /// The batches of `epoch`, in order.
    public func epoch(_ epoch: Int) -> EpochSequence {
        EpochSequence(loader: self, dataset: dataset.forEpoch(epoch), order: order(epoch: epoch))
    }

    /// One epoch's batches. Each batch is produced when the iterator reaches it.
    public struct EpochSequence: Sequence {
        let loader: DataLoader
        let dataset: Data
        let order: [Int]

        public func makeIterator() -> AnyIterator<Batch> {
            var next = 0
            return AnyIterator {
                guard next < loader.batchCount else { return nil }
                let start = next * loader.batchSize
                let end = Swift.min(start + loader.batchSize, order.count)
                next += 1
                return dataset.batch(at: Array(order[start..<end]))
            }
        }
    }
}
