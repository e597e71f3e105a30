import XCTest
@testable import FathomTensor

final class PaddingUpsampleTests: XCTestCase {
    func testPadAgainstNumPy() throws {
        let cases = try loadFixtures("padding_upsample").filter { $0.key.hasPrefix("pad_") }
        XCTAssertEqual(cases.count, 7)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let x = c.inputs[0].tensor
            let padding = (0..<6).compactMap { c.params["p\($0)"].map { Int($0) } }
            let mode: PaddingMode = switch Int(c.params["mode"]!) {
            case 0: .constant(c.params["value"]!)
            case 1: .reflect
            default: .replicate
            }
            assertMatches(pad(x, padding, mode: mode), c.output, rtol: 0, atol: 0, name)
            assertMatches(pad(x.to(.float32), padding, mode: mode), c.output, rtol: 1e-6, atol: 1e-7, name + " (float32)")
        }
    }

    func testUpsampleAgainstNumPy() throws {
        let cases = try loadFixtures("padding_upsample").filter { $0.key.hasPrefix("up_") }
        XCTAssertEqual(cases.count, 10)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let x = c.inputs[0].tensor
            let mode: InterpolationMode = c.params["bilinear"] == 1 ? .bilinear(alignCorners: c.params["align"] == 1) : .nearest
            func run(_ x: Tensor) -> Tensor {
                if let h = c.params["size_h"], let w = c.params["size_w"] {
                    return upsample(x, size: Size2(Int(h), Int(w)), mode: mode)
                }
                return upsample(x, scaleFactors: (c.params["scale_h"]!, c.params["scale_w"]!), mode: mode)
            }
            assertMatches(run(x), c.output, rtol: 1e-12, atol: 1e-12, name)
            assertMatches(run(x.to(.float32)), c.output, rtol: 1e-5, atol: 1e-6, name + " (float32)")
        }
        // The single-factor spelling.
        let x = sample([1, 1, 2, 3])
        XCTAssertEqual(upsample(x, scaleFactor: 2).doubles, upsample(x, size: [4, 6]).doubles)
    }

    func testReflectExample() {
        let x = Tensor([1, 2, 3] as [Double])
        XCTAssertEqual(pad(x, [2, 1], mode: .reflect).doubles, [3, 2, 1, 2, 3, 2])
        XCTAssertEqual(pad(x, [2, 1], mode: .replicate).doubles, [1, 1, 1, 2, 3, 3])
        XCTAssertEqual(pad(x, [1, 0], mode: .constant(9)).doubles, [9, 1, 2, 3])
    }

    func testGradients() {
        let x = sample([2, 2, 4, 5])
        checkGradients([x]) { pad($0[0], [1, 2, 0, 3], mode: .constant(0.5)) }
        checkGradients([x]) { pad($0[0], [2, 1, 3, 1], mode: .reflect) }
        checkGradients([x]) { pad($0[0], [3, 1], mode: .reflect) }
        checkGradients([x]) { pad($0[0], [2, 3, 1, 4], mode: .replicate) }
        checkGradients([sample([5])]) { pad($0[0], [2, 2], mode: .reflect) }
        checkGradients([x]) { upsample($0[0], scaleFactor: 2) }
        checkGradients([x]) { upsample($0[0], size: [3, 7]) }
        checkGradients([x]) { upsample($0[0], size: [7, 9], mode: .bilinear(alignCorners: false)) }
        checkGradients([x]) { upsample($0[0], size: [7, 9], mode: .bilinear(alignCorners: true)) }
        checkGradients([x]) { upsample($0[0], scaleFactors: (0.6, 1.5), mode: .bilinear(alignCorners: false)) }
    }

    func testSecondOrder() {
        let x = sample([1, 2, 3, 4])
        checkSecondOrder([x]) { xs in
            let y = upsample(xs[0], size: [5, 7], mode: .bilinear(alignCorners: false))
            return y * y * y
        }
        checkSecondOrder([x]) { xs in
            let y = upsample(xs[0], scaleFactor: 2, mode: .bilinear(alignCorners: true))
            return y * y * y
        }
        checkSecondOrder([x]) { xs in
            let y = pad(xs[0], [2, 1, 1, 2], mode: .reflect)
            return y * y * y
        }
        checkSecondOrder([x]) { xs in
            let y = pad(xs[0], [1, 1, 1, 1], mode: .constant(1))
            return y * y * y
        }
    }

    func testErrorMessages() {
        func message(_ body: () throws(TensorError) -> Tensor) -> String {
            do { _ = try body(); return "" } catch { return error.description }
        }
        let x = Tensor.zeros([1, 2, 3, 4])
        XCTAssertEqual(message { () throws(TensorError) in try pad(validating: x, [4, 0], mode: .reflect) },
                       "Fathom.pad: reflect padding [4, 0] must be smaller than the padded axis: axis 3 of [1, 2, 3, 4] has size 4")
        XCTAssertTrue(message { () throws(TensorError) in try pad(validating: x, [1, 1, 1]) }.contains("must list (before, after) pairs"))
        XCTAssertTrue(message { () throws(TensorError) in try pad(validating: x, [1, 1, 1, 1, 1, 1], mode: .replicate) }
            .contains("supports the last 1 or 2 axes"))
        XCTAssertTrue(message { () throws(TensorError) in try pad(validating: x, [-1, 1]) }.contains("negative size"))
        XCTAssertEqual(message { () throws(TensorError) in try upsample(validating: Tensor.zeros([2, 3, 4]), size: 2, scaleFactors: nil) },
                       "Fathom.upsample: input has shape [2, 3, 4]; it must be 4-d [N, C, H, W]")
        XCTAssertTrue(message { () throws(TensorError) in try upsample(validating: x, size: 2, scaleFactors: (2, 2)) }
            .contains("exactly one of size and scaleFactors"))
        XCTAssertTrue(message { () throws(TensorError) in try upsample(validating: x, size: nil, scaleFactors: (0.1, 1)) }
            .contains("cannot resize [1, 2, 3, 4] to 0×4"))
    }

    func testDeterministicAcrossThreadCounts() {
        let saved = numThreads()
        defer { setNumThreads(saved) }
        let x = sample([4, 16, 24, 24]).to(.float32)
        func run() -> [[Float]] {
            let xi = x.detach().requiringGrad()
            let y = upsample(pad(xi, [1, 1, 1, 1], mode: .reflect), size: [40, 40], mode: .bilinear(alignCorners: false))
            (y * y).sum().backward()
            return [y.scalars(as: Float.self), xi.grad!.scalars(as: Float.self)]
        }
        setNumThreads(1)
        let one = run()
        setNumThreads(2)
        XCTAssertEqual(run(), one)
    }
}
