import Foundation
import XCTest
@testable import FathomTensor

final class PoolingTests: XCTestCase {
    private func pair(_ c: FixtureCase, _ name: String) -> Size2 {
        Size2(Int(c.params[name + "_h"] ?? 0), Int(c.params[name + "_w"] ?? 0))
    }

    func testAgainstNumPy() throws {
        let cases = try loadFixtures("pooling")
        XCTAssertEqual(cases.count, 19)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let x = c.inputs[0].tensor
            func run(_ x: Tensor) -> Tensor {
                if name.hasPrefix("max_") {
                    return maxPool2d(x, kernelSize: pair(c, "k"), stride: pair(c, "s"), padding: pair(c, "p"),
                                     dilation: pair(c, "d"), ceilMode: c.params["ceil"] == 1)
                } else if name.hasPrefix("avg_") {
                    return avgPool2d(x, kernelSize: pair(c, "k"), stride: pair(c, "s"), padding: pair(c, "p"),
                                     ceilMode: c.params["ceil"] == 1, countIncludePad: c.params["include_pad"] == 1,
                                     divisorOverride: c.params["divisor"].map { Int($0) })
                } else {
                    return adaptiveAvgPool2d(x, outputSize: pair(c, "out"))
                }
            }
            assertMatches(run(x), c.output, rtol: 1e-12, atol: 1e-12, name)
            assertMatches(run(x.to(.float32)), c.output, rtol: 1e-5, atol: 1e-5, name + " (float32)")
            // 3-d input [C, H, W] gives the same as a batch of one.
            assertMatches(run(x[0]).unsqueezed(axis: 0), FixtureTensor.first(of: c.output), rtol: 1e-12, atol: 1e-12,
                          name + " (3-d)")
        }
    }

    func testMaxPoolIndicesAndTies() {
        let x = Tensor([1, 5, 5, 2, 0, 3, 3, 1, 7, 7, 0, 0, 4, 4, 4, 4] as [Double], shape: [1, 1, 4, 4])
        let (values, indices) = maxPool2dWithIndices(x, kernelSize: 2)
        XCTAssertEqual(values.doubles, [5, 5, 7, 4])
        // The first maximum in row-major order, as PyTorch picks.
        XCTAssertEqual(indices.doubles, [1, 2, 8, 14])
        let nan = Tensor([1, .nan, 3, 2] as [Double], shape: [1, 1, 2, 2])
        XCTAssertTrue(maxPool2d(nan, kernelSize: 2).item().isNaN)
    }

    func testGradients() {
        // Distinct values (no ties), so max pooling is differentiable at the sample point.
        let x = sample([2, 2, 6, 5])
        checkGradients([x]) { maxPool2d($0[0], kernelSize: 2) }
        checkGradients([x]) { maxPool2d($0[0], kernelSize: 3, stride: 2, padding: 1) }
        checkGradients([x]) { maxPool2d($0[0], kernelSize: [2, 3], stride: [1, 2], dilation: [2, 1], ceilMode: true) }
        checkGradients([x]) { avgPool2d($0[0], kernelSize: 3, stride: 2, padding: 1) }
        checkGradients([x]) { avgPool2d($0[0], kernelSize: 2, ceilMode: true, countIncludePad: false) }
        checkGradients([x]) { avgPool2d($0[0], kernelSize: [2, 3], stride: 1, divisorOverride: 4) }
        checkGradients([x]) { adaptiveAvgPool2d($0[0], outputSize: [4, 3]) }
        checkGradients([x]) { adaptiveAvgPool2d($0[0], outputSize: 1) }
    }

    func testSecondOrder() {
        let x = sample([1, 2, 5, 6])
        checkSecondOrder([x]) { xs in
            let y = maxPool2d(xs[0], kernelSize: 2, stride: 1)
            return y * y * y
        }
        checkSecondOrder([x]) { xs in
            let y = avgPool2d(xs[0], kernelSize: 3, stride: 2, padding: 1)
            return y * y * y
        }
        checkSecondOrder([x]) { xs in
            let y = adaptiveAvgPool2d(xs[0] * xs[0], outputSize: [2, 4])
            return y * y
        }
        // The backward ops are themselves differentiated (the scatter's backward is a gather).
        checkSecondOrder([x, sample([1, 2, 3, 3], offset: 0.2)]) { xs in
            let y = maxPool2d(xs[0], kernelSize: 2, ceilMode: true)
            return (y * xs[1]).square()
        }
    }

    func testErrorMessages() {
        func message(_ body: () throws(TensorError) -> Any) -> String {
            do { _ = try body(); return "" } catch { return error.description }
        }
        XCTAssertEqual(message { () throws(TensorError) in try maxPool2dWithIndices(validating: Tensor.zeros([4, 4]), kernelSize: 2) },
                       "Fathom.maxPool2d: input has shape [4, 4]; it must be [N, C, H, W] or [C, H, W]")
        XCTAssertEqual(message { () throws(TensorError) in try avgPool2d(validating: Tensor.zeros([1, 1, 4, 4]), kernelSize: 2, padding: 2) },
                       "Fathom.avgPool2d: padding (2, 2) must be between 0 and half the kernel size (2, 2)")
        XCTAssertTrue(message { () throws(TensorError) in try maxPool2dWithIndices(validating: Tensor.zeros([1, 1, 2, 2]), kernelSize: 3) }
            .contains("input [1, 1, 2, 2] is smaller than the window (3, 3)"))
        XCTAssertTrue(message { () throws(TensorError) in try adaptiveAvgPool2d(validating: Tensor.zeros([1, 1, 2, 2]), outputSize: [0, 1]) }
            .contains("outputSize (0, 1) must be at least 1"))
        XCTAssertTrue(message { () throws(TensorError) in try avgPool2d(validating: Tensor.zeros([1, 1, 4, 4], dtype: .int64), kernelSize: 2) }
            .contains("needs a float32 or float64 input, got int64"))
    }

    func testDeterministicAcrossThreadCounts() {
        let saved = numThreads()
        defer { setNumThreads(saved) }
        let x = sample([8, 16, 20, 20]).to(.float32)
        func run() -> [[Float]] {
            let xi = x.detach().requiringGrad()
            let y = maxPool2d(xi, kernelSize: 3, stride: 2, padding: 1) + avgPool2d(xi, kernelSize: 3, stride: 2, padding: 1)
            (y * y).sum().backward()
            return [y.scalars(as: Float.self), xi.grad!.scalars(as: Float.self)]
        }
        setNumThreads(1)
        let one = run()
        setNumThreads(2)
        XCTAssertEqual(run(), one)
    }
    /// The no-padding fast path keeps the general loop's rules: first maximum wins on ties,
    /// and the first NaN of a window wins over everything.
    func testMaxPoolWithoutPaddingMatchesReferenceOnTiesAndNaN() {
        let (n, c, h, w) = (2, 3, 7, 9)
        var data = (0..<(n * c * h * w)).map { Float(($0 * 7) % 5) }
        for i in stride(from: 3, to: data.count, by: 17) { data[i] = .nan }
        let x = Tensor(data, shape: [n, c, h, w])
        for (kernel, strideSize) in [(Size2(2, 3), Size2(2, 1)), (Size2(2), Size2(2)), (Size2(3), Size2(1))] {
            let (values, indices) = maxPool2dWithIndices(x, kernelSize: kernel, stride: strideSize)
            let oh = (h - kernel.height) / strideSize.height + 1, ow = (w - kernel.width) / strideSize.width + 1
            XCTAssertEqual(values.shape, [n, c, oh, ow])
            let v = values.scalars(as: Float.self), idx = indices.scalars(as: Int64.self)
            for plane in 0..<(n * c) {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var best = Float.nan, bestIndex = -1
                        search: for a in 0..<kernel.height {
                            for b in 0..<kernel.width {
                                let position = (i * strideSize.height + a) * w + j * strideSize.width + b
                                let value = data[plane * h * w + position]
                                if value.isNaN { best = value; bestIndex = position; break search }
                                if bestIndex < 0 || value > best { best = value; bestIndex = position }
                            }
                        }
                        let o = (plane * oh + i) * ow + j
                        XCTAssertEqual(Int(idx[o]), bestIndex, "kernel \(kernel) stride \(strideSize) at \(o)")
                        XCTAssertTrue(v[o] == best || (v[o].isNaN && best.isNaN))
                    }
                }
            }
        }
    }
}

extension FixtureTensor {
    /// The first entry along axis 0, keeping the axis: for comparing a batch of one.
    static func first(of t: FixtureTensor) -> FixtureTensor {
        let per = t.shape.dropFirst().reduce(1, *)
        return try! JSONDecoder().decode(FixtureTensor.self, from: JSONSerialization.data(withJSONObject: [
            "shape": [1] + Array(t.shape.dropFirst()), "dtype": t.dtype, "data": Array(t.data.prefix(per)),
        ]))
    }

}
