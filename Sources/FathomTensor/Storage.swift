#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A reference-counted, 64-byte-aligned block of memory that tensors view.
///
/// Views (reshape, permute, slices) share one storage; the memory goes back to the
/// block cache (large blocks) or to malloc when the last view goes away.
final class TensorStorage: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int
    /// The size actually allocated (large blocks are rounded up to their cache class).
    private let capacity: Int

    /// Allocates uninitialized memory. Kernels that read before writing must zero it.
    init(byteCount: Int) {
        self.byteCount = byteCount
        let capacity = BlockCache.sizeClass(max(byteCount, 64))
        self.capacity = capacity
        if let reused = BlockCache.shared.take(capacity) {
            bytes = reused
            return
        }
        var pointer: UnsafeMutableRawPointer?
        let status = posix_memalign(&pointer, 64, capacity)
        guard status == 0, let pointer else {
            fatalError("Fathom: out of memory allocating \(byteCount) bytes for a tensor")
        }
        bytes = pointer
    }

    deinit {
        if !BlockCache.shared.give(bytes, capacity) { free(bytes) }
    }
}

/// Freed large blocks kept for reuse, like PyTorch's caching allocator. A fresh large
/// allocation is a new mapping whose pages fault on first touch — measured at 80–90% of
/// the time of a 34 MB elementwise op — while a reused block is already resident, and a
/// training step asks for the same sizes every time.
final class BlockCache: Sendable {
    static let shared = BlockCache()
    /// Blocks below this size come from malloc's own free lists. Above it glibc maps and
    /// unmaps memory (or trims its heap) as blocks come and go, so an MLP step's 256 KiB
    /// activations page-faulted afresh every step (~4% of the step).
    static let minimumBytes = 64 << 10
    /// Blocks of 1 MiB and more are rounded to whole MiB, smaller ones to 64 KiB.
    static let largeBytes = 1 << 20
    /// The most memory held in the cache; beyond it, freed blocks go back to the system.
    static let capacityBytes = 2 << 30

    private struct State {
        /// Addresses by size class (integers, so the state is Sendable).
        var blocks: [Int: [UInt]] = [:]
        var cachedBytes = 0
    }
    private let state = Mutex(State())

    /// Cached sizes rounded up (to 64 KiB below 1 MiB, to 1 MiB above) so near sizes share blocks.
    static func sizeClass(_ bytes: Int) -> Int {
        if bytes < minimumBytes { return bytes }
        let unit = bytes < largeBytes ? minimumBytes : largeBytes
        return (bytes + unit - 1) / unit * unit
    }

    func take(_ capacity: Int) -> UnsafeMutableRawPointer? {
        guard capacity >= BlockCache.minimumBytes else { return nil }
        return state.withLock { state in
            guard let address = state.blocks[capacity]?.popLast() else { return nil }
            state.cachedBytes -= capacity
            return UnsafeMutableRawPointer(bitPattern: address)
        }
    }

    /// Keeps `block` for reuse; false when it is too small or the cache is full.
    func give(_ block: UnsafeMutableRawPointer, _ capacity: Int) -> Bool {
        guard capacity >= BlockCache.minimumBytes else { return false }
        let address = UInt(bitPattern: block)
        return state.withLock { state in
            guard state.cachedBytes + capacity <= BlockCache.capacityBytes else { return false }
            state.blocks[capacity, default: []].append(address)
            state.cachedBytes += capacity
            return true
        }
    }
}
