import XCTest
@testable import FathomTensor

/// The same inputs give the same bits with 1 and 2 threads: reductions split work by
/// sizes only, never by the thread count.
final class DeterminismTests: XCTestCase {
    /// Runs `body` with the pool at `threads` threads, restoring the old count.
    private func with<R>(threads: Int, _ body: () -> R) -> R {
        let saved = ThreadPool.shared.threadCount
        ThreadPool.shared.threadCount = threads
        defer { ThreadPool.shared.threadCount = saved }
        return body()
    }

    private func bits(_ t: Tensor) -> [UInt32] { t.scalars(as: Float.self).map(\.bitPattern) }

    func testSumsAreBitwiseIdenticalForAnyThreadCount() {
        let n = 3_000_000
        let x = Tensor((0..<n).map { Float(sin(Double($0) * 0.001)) * 1e3 + 0.1 }, shape: [n])
        let matrix = x.reshaped([1500, 2000])
        let cases: [(String, () -> Tensor)] = [
            ("full sum", { x.sum() }),
            ("axis 0", { matrix.sum(axis: 0) }),
            ("axis 1", { matrix.sum(axis: 1) }),
            ("axis 0 of a tall matrix", { x.reshaped([750_000, 4]).sum(axis: 0) }),
            ("transposed", { matrix.T.sum(axis: 1) }),
            ("mean", { matrix.mean(axes: [0, 1]) }),
            ("variance", { matrix.variance(axis: 0) }),
            ("logsumexp", { matrix.logsumexp(axis: 1) }),
            ("softmax", { matrix.softmax(axis: 0) }),
            ("norm", { matrix.norm(axis: 1) }),
        ]
        for (name, op) in cases {
            let one = with(threads: 1, op), two = with(threads: 2, op)
            XCTAssertEqual(bits(one), bits(two), name)
        }
    }
}
