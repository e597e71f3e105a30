import XCTest
@testable import FathomTensor

/// Expected strings are what PyTorch 2.x prints for the same tensors, with the Swift
/// spellings of the suffixes (`dtype=float64`, `requiresGrad=true`, `gradFn=<mul>`).
final class PrintingTests: XCTestCase {
    func testFixedWholeAndScientificNotation() {
        XCTAssertEqual(Tensor([1.5, 2.0] as [Float]).description, "tensor([1.5000, 2.0000])")
        XCTAssertEqual(Tensor([1, 2] as [Float]).description, "tensor([1., 2.])")
        XCTAssertEqual(Tensor.zeros([3]).description, "tensor([0., 0., 0.])")
        XCTAssertEqual(Tensor([-1.5, 2.25] as [Float]).description, "tensor([-1.5000,  2.2500])")
        XCTAssertEqual(Tensor([1e-5, 1] as [Float]).description, "tensor([1.0000e-05, 1.0000e+00])")
        XCTAssertEqual(Tensor([1e9, 1.5] as [Float]).description, "tensor([1.0000e+09, 1.5000e+00])")
        XCTAssertEqual(Tensor([1.5, .nan, .infinity] as [Float]).description, "tensor([1.5000,    nan,    inf])")
        XCTAssertEqual(Tensor([0, 1, .nan] as [Float]).description, "tensor([0., 1., nan])")
        XCTAssertEqual(Tensor(Float(3.5)).description, "tensor(3.5000)")
    }

    func testIntegersBoolsAndDTypeSuffix() {
        XCTAssertEqual(Tensor([1, -20, 3] as [Int64]).description, "tensor([  1, -20,   3])")
        XCTAssertEqual(Tensor([true, false]).description, "tensor([ true, false])")
        XCTAssertEqual(Tensor([Int64.max]).description, "tensor([9223372036854775807])")
        XCTAssertEqual(Tensor([1.5, 2.0, 3.0, 4.25], shape: [2, 2]).description,
                       "tensor([[1.5000, 2.0000],\n        [3.0000, 4.2500]], dtype=float64)")
    }

    func testEmptyTensors() {
        XCTAssertEqual(Tensor.zeros([0]).description, "tensor([])")
        XCTAssertEqual(Tensor.zeros([2, 0]).description, "tensor([], size=[2, 0])")
        XCTAssertEqual(Tensor.zeros([0], dtype: .int64).description, "tensor([], dtype=int64)")
    }

    func testHigherRankAndStridedViews() {
        let x = Tensor.arange(0, 8, dtype: .float32).reshaped([2, 2, 2])
        XCTAssertEqual(x.description, """
            tensor([[[0., 1.],
                     [2., 3.]],

                    [[4., 5.],
                     [6., 7.]]])
            """)
        // A transposed view prints its logical order.
        XCTAssertEqual(Tensor.arange(0, 4, dtype: .float32).reshaped([2, 2]).T.description,
                       "tensor([[0., 2.],\n        [1., 3.]])")
    }

    func testLineWrappingAndSuffixWrapping() {
        let x = Tensor.arange(0, 12, dtype: .float32) + 0.5
        XCTAssertEqual(x.description, """
            tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,
                     8.5000,  9.5000, 10.5000, 11.5000])
            """)
        let y = Tensor.arange(0, 8, dtype: .float64) + 0.5
        XCTAssertEqual(y.description, """
            tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000, 7.5000],
                   dtype=float64)
            """)
    }

    func testSummarization() {
        XCTAssertEqual(Tensor.arange(2000).description, "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])")
        XCTAssertEqual(Tensor.arange(0, 2000, dtype: .float32).description, """
            tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,
                    1.9990e+03])
            """)
        XCTAssertEqual(Tensor.zeros([100, 100]).description, """
            tensor([[0., 0., 0.,  ..., 0., 0., 0.],
                    [0., 0., 0.,  ..., 0., 0., 0.],
                    [0., 0., 0.,  ..., 0., 0., 0.],
                    ...,
                    [0., 0., 0.,  ..., 0., 0., 0.],
                    [0., 0., 0.,  ..., 0., 0., 0.],
                    [0., 0., 0.,  ..., 0., 0., 0.]])
            """)
        // Exactly at the threshold nothing is elided.
        XCTAssertFalse(Tensor.zeros([1000]).description.contains("..."))
    }

    func testAutogradSuffixes() {
        let w = Tensor([1.0, 2.0] as [Float]).requiringGrad()
        XCTAssertEqual(w.description, "tensor([1., 2.], requiresGrad=true)")
        XCTAssertEqual((w * w).description, "tensor([1., 4.], gradFn=<mul>)")
        XCTAssertEqual(noGrad { w * w }.description, "tensor([1., 4.])")
        XCTAssertEqual(Tensor([0.5]).requiringGrad().description, "tensor([0.5000], dtype=float64, requiresGrad=true)")
    }
}
