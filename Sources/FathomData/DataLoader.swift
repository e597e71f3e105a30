import Foundation
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
    /// Batches prepared ahead on a background thread (0: none). Batches are pure
    /// functions of (seed, epoch, position), so prefetching never changes them.
    public let prefetch: Int

    public init(_ dataset: Data, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false, seed: UInt64 = 0,
                prefetch: Int = 2) {
        precondition(batchSize > 0, "Fathom.DataLoader: batchSize must be positive, got \(batchSize)")
        precondition(prefetch >= 0, "Fathom.DataLoader: prefetch must be >= 0, got \(prefetch)")
        self.prefetch = prefetch
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

    /// The batches of `epoch`, in order, starting at batch `position` (to resume mid-epoch).
    public func epoch(_ epoch: Int, from position: Int = 0) -> EpochSequence {
        EpochSequence(loader: self, dataset: dataset.forEpoch(epoch), order: order(epoch: epoch), start: position)
    }

    /// One epoch's batches. Each batch is produced when the iterator reaches it.
    public struct EpochSequence: Sequence {
        let loader: DataLoader
        let dataset: Data
        let order: [Int]
        let start: Int

        /// The batch at `position` of this epoch.
        func batch(_ position: Int) -> Batch {
            let start = position * loader.batchSize
            let end = Swift.min(start + loader.batchSize, order.count)
            return dataset.batch(at: Array(order[start..<end]))
        }

        public func makeIterator() -> AnyIterator<Batch> {
            let count = loader.batchCount
            let first = start
            if loader.prefetch == 0 {
                var next = first
                return AnyIterator {
                    guard next < count else { return nil }
                    defer { next += 1 }
                    return batch(next)
                }
            }
            let queue = PrefetchQueue(capacity: loader.prefetch)
            // Datasets only read immutable state in batch(at:), so producing on another thread is safe.
            let sequence = UncheckedSendable(value: self)
            let producer = Thread {
                for position in first..<Swift.max(first, count) {
                    guard queue.push(UncheckedSendable(value: sequence.value.batch(position))) else { return }
                }
            }
            producer.start()
            return AnyIterator(PrefetchingIterator(queue: queue, count: Swift.max(0, count - first)))
        }
    }
}

/// A value handed to or from the prefetch thread; the sender never touches it again.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// A bounded FIFO between the prefetch thread and the training loop. When the consumer
/// goes away (the iterator is dropped mid-epoch), the producer stops at its next push.
final class PrefetchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [UncheckedSendable<Batch>] = []
    private let capacity: Int
    private var abandoned = false

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room; returns false if the consumer is gone.
    func push(_ item: UncheckedSendable<Batch>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !abandoned { condition.wait() }
        if abandoned { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    func pop() -> UncheckedSendable<Batch> {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Pops prefetched batches; when dropped, releases the producer thread.
final class PrefetchingIterator: IteratorProtocol {
    private let queue: PrefetchQueue
    private let count: Int
    private var position = 0

    init(queue: PrefetchQueue, count: Int) {
        self.queue = queue
        self.count = count
    }

    deinit { queue.abandon() }

    func next() -> Batch? {
        guard position < count else { return nil }
        position += 1
        return queue.pop().value
    }
}
