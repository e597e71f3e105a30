import Foundation
import XCTest
@testable import FathomTensor

/// The row walk of broadcast ops (rows of a few elements, parallel chunks that start and
/// end mid-row) and the middle-axis kernels of logsumexp and the fused softmax backward.
final class BroadcastPathTests: XCTestCase {
    /// Element-by-element reference of `a op b` under NumPy broadcasting (same rank).
    private func reference(_ a: Tensor, _ b: Tensor, _ op: (Double, Double) -> Double) -> [Double] {
        let shape = zip(a.shape, b.shape).map { Swift.max($0, $1) }
        let av = a.contiguous().doubles, bv = b.contiguous().doubles
        func flat(_ index: [Int], _ s: [Int]) -> Int {
            var i = 0
            for (k, size) in s.enumerated() { i = i * size + (size == 1 ? 0 : index[k]) }
            return i
        }
        var result: [Double] = []
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<shape.reduce(1, *) {
            result.append(op(av[flat(index, a.shape)], bv[flat(index, b.shape)]))
            var k = shape.count - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
        }
        return result
    }

    func testBroadcastRowsAcrossParallelChunks() {
        // 37·71·13 = 34,151 elements: two parallel chunks, split in the middle of a row of 13.
        let a = sample([37, 1, 13], offset: 0.2), b = sample([1, 71, 13], offset: -0.1)
        XCTAssertEqual((a + b).doubles, reference(a, b, +))
        XCTAssertEqual((a * b).doubles, reference(a, b, *))
        // Float32, four axes, the second operand a transposed (strided) view.
        let c = sample([2, 1, 5, 1, 31]).to(.float32)
        let d = sample([1, 21, 1, 31, 3]).to(.float32).permuted([0, 1, 2, 4, 3])
        let expected = reference(c.to(.float64), d.contiguous().to(.float64), -)
        let got = (c - d).doubles
        XCTAssertEqual(got.count, expected.count)
        for (x, y) in zip(got, expected) { XCTAssertEqual(x, y, accuracy: 1e-6) }
    }

    func testLogSumExpOverAMiddleAxisInSeveralBatches() {
        // 500 rows of 10 columns: several batches of rows per vector-exp call.
        let x = sample([2, 500, 10], scale: 3)
        let got = x.logsumexp(axis: 1).doubles
        let v = x.doubles
        for o in 0..<2 {
            for j in 0..<10 {
                let column = (0..<500).map { v[o * 5000 + $0 * 10 + j] }
                let m = column.max()!
                let expected = log(column.map { exp($0 - m) }.reduce(0, +)) + m
                XCTAssertEqual(got[o * 10 + j], expected, accuracy: 1e-12)
            }
        }
        let f = sample([3, 700, 5], scale: 3).to(.float32)
        let f64 = f.to(.float64).logsumexp(axis: 1).doubles
        for (a, b) in zip(f.logsumexp(axis: 1).doubles, f64) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    /// The fused backward along a middle axis (inner extents within and beyond one chunk of
    /// 256 columns) agrees with the tensor-op formula.
    func testFusedSoftmaxBackwardOverAMiddleAxis() {
        for shape in [[3, 5, 7], [2, 4, 300]] {
            let x = sample(shape), seed = sample(shape, offset: 0.5)
            for log in [false, true] {
                let f: (Tensor) -> Tensor = { log ? $0.logSoftmax(axis: 1) : $0.softmax(axis: 1) }
                let leaf = x.detach().requiringGrad()
                let fused = gradients(of: [f(leaf)], wrt: [leaf], seeds: [seed])[0].doubles
                let recorded = gradients(of: [f(leaf)], wrt: [leaf], seeds: [seed], createGraph: true)[0].doubles
                for (a, b) in zip(fused, recorded) { XCTAssertEqual(a, b, accuracy: 1e-13) }
            }
        }
    }
}
