/// The persistent pool that runs kernels on all cores.
///
/// Placeholder implementation (serial); replaced by the spin-then-park pool.
final class ThreadPool: @unchecked Sendable {
    /// Kernels smaller than this stay on the calling thread: forking costs more than it saves.
    static let minParallelElements = 16_384

    static let shared = ThreadPool()

    /// Splits `0..<count` into chunks of at least `grain` items and runs `body` on each.
    /// Chunk boundaries depend only on `count` and `grain`, never on the thread count.
    func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        if count > 0 { body(0..<count) }
    }
}
