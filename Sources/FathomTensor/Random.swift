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
/// 128-bit Philox blocks used so far. Each draw reserves the blocks it needs (in groups
/// of eight: 32 float32 or 16 float64/int64 elements per group) and advances the offset,
/// so successive draws differ and a saved `state` resumes the exact sequence. Reserving
/// is thread-safe; the bits of a draw never depend on the number of threads.
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

/// The outputs of eight Philox blocks side by side: lane b of `w0…w3` holds the four
/// words of block `first + b`. Eight lanes let the rounds run as vector multiplies.
struct PhiloxLanes {
    var w0, w1, w2, w3: SIMD8<UInt32>
}

/// Philox4x32-10 on the eight consecutive blocks `first ..< first + 8` (the same bits as
/// eight calls of `philoxBlock`).
@inline(__always)
func philoxLanes(_ first: UInt64, key: SIMD2<UInt32>) -> PhiloxLanes {
    let blocks = SIMD8<UInt64>(repeating: first) &+ SIMD8(0, 1, 2, 3, 4, 5, 6, 7)
    var c0 = SIMD8<UInt32>(truncatingIfNeeded: blocks)
    var c1 = SIMD8<UInt32>(truncatingIfNeeded: blocks &>> 32)
    var c2 = SIMD8<UInt32>(repeating: 0), c3 = SIMD8<UInt32>(repeating: 0)
    var k0 = key[0], k1 = key[1]
    for round in 0..<10 {
        if round > 0 {
            k0 = k0 &+ 0x9E37_79B9
            k1 = k1 &+ 0xBB67_AE85
        }
        let p0 = SIMD8<UInt64>(truncatingIfNeeded: c0) &* 0xD251_1F53
        let p1 = SIMD8<UInt64>(truncatingIfNeeded: c2) &* 0xCD9E_8D57
        c0 = SIMD8<UInt32>(truncatingIfNeeded: p1 &>> 32) ^ c1 ^ k0
        c1 = SIMD8<UInt32>(truncatingIfNeeded: p1)
        c2 = SIMD8<UInt32>(truncatingIfNeeded: p0 &>> 32) ^ c3 ^ k1
        c3 = SIMD8<UInt32>(truncatingIfNeeded: p0)
    }
    return PhiloxLanes(w0: c0, w1: c1, w2: c2, w3: c3)
}

/// Writes `count` elements to `out` from groups of eight Philox blocks starting at block
/// `base`: group g is blocks `base + 8g ..< base + 8g + 8` and gives elements
/// `g·perGroup ..< (g+1)·perGroup` through `produce(lanes, firstElement, destination)`.
///
/// Element i depends only on (key, base, i), so groups are split into chunks on the
/// thread pool and the bits are the same for any split and any thread count.
@inline(__always)
func fillGroups<T>(_ out: UnsafeMutablePointer<T>, count: Int, perGroup: Int,
                   key: SIMD2<UInt32>, base: UInt64,
                   _ produce: (PhiloxLanes, Int, UnsafeMutablePointer<T>) -> Void) {
    let groups = (count + perGroup - 1) / perGroup
    ThreadPool.shared.parallelFor(groups, grain: max(1, ThreadPool.minParallelElements / perGroup)) { range in
        fillGroupRange(range, out, count: count, perGroup: perGroup, key: key, base: base, produce)
    }
}

/// The serial body of `fillGroups` for the groups `range` (tests call it with arbitrary
/// splits to check that the bits do not depend on them).
@inline(__always)
func fillGroupRange<T>(_ range: Range<Int>, _ out: UnsafeMutablePointer<T>, count: Int, perGroup: Int,
                       key: SIMD2<UInt32>, base: UInt64,
                       _ produce: (PhiloxLanes, Int, UnsafeMutablePointer<T>) -> Void) {
    for group in range {
        let lanes = philoxLanes(base &+ UInt64(group) &* 8, key: key)
        let first = group * perGroup
        if first + perGroup <= count {
            produce(lanes, first, out + first)
        } else {
            // The last, partial group: produce into scratch and keep what fits.
            withUnsafeTemporaryAllocation(of: T.self, capacity: perGroup) { scratch in
                produce(lanes, first, scratch.baseAddress!)
                for j in 0..<(count - first) { out[first + j] = scratch[j] }
            }
        }
    }
}

extension Generator {
    /// Reserves the blocks for `count` elements at `perGroup` elements per group of 8.
    func reserve(elements count: Int, perGroup: Int) -> (key: SIMD2<UInt32>, base: UInt64) {
        reserve(blocks: (count + perGroup - 1) / perGroup * 8)
    }
}

/// Stores a vector at a possibly unaligned element pointer.
@inline(__always)
func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

// MARK: vector bits to numbers

/// Floats in [0, 1) from the top 24 bits of each word (exact multiples of 2^-24).
@inline(__always)
func unitFloats(_ w: SIMD8<UInt32>) -> SIMD8<Float> {
    SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: w &>> 8)) * 0x1p-24
}

/// Floats in (0, 1]: the same grid shifted up one step, safe for logarithms.
@inline(__always)
func unitFloatsOpenZero(_ w: SIMD8<UInt32>) -> SIMD8<Float> {
    SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: w &>> 8) &+ 1) * 0x1p-24
}

/// Lane b of two word vectors as 64 bits (high word first).
@inline(__always)
func bits64(_ high: SIMD8<UInt32>, _ low: SIMD8<UInt32>, _ b: Int) -> UInt64 {
    UInt64(high[b]) << 32 | UInt64(low[b])
}

/// Standard normals from u1 in (0, 1] and u ∈ [0, 1) by Box–Muller, all lanes at once:
/// r = √(−2 ln u1), (r cos 2πu, r sin 2πu).
@inline(__always)
func boxMuller(_ u1: SIMD8<Float>, _ u: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
    let r = (-2 * vectorLog(u1)).squareRoot()
    let (s, c) = sinCosTwoPi(u)
    return (r * c, r * s)
}

/// ln x for normal positive x (Cephes `logf`: x = m·2^e with m in [√½, √2), a degree-9
/// polynomial in m − 1; about 1 ulp).
@inline(__always)
func vectorLog(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
    var e = SIMD8<Float>((bits &>> 23) &- 126)
    var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: SIMD8<Float>.self)
    let small = m .< 0.707106781186547524
    e = e.replacing(with: e - 1, where: small)
    m = m.replacing(with: m + m - 1, where: small).replacing(with: m - 1, where: .!small)
    let z = m * m
    var y = SIMD8<Float>(repeating: 7.0376836292e-2)
    y = y * m - 1.1514610310e-1
    y = y * m + 1.1676998740e-1
    y = y * m - 1.2420140846e-1
    y = y * m + 1.4249322787e-1
    y = y * m - 1.6668057665e-1
    y = y * m + 2.0000714765e-1
    y = y * m - 2.4999993993e-1
    y = y * m + 3.3333331174e-1
    y = y * m * z
    y += -2.12194440e-4 * e
    y += -0.5 * z
    return m + y + 0.693359375 * e
}

/// (sin 2πu, cos 2πu) for u in [0, 1): u is split exactly into a quarter turn q/4 and a
/// remainder in [−1/8, 1/8], whose angle in [−π/4, π/4] gets Cephes' sinf/cosf
/// polynomials; the quarter turn swaps and negates them.
@inline(__always)
func sinCosTwoPi(_ u: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
    // Round to the nearest quarter with the 1.5·2^23 trick (exact for 0 <= 4u <= 4),
    // which stays in vector registers where `rounded()` would not.
    let q = ((u * 4) + 0x1.8p23) - 0x1.8p23
    let a = (u - q * 0.25) * (2 * Float.pi)
    let z = a * a
    var sp = SIMD8<Float>(repeating: -1.9515295891e-4)
    sp = sp * z + 8.3321608736e-3
    sp = sp * z - 1.6666654611e-1
    let s = a + a * z * sp
    var cp = SIMD8<Float>(repeating: 2.443315711809948e-5)
    cp = cp * z - 1.388731625493765e-3
    cp = cp * z + 4.166664568298827e-2
    let c = 1 - 0.5 * z + z * z * cp
    // q is 0…4 (4 is a full turn, like 0): odd quarters swap sin and cos; quarters 2 and
    // 3 negate the sine, quarters 1 and 2 the cosine.
    let swap = (q .== 1) .| (q .== 3)
    var sine = s.replacing(with: c, where: swap)
    var cosine = c.replacing(with: s, where: swap)
    sine = sine.replacing(with: -sine, where: (q .== 2) .| (q .== 3))
    cosine = cosine.replacing(with: -cosine, where: (q .== 1) .| (q .== 2))
    return (sine, cosine)
}
