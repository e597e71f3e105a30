// The random-number generator behind every random draw: counter-based Philox4x32-10.
//
// A counter-based generator computes random bits as a pure function of (key, counter),
// so element i of a draw can be computed on any thread, in any order, and a draw of any
// size advances the state by a known amount. That is what makes seeded results bitwise
// identical for every thread count, and what makes a generator resumable from two numbers.

import Synchronization

/// Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as
/// 1, 2, 3", SC 2011): ten rounds of a multiply-xor bijection on a 128-bit counter under a
/// 64-bit key. Constants are those of Random123, PyTorch and JAX, so outputs match
/// Random123's known-answer vectors.
@inline(__always)
func philox4x32_10(_ counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
    var c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3]
    var k0 = key[0], k1 = key[1]
    @inline(__always) func round() {
        let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
        let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
        let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
        let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
        c0 = hi1 ^ c1 ^ k0
        c1 = lo1
        c2 = hi0 ^ c3 ^ k1
        c3 = lo0
    }
    @inline(__always) func bumpKey() {
        k0 = k0 &+ 0x9E37_79B9
        k1 = k1 &+ 0xBB67_AE85
    }
    round(); bumpKey(); round(); bumpKey(); round(); bumpKey(); round(); bumpKey(); round(); bumpKey()
    round(); bumpKey(); round(); bumpKey(); round(); bumpKey(); round(); bumpKey(); round()
    return SIMD4(c0, c1, c2, c3)
}

/// The 128 random bits of block `index` (the counter's low 64 bits) under `key`.
@inline(__always)
func philoxBlock(_ index: UInt64, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
    philox4x32_10(SIMD4(UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32), 0, 0), key: key)
}

/// A seeded source of random numbers for tensor draws (`Tensor.rand`, `randn`, …), like
/// `torch.Generator`.
///
/// The state is two numbers: the `seed` (Philox's key) and an `offset`, the number of
/// 128-bit Philox blocks used so far. Each draw reserves the blocks it needs and advances
/// the offset, so successive draws differ and a saved `state` resumes the exact sequence.
/// Reserving is thread-safe; the bits of a draw never depend on the number of threads.
///
/// ```swift
/// let g = Generator(seed: 42)
/// let a = Tensor.randn([2, 3], generator: g)
/// let saved = g.state            // Codable: store it in a checkpoint
/// let b = Tensor.rand([4], generator: g)
/// g.state = saved                // the next draw repeats b exactly
/// ```
public final class Generator: RandomNumberGenerator, Sendable {
    /// Everything needed to resume a generator exactly.
    public struct State: Codable, Sendable, Hashable {
        /// The seed the generator was created or last reseeded with.
        public var seed: UInt64
        /// Philox blocks (128 bits each) consumed since seeding.
        public var offset: UInt64

        public init(seed: UInt64, offset: UInt64 = 0) {
            self.seed = seed
            self.offset = offset
        }
    }

    private let current: Mutex<State>

    /// A generator at the start of the sequence for `seed`.
    public init(seed: UInt64) {
        current = Mutex(State(seed: seed))
    }

    /// A generator resuming from a saved `state`.
    public init(state: State) {
        current = Mutex(state)
    }

    /// The generator draws use when none is passed. It starts from seed 0, so programs
    /// are reproducible by default; reseed it with `manualSeed(_:)`.
    public static let `default` = Generator(seed: 0)

    /// The seed and the position in its sequence; assign a saved value to resume.
    public var state: State {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    /// Restarts the sequence of `seed` (offset 0).
    public func manualSeed(_ seed: UInt64) {
        state = State(seed: seed)
    }

    /// Reserves `blocks` consecutive Philox blocks and returns the key and the first block.
    func reserve(blocks: Int) -> (key: SIMD2<UInt32>, base: UInt64) {
        precondition(blocks >= 0)
        return current.withLock { state in
            let base = state.offset
            state.offset &+= UInt64(blocks)
            return (SIMD2(UInt32(truncatingIfNeeded: state.seed), UInt32(truncatingIfNeeded: state.seed >> 32)), base)
        }
    }

    /// 64 random bits (one block per call), so the generator can drive Swift's own
    /// randomized APIs: `array.shuffled(using: &rng)` with `var rng = generator`.
    public func next() -> UInt64 {
        let (key, base) = reserve(blocks: 1)
        let words = philoxBlock(base, key: key)
        return UInt64(words[0]) << 32 | UInt64(words[1])
    }
}

/// Reseeds the default generator, like `torch.manual_seed`: every later draw that is not
/// given a generator is reproducible from `seed`.
public func manualSeed(_ seed: UInt64) {
    Generator.default.manualSeed(seed)
}

// MARK: bits to numbers

/// A float in [0, 1) from the top 24 bits of `word`: every value is a multiple of 2^-24,
/// so the conversion is exact and 1 is never reached.
@inline(__always)
func unitFloat(_ word: UInt32) -> Float { Float(word >> 8) * 0x1p-24 }

/// A float in (0, 1] (for logarithms): the same grid shifted up by one step.
@inline(__always)
func unitFloatOpenZero(_ word: UInt32) -> Float { Float((word >> 8) &+ 1) * 0x1p-24 }

/// A double in [0, 1) from 53 bits of two words.
@inline(__always)
func unitDouble(_ high: UInt32, _ low: UInt32) -> Double {
    Double((UInt64(high) << 32 | UInt64(low)) >> 11) * 0x1p-53
}

/// A double in (0, 1] from 53 bits of two words.
@inline(__always)
func unitDoubleOpenZero(_ high: UInt32, _ low: UInt32) -> Double {
    Double(((UInt64(high) << 32 | UInt64(low)) >> 11) &+ 1) * 0x1p-53
}

// MARK: filling tensors

/// Writes `count` elements to `out` from consecutive Philox blocks starting at `base`,
/// each block giving `perBlock` elements (1, 2 or 4) through `produce(words, first, dst)`,
/// where `first` is the index of the block's first element.
///
/// Element i depends only on (key, base + i / perBlock), so the blocks are split into
/// chunks on the thread pool and the bits are the same for any split.
@inline(__always)
func fillFromBlocks<T>(_ out: UnsafeMutablePointer<T>, count: Int, perBlock: Int,
                       key: SIMD2<UInt32>, base: UInt64,
                       _ produce: (SIMD4<UInt32>, Int, UnsafeMutablePointer<T>) -> Void) {
    let blocks = (count + perBlock - 1) / perBlock
    ThreadPool.shared.parallelFor(blocks, grain: max(1, ThreadPool.minParallelElements / (4 * perBlock))) { range in
        fillBlocks(range, out, count: count, perBlock: perBlock, key: key, base: base, produce)
    }
}

/// The serial body of `fillFromBlocks` for the blocks `range` (also used by tests to
/// check that any split gives the same bits).
@inline(__always)
func fillBlocks<T>(_ range: Range<Int>, _ out: UnsafeMutablePointer<T>, count: Int, perBlock: Int,
                   key: SIMD2<UInt32>, base: UInt64,
                   _ produce: (SIMD4<UInt32>, Int, UnsafeMutablePointer<T>) -> Void) {
    for block in range {
        let words = philoxBlock(base &+ UInt64(block), key: key)
        let first = block * perBlock
        if first + perBlock <= count {
            produce(words, first, out + first)
        } else {
            // The last, partial block: produce into scratch and keep what fits.
            withUnsafeTemporaryAllocation(of: T.self, capacity: perBlock) { scratch in
                produce(words, first, scratch.baseAddress!)
                for j in 0..<(count - first) { out[first + j] = scratch[j] }
            }
        }
    }
}

/// Blocks needed for `count` elements at `perBlock` elements per block.
@inline(__always)
func blocksNeeded(_ count: Int, perBlock: Int) -> Int { (count + perBlock - 1) / perBlock }
