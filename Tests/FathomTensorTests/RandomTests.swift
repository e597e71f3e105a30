import Foundation
import XCTest
@testable import FathomTensor

final class RandomTests: XCTestCase {
    // MARK: the generator

    func testPhiloxMatchesRandom123KnownAnswers() {
        // kat_vectors of Random123 (philox4x32 10): counter, key, expected output.
        let cases: [(SIMD4<UInt32>, SIMD2<UInt32>, SIMD4<UInt32>)] = [
            (SIMD4(0, 0, 0, 0), SIMD2(0, 0), SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
            (SIMD4(repeating: 0xffff_ffff), SIMD2(repeating: 0xffff_ffff),
             SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)),
            (SIMD4(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), SIMD2(0xa409_3822, 0x299f_31d0),
             SIMD4(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)),
        ]
        for (counter, key, expected) in cases {
            XCTAssertEqual(philox4x32_10(counter, key: key), expected)
        }
    }

    func testSameSeedSameBitsAndSuccessiveDrawsDiffer() {
        for dtype in [DType.float32, .float64] {
            XCTAssertEqual(Tensor.randn([5, 7], dtype: dtype, seed: 3).doubles, Tensor.randn([5, 7], dtype: dtype, seed: 3).doubles)
            XCTAssertNotEqual(Tensor.randn([5, 7], dtype: dtype, seed: 3).doubles, Tensor.randn([5, 7], dtype: dtype, seed: 4).doubles)
        }
        let g = Generator(seed: 9)
        let a = Tensor.rand([16], generator: g), b = Tensor.rand([16], generator: g)
        XCTAssertNotEqual(a.doubles, b.doubles)
        XCTAssertEqual(g.state, Generator.State(seed: 9, offset: 16), "each float32 draw of up to 32 elements uses 8 blocks")
        // Seeds differing only in the high 32 bits give different streams (both key words are used).
        XCTAssertNotEqual(Tensor.rand([8], seed: 1).doubles, Tensor.rand([8], seed: 1 | 1 << 32).doubles)
    }

    func testManualSeedResetsTheDefaultGenerator() {
        manualSeed(1234)
        let a = Tensor.randn([10])
        let b = Tensor.randint(high: 100, [10])
        manualSeed(1234)
        XCTAssertEqual(Tensor.randn([10]).doubles, a.doubles)
        XCTAssertEqual(Tensor.randint(high: 100, [10]).doubles, b.doubles)
        XCTAssertEqual(Tensor.randn([10], seed: 1234).doubles, a.doubles, "a seed overload is a fresh generator")
    }

    func testStateSavesAndResumesExactly() throws {
        let g = Generator(seed: 77)
        _ = Tensor.randn([13], generator: g)
        let saved = g.state
        let data = try JSONEncoder().encode(saved)
        let next = Tensor.truncatedNormal([9], dtype: .float64, generator: g).doubles
        let restored = Generator(state: try JSONDecoder().decode(Generator.State.self, from: data))
        XCTAssertEqual(Tensor.truncatedNormal([9], dtype: .float64, generator: restored).doubles, next)
        g.state = saved
        XCTAssertEqual(Tensor.truncatedNormal([9], dtype: .float64, generator: g).doubles, next)
    }

    /// Element i of a draw is a pure function of (seed, offset, i): a draw equals the
    /// concatenation of draws started at the matching offsets (every 32 float32 or 16
    /// float64/int64 elements use 8 blocks). This is what makes the parallel fill
    /// independent of the thread count.
    func testDrawsArePositionIndependent() {
        func check(_ name: String, perGroup: Int, _ draw: (Int, Generator) -> Tensor) {
            let whole = draw(1000, Generator(seed: 5)).doubles
            let head = draw(224, Generator(seed: 5)).doubles
            let tail = draw(776, Generator(state: .init(seed: 5, offset: UInt64(224 / perGroup * 8)))).doubles
            XCTAssertEqual(whole, head + tail, name)
            // A shorter draw is a prefix of a longer one.
            XCTAssertEqual(Array(whole[..<37]), draw(37, Generator(seed: 5)).doubles, name)
        }
        check("rand f32", perGroup: 32) { Tensor.rand([$0], generator: $1) }
        check("rand f64", perGroup: 16) { Tensor.rand([$0], dtype: .float64, generator: $1) }
        check("randn f32", perGroup: 32) { Tensor.randn([$0], generator: $1) }
        check("randn f64", perGroup: 16) { Tensor.randn([$0], dtype: .float64, generator: $1) }
        check("truncated", perGroup: 16) { Tensor.truncatedNormal([$0], generator: $1) }
        check("randint", perGroup: 16) { Tensor.randint(low: -5, high: 5, [$0], generator: $1) }
        check("bernoulli", perGroup: 32) { Tensor.bernoulli([$0], p: 0.4, generator: $1) }
    }

    /// The eight-lane Philox gives the same bits as eight scalar calls.
    func testPhiloxLanesMatchScalarBlocks() {
        let key = SIMD2<UInt32>(0xdead_beef, 0x1234_5678)
        for first: UInt64 in [0, 7, 0xffff_fffc, 1 << 40] {
            let lanes = philoxLanes(first, key: key)
            for b in 0..<8 {
                let words = philoxBlock(first + UInt64(b), key: key)
                XCTAssertEqual(SIMD4(lanes.w0[b], lanes.w1[b], lanes.w2[b], lanes.w3[b]), words, "block \(first + UInt64(b))")
            }
        }
    }

    /// Any split of the groups into chunks (as threads would take them) gives the same bits.
    func testAnyChunkingGivesTheSameBits() {
        let n = 1003, perGroup = 32
        let key = SIMD2<UInt32>(11, 22)
        let produce: (PhiloxLanes, Int, UnsafeMutablePointer<Float>) -> Void = { l, _, o in
            store(unitFloats(l.w0), o); store(unitFloats(l.w1), o + 8)
            store(unitFloats(l.w2), o + 16); store(unitFloats(l.w3), o + 24)
        }
        var reference = [Float](repeating: 0, count: n)
        reference.withUnsafeMutableBufferPointer {
            fillGroups($0.baseAddress!, count: n, perGroup: perGroup, key: key, base: 40, produce)
        }
        let groups = (n + perGroup - 1) / perGroup
        for cuts in [[0, groups], [0, 1, groups], [0, 7, 20, 21, groups], [0, groups - 1, groups]] {
            var chunked = [Float](repeating: -1, count: n)
            chunked.withUnsafeMutableBufferPointer { buffer in
                // Later chunks first, as another thread might run them.
                for k in stride(from: cuts.count - 2, through: 0, by: -1) {
                    fillGroupRange(cuts[k]..<cuts[k + 1], buffer.baseAddress!, count: n, perGroup: perGroup,
                                   key: key, base: 40, produce)
                }
            }
            XCTAssertEqual(chunked, reference, "cuts \(cuts)")
        }
    }

    /// The vector log and sin/cos of Box–Muller agree with libm to a few ulps.
    func testVectorMathAgainstLibm() {
        var worstLog: Float = 0, worstTrig: Float = 0
        for i in 0..<(1 << 14) {
            // u on the 2^-24 grid across (0, 1], with dense coverage near 0 and 1.
            let k = UInt32(i) &* 1_023 &+ UInt32(i % 3 == 0 ? 0 : (1 << 24) - 20_000)
            let u = Float((k % (1 << 24)) + 1) * 0x1p-24
            let got = vectorLog(SIMD8(repeating: u))[0]
            let want = Float(Foundation.log(Double(u)))
            worstLog = max(worstLog, abs(got - want) / max(want.ulp, Float.leastNormalMagnitude))
            let v = u == 1 ? 0 : u
            let (s, c) = sinCosTwoPi(SIMD8(repeating: v))
            let angle = 2 * Double.pi * Double(v)
            worstTrig = max(worstTrig, abs(s[0] - Float(sin(angle))) / Float(1).ulp, abs(c[0] - Float(cos(angle))) / Float(1).ulp)
        }
        XCTAssertLessThanOrEqual(worstLog, 2, "log error in ulps")
        XCTAssertLessThanOrEqual(worstTrig, 2, "sin/cos error in units of 2^-23 (absolute)")
    }

    // MARK: distributions

    private func moments(_ t: Tensor) -> (mean: Double, std: Double) {
        let x = t.doubles
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
        return (mean, variance.squareRoot())
    }

    func testUniformStatistics() {
        let n = 100_000
        for dtype in [DType.float32, .float64] {
            let u = Tensor.rand([n], dtype: dtype, seed: 1)
            XCTAssertEqual(u.dtype, dtype)
            let x = u.doubles
            XCTAssertTrue(x.allSatisfy { $0 >= 0 && $0 < 1 })
            let (mean, std) = moments(u)
            XCTAssertEqual(mean, 0.5, accuracy: 0.005)
            XCTAssertEqual(std, (1.0 / 12).squareRoot(), accuracy: 0.003)
            let v = Tensor.uniform([n], low: -3, high: 5, dtype: dtype, seed: 2)
            XCTAssertTrue(v.doubles.allSatisfy { $0 >= -3 && $0 < 5 })
            XCTAssertEqual(moments(v).mean, 1, accuracy: 0.04)
        }
        // A degenerate interval gives its one value.
        XCTAssertEqual(Tensor.uniform([3], low: 2, high: 2, seed: 0).doubles, [2, 2, 2])
    }

    func testNormalStatistics() {
        let n = 100_000
        for dtype in [DType.float32, .float64] {
            let (mean, std) = moments(Tensor.randn([n], dtype: dtype, seed: 10))
            XCTAssertEqual(mean, 0, accuracy: 0.015)
            XCTAssertEqual(std, 1, accuracy: 0.012)
            let (m2, s2) = moments(Tensor.normal([n], mean: 3, std: 0.5, dtype: dtype, seed: 11))
            XCTAssertEqual(m2, 3, accuracy: 0.008)
            XCTAssertEqual(s2, 0.5, accuracy: 0.006)
            // Tail mass: P(|z| > 2) = 0.0455.
            let beyond = Tensor.randn([n], dtype: dtype, seed: 12).doubles.filter { abs($0) > 2 }.count
            XCTAssertEqual(Double(beyond) / Double(n), 0.0455, accuracy: 0.004)
        }
    }

    func testTruncatedNormalBoundsAndMoments() {
        let n = 100_000
        func expected(_ a: Double, _ b: Double) -> (mean: Double, std: Double) {
            // Moments of the standard normal truncated to [a, b] (by symmetry from the
            // lower tail, where Φ does not round to 1).
            if a > 0 {
                let mirrored = expected(-b, -a)
                return (-mirrored.mean, mirrored.std)
            }
            let phi = { (x: Double) in exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
            let cdf = { (x: Double) in 0.5 * erfc(-x / 2.0.squareRoot()) }
            let z = cdf(b) - cdf(a)
            let mean = (phi(a) - phi(b)) / z
            let aphi = a.isFinite ? a * phi(a) : 0, bphi = b.isFinite ? b * phi(b) : 0
            let variance = 1 + (aphi - bphi) / z - mean * mean
            return (mean, variance.squareRoot())
        }
        for (a, b) in [(-2.0, 2.0), (0.0, Double.infinity), (-1.0, 0.5), (5.0, 6.0), (-9.0, -8.5), (12.0, 13.0)] {
            for dtype in [DType.float32, .float64] {
                let t = Tensor.truncatedNormal([n], a: a, b: b, dtype: dtype, seed: 21)
                XCTAssertTrue(t.doubles.allSatisfy { $0 >= a && $0 <= b }, "[\(a), \(b)] \(dtype)")
                let (mean, std) = moments(t)
                let want = expected(a, b)
                XCTAssertEqual(mean, want.mean, accuracy: 0.01 * max(want.std, 0.05) * 5, "mean on [\(a), \(b)]")
                XCTAssertEqual(std, want.std, accuracy: 0.02 * want.std, "std on [\(a), \(b)]")
            }
        }
        // Mean and std shift and scale the bounds in absolute units, as in PyTorch.
        let t = Tensor.truncatedNormal([n], mean: 10, std: 2, a: 8, b: 14, dtype: .float64, seed: 3)
        XCTAssertTrue(t.doubles.allSatisfy { $0 >= 8 && $0 <= 14 })
        let want = expected(-1, 2)
        XCTAssertEqual(moments(t).mean, 10 + 2 * want.mean, accuracy: 0.02)
    }

    func testTruncatedNormalErrors() {
        XCTAssertThrowsError(try Tensor.validateTruncation(mean: 0, std: 1, a: 2, b: 1)) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.truncatedNormal: needs bounds a < b, got a = 2.0, b = 1.0 (the bounds are absolute values, not multiples of std)")
        }
        XCTAssertThrowsError(try Tensor.validateTruncation(mean: 0, std: 0, a: -1, b: 1))
        XCTAssertThrowsError(try Tensor.validateTruncation(mean: 0, std: 1, a: 50, b: 60))
        XCTAssertNoThrow(try Tensor.validateTruncation(mean: 0, std: 1, a: 30, b: 31))
    }

    func testInverseErrorFunctionAgainstSciPy() {
        // scipy.special.erfinv / erfcinv / ndtri (SciPy 1.17).
        let erfinv: [(Double, Double)] = [
            (1e-10, 8.862269254527581e-11), (0.1, 0.08885599049425769), (0.5, 0.4769362762044699),
            (-0.75, -0.8134198475976184), (0.9, 1.1630871536766743), (0.999999, 3.458910737275499),
            (0.999999999999, 5.042031898572696),
        ]
        for (y, x) in erfinv { XCTAssertEqual(inverseErf(y), x, accuracy: 4e-16 * max(1, abs(x)), "erfinv(\(y))") }
        let erfcinv: [(Double, Double)] = [
            (1e-300, 26.209469960516124), (1e-100, 15.065574702592647), (1e-20, 6.601580622355143),
            (0.3, 0.7328690779592171), (1.7, -0.7328690779592171), (1.9999999999, -4.572824958544925),
        ]
        for (z, x) in erfcinv { XCTAssertEqual(inverseErfc(z), x, accuracy: 4e-16 * max(1, abs(x)), "erfcinv(\(z))") }
        XCTAssertEqual(normalQuantile(1e-200), -30.20559417957964, accuracy: 1e-13)
        XCTAssertEqual(normalQuantile(0.975), 1.959963984540054, accuracy: 1e-15)
        XCTAssertEqual(normalQuantile(0.5), 0)
        XCTAssertEqual(normalQuantile(0.025), -1.9599639845400545, accuracy: 1e-15)
        XCTAssertEqual(normalQuantile(0), -.infinity)
        XCTAssertEqual(normalQuantile(1), .infinity)
        // AS 241 and the Halley-refined erfc⁻¹ are independent: they agree everywhere.
        for k in 1...300 {
            for p in [pow(10, -Double(k)), Double(k) / 301, 1 - Double(k) / 1e4] {
                let viaErfc = -(2.0.squareRoot()) * inverseErfc(2 * p)
                XCTAssertEqual(normalQuantile(p), viaErfc, accuracy: 4e-15 * max(1, abs(viaErfc)), "Φ⁻¹(\(p))")
            }
        }
        XCTAssertEqual(inverseErf(1), .infinity)
        XCTAssertEqual(inverseErf(-1), -.infinity)
        XCTAssertTrue(inverseErf(1.5).isNaN)
        // Round trips over a grid, to within what rounding the argument itself allows:
        // a few ulps of y divided by the slope 2/√π·exp(−x²).
        for i in -80...80 {
            let x = Double(i) / 10
            let slope = 2 / Double.pi.squareRoot() * exp(-x * x)
            let y = erf(x), z = erfc(x)
            // (Where erf rounds to ±1 or erfc to 0 or 2 the inverse is ±∞, as it should be.)
            if abs(y) < 1 { XCTAssertEqual(inverseErf(y), x, accuracy: 4 * y.ulp / slope + 2 * x.ulp, "erfinv(erf(\(x)))") }
            if z > 0 && z < 2 { XCTAssertEqual(inverseErfc(z), x, accuracy: 4 * z.ulp / slope + 2 * x.ulp, "erfcinv(erfc(\(x)))") }
        }
    }

    func testBernoulli() {
        let n = 100_000
        let draws = Tensor.bernoulli([n], p: 0.3, seed: 4)
        XCTAssertEqual(draws.dtype, .float32)
        XCTAssertTrue(draws.doubles.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertEqual(moments(draws).mean, 0.3, accuracy: 0.0075)
        XCTAssertEqual(Tensor.bernoulli([100], p: 0, seed: 1).doubles, [Double](repeating: 0, count: 100))
        XCTAssertEqual(Tensor.bernoulli([100], p: 1, seed: 1).doubles, [Double](repeating: 1, count: 100))
        XCTAssertEqual(Tensor.bernoulli([4], p: 1, dtype: .bool, seed: 1).scalars(as: Bool.self), [true, true, true, true])
        // Per-element probabilities.
        let p = Tensor([0.0, 1.0, 0.5, 0.9], shape: [1, 4]).expanded(to: [n / 4, 4])
        let x = Tensor.bernoulli(p, generator: Generator(seed: 8))
        XCTAssertEqual(x.shape, [n / 4, 4])
        XCTAssertEqual(x.dtype, .float64)
        let rates = x.mean(axis: 0).doubles
        XCTAssertEqual(rates[0], 0)
        XCTAssertEqual(rates[1], 1)
        XCTAssertEqual(rates[2], 0.5, accuracy: 0.016)
        XCTAssertEqual(rates[3], 0.9, accuracy: 0.01)
    }

    func testRandint() {
        let x = Tensor.randint(low: -3, high: 4, [70_000], seed: 6)
        XCTAssertEqual(x.dtype, .int64)
        let values = x.scalars(as: Int64.self)
        XCTAssertTrue(values.allSatisfy { $0 >= -3 && $0 < 4 })
        for v in -3..<4 {
            let share = Double(values.filter { $0 == v }.count) / 70_000
            XCTAssertEqual(share, 1.0 / 7, accuracy: 0.007, "value \(v)")
        }
        // The full int64 range works without overflow.
        let wide = Tensor.randint(low: Int.min, high: Int.max, [1000], seed: 2).scalars(as: Int64.self)
        XCTAssertTrue(wide.contains { $0 < 0 } && wide.contains { $0 > 0 })
    }

    func testRandperm() {
        for n in [0, 1, 2, 10, 1001] {
            let p = Tensor.randperm(n, seed: UInt64(n)).scalars(as: Int64.self)
            XCTAssertEqual(p.sorted(), (0..<Int64(n)).map { $0 }, "randperm(\(n)) is a permutation")
        }
        XCTAssertEqual(Tensor.randperm(50, seed: 3).doubles, Tensor.randperm(50, seed: 3).doubles)
        XCTAssertNotEqual(Tensor.randperm(50, seed: 3).doubles, Tensor.randperm(50, seed: 4).doubles)
        // Each of the 6 orders of 3 items is about equally likely.
        let g = Generator(seed: 99)
        var counts: [[Int64]: Int] = [:]
        for _ in 0..<6000 { counts[Tensor.randperm(3, generator: g).scalars(as: Int64.self), default: 0] += 1 }
        XCTAssertEqual(counts.count, 6)
        for (order, c) in counts { XCTAssertEqual(Double(c), 1000, accuracy: 130, "order \(order)") }
    }

    func testGeneratorDrivesSwiftRandomAPIs() {
        var a = Generator(seed: 5), b = Generator(seed: 5)
        XCTAssertEqual(Array(0..<20).shuffled(using: &a), Array(0..<20).shuffled(using: &b))
        XCTAssertEqual(a.state.offset, b.state.offset)
    }
}
