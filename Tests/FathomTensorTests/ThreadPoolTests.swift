import XCTest
import Synchronization
@testable import FathomTensor

final class ThreadPoolTests: XCTestCase {
    override func tearDown() {
        ThreadPool.shared.threadCount = ThreadPool.defaultThreadCount()
    }

    func testChunkingDependsOnlyOnSizes() {
        XCTAssertEqual(ThreadPool.chunking(count: 100, grain: 100).chunks, 1)
        XCTAssertEqual(ThreadPool.chunking(count: 1000, grain: 100).chunks, 10)
        let big = ThreadPool.chunking(count: 10_000_001, grain: 1)
        XCTAssertLessThanOrEqual(big.chunks, ThreadPool.maxChunks)
        XCTAssertGreaterThanOrEqual(big.chunks * big.size, 10_000_001)
    }

    func testEveryIndexVisitedOnce() {
        for threads in [1, 2, 3] {
            ThreadPool.shared.threadCount = threads
            for (count, grain) in [(0, 1), (1, 1), (7, 1), (1000, 3), (100_003, 1000), (1 << 20, 16_384)] {
                let visits = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
                visits.initialize(repeating: 0, count: max(count, 1))
                defer { visits.deallocate() }
                ThreadPool.shared.parallelFor(count, grain: grain) { range in
                    for i in range { visits[i] &+= 1 }
                }
                XCTAssertTrue((0..<count).allSatisfy { visits[$0] == 1 }, "threads \(threads) count \(count) grain \(grain)")
            }
        }
    }

    func testUsesSeveralThreads() throws {
        ThreadPool.shared.threadCount = 2
        let seen = Mutex<Set<UInt>>([])
        for _ in 0..<50 {
            ThreadPool.shared.parallelFor(64, grain: 1) { _ in
                let me = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self()))))
                seen.withLock { _ = $0.insert(me) }
                // Long enough that the other thread claims chunks too.
                var x = 0.0
                for i in 0..<2000 { x += Double(i).squareRoot() }
                blackHole(x)
            }
        }
        XCTAssertEqual(seen.withLock { $0.count }, 2)
    }

    func testNestedCallsRunSerially() {
        ThreadPool.shared.threadCount = 2
        let total = Atomic<Int>(0)
        ThreadPool.shared.parallelFor(16, grain: 1) { outer in
            for _ in outer {
                ThreadPool.shared.parallelFor(1000, grain: 10) { inner in
                    total.add(inner.count, ordering: .relaxed)
                }
            }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 16_000)
    }

    func testParallelSumIsBitwiseDeterministic() {
        let n = 1_000_003
        let data = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { data.deallocate() }
        for i in 0..<n { data[i] = Float(sin(Double(i) * 0.37)) * 1000 + 1e-3 * Float(i % 17) }
        func parallelSum() -> Float {
            let (chunks, _) = ThreadPool.chunking(count: n, grain: 4096)
            let partials = UnsafeMutablePointer<Float>.allocate(capacity: chunks)
            defer { partials.deallocate() }
            let (_, size) = ThreadPool.chunking(count: n, grain: 4096)
            ThreadPool.shared.parallelFor(n, grain: 4096) { range in
                partials[range.lowerBound / size] = blockedSum(UnsafePointer(data + range.lowerBound), stride: 1, count: range.count)
            }
            var total: Float = 0
            for c in 0..<chunks { total += partials[c] }
            return total
        }
        ThreadPool.shared.threadCount = 1
        let one = parallelSum()
        ThreadPool.shared.threadCount = 2
        for _ in 0..<20 { XCTAssertEqual(parallelSum().bitPattern, one.bitPattern) }
        ThreadPool.shared.threadCount = 3
        XCTAssertEqual(parallelSum().bitPattern, one.bitPattern)
        // Tensor kernels too.
        let x = Tensor((0..<300_000).map { Float(sin(Double($0))) }, shape: [300_000])
        ThreadPool.shared.threadCount = 1
        let a = (x * x + x).scalars(as: Float.self)
        ThreadPool.shared.threadCount = 2
        XCTAssertEqual((x * x + x).scalars(as: Float.self), a)
    }

    func testThreadCountSettings() {
        setNumThreads(1)
        XCTAssertEqual(numThreads(), 1)
        XCTAssertEqual(BLAS.threadCount, 1)
        setNumThreads(2)
        XCTAssertEqual(ThreadPool.shared.threadCount, 2)
        // OpenBLAS follows the pool only when it runs its own threads; otherwise the pool
        // runs single-threaded OpenBLAS calls side by side.
        XCTAssertEqual(BLAS.threadCount, BLAS.threading == .pool ? 1 : 2)
        ThreadPool.shared.parkWorkers()
        var hits = 0
        ThreadPool.shared.parallelFor(4, grain: 1) { _ in }
        ThreadPool.shared.parallelFor(1, grain: 1) { _ in hits += 1 }
        XCTAssertEqual(hits, 1)
    }
}

@inline(never)
func blackHole<T>(_ x: T) { _ = x }
