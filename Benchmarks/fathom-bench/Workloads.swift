import Fathom

/// One benchmark figure: what to run once, and how its time becomes the reported value.
struct Workload {
    let key: String
    let unit: String
    /// Seconds per run of `body` -> the figure (a rate or a per-operation time).
    let value: (Double) -> Double
    let body: () -> Void
}

/// Deterministic pseudo-random floats in [-1, 1).
func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<n).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 11) % (1 << 24)) / Float(1 << 23) - 1
    }
}

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    Tensor(randomFloats(shape.reduce(1, *), seed: seed), shape: shape)
}

/// `m×k×n` SGEMM: `[m, k] · [k, n]`, operands given as built by `make`.
func gemmWorkload(_ key: String, m: Int, k: Int, n: Int, _ operands: () -> (Tensor, Tensor)) -> Workload {
    let (a, b) = operands()
    precondition(a.shape == [m, k] && b.shape == [k, n])
    return Workload(key: key, unit: "GFLOP/s", value: { 2 * Double(m * k * n) / $0 / 1e9 }) {
        blackHole(a.matmul(b))
    }
}

func coreWorkloads() -> [Workload] {
    var list: [Workload] = []
    for size in [256, 512, 1024, 2048] {
        list.append(gemmWorkload("sgemm_\(size)_gflops", m: size, k: size, n: size) {
            (randomTensor([size, size], seed: 1), randomTensor([size, size], seed: 2))
        })
    }
    // An MLP layer on MNIST at batch 128: forward x·W, then the two backward products
    // (xᵀ·g for the weight, g·Wᵀ for the input) on transposed views, as autodiff runs them.
    let x = randomTensor([128, 784], seed: 3), w = randomTensor([784, 512], seed: 4)
    let g = randomTensor([128, 512], seed: 5)
    list.append(gemmWorkload("sgemm_128x784x512_gflops", m: 128, k: 784, n: 512) { (x, w) })
    list.append(gemmWorkload("sgemm_784x128x512_gflops", m: 784, k: 128, n: 512) { (x.T, g) })
    list.append(gemmWorkload("sgemm_128x512x784_gflops", m: 128, k: 512, n: 784) { (g, w.T) })

    // Elementwise on 4M float32; GB/s counts bytes read plus bytes written.
    let count = 4 << 20
    let p = randomTensor([count], seed: 6), q = randomTensor([count], seed: 7)
    let bytes = Double(count * 4)
    list.append(Workload(key: "add_4m_gbps", unit: "GB/s", value: { 3 * bytes / $0 / 1e9 }) { blackHole(p + q) })
    list.append(Workload(key: "mul_4m_gbps", unit: "GB/s", value: { 3 * bytes / $0 / 1e9 }) { blackHole(p * q) })
    list += unaryWorkloads(p, bytes: bytes)
    // Reference: the same multiply as a plain loop over raw buffers on the pool (no Tensor,
    // no allocation): what the pool and the memory system allow.
    let rawA = UnsafeMutablePointer<Float>.allocate(capacity: count), rawB = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let rawC = UnsafeMutablePointer<Float>.allocate(capacity: count)
    rawA.initialize(repeating: 1.5, count: count); rawB.initialize(repeating: 0.5, count: count); rawC.initialize(repeating: 0, count: count)
    list.append(Workload(key: "raw_mul_4m_gbps", unit: "GB/s", value: { 3 * bytes / $0 / 1e9 }) {
        ThreadPool.shared.parallelFor(count, grain: ThreadPool.minParallelElements) { range in
            for i in range { rawC[i] = rawA[i] * rawB[i] }
        }
    })

    // Eager overhead: 10,000 adds of 4-element tensors, reported per operation.
    let small = Tensor([1, 2, 3, 4] as [Float]), other = Tensor([0.5, 0.25, 0.125, 1] as [Float])
    let smallGrad = Tensor([1, 2, 3, 4] as [Float]).requiringGrad()
    let ops = 10_000
    list.append(Workload(key: "eager_add_4_forward_us", unit: "µs/op", value: { $0 / Double(ops) * 1e6 }) {
        for _ in 0..<ops { blackHole(small + other) }
    })
    list.append(Workload(key: "eager_add_4_tape_us", unit: "µs/op", value: { $0 / Double(ops) * 1e6 }) {
        for _ in 0..<ops { blackHole(smallGrad + other) }
    })
    // Pool fork/join: a two-chunk job with an empty body.
    let joins = 10_000
    list.append(Workload(key: "fork_join_us", unit: "µs", value: { $0 / Double(joins) * 1e6 }) {
        for _ in 0..<joins { ThreadPool.shared.parallelFor(2, grain: 1) { _ in } }
    })
    list += convWorkloads()
    list += stepWorkloads()
    list += broadcastWorkloads()
    return list
}

@inline(never)
func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }
