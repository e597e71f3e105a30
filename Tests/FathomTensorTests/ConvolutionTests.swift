import XCTest
@testable import FathomTensor

final class ConvolutionTests: XCTestCase {
    private func pair(_ c: FixtureCase, _ name: String) -> Size2 {
        Size2(Int(c.params[name + "_h"] ?? 0), Int(c.params[name + "_w"] ?? 0))
    }

    func testConv2dAgainstNumPy() throws {
        let cases = try loadFixtures("conv").filter { !$0.key.hasPrefix("t_") }
        XCTAssertEqual(cases.count, 18)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let inputs = c.inputs.map(\.tensor)
            func run(_ xs: [Tensor]) -> Tensor {
                conv2d(xs[0], weight: xs[1], bias: xs.count > 2 ? xs[2] : nil, stride: pair(c, "stride"),
                       padding: pair(c, "pad"), dilation: pair(c, "dil"), groups: Int(c.params["groups"]!))
            }
            assertMatches(run(inputs), c.output, rtol: 1e-12, atol: 1e-12, name)
            assertMatches(run(inputs.map { $0.to(.float32) }), c.output, rtol: 1e-4, atol: 1e-4, name + " (float32)")
            // Non-contiguous operands are read correctly.
            let strided = inputs.map { $0.rank == 4 ? $0.permuted([0, 1, 3, 2]).contiguous().permuted([0, 1, 3, 2]) : $0 }
            XCTAssertFalse(strided[0].isContiguous && strided[0].shape[2] > 1 && strided[0].shape[3] > 1)
            assertMatches(run(strided), c.output, rtol: 1e-12, atol: 1e-12, name + " (strided)")
        }
    }

    func testConvTranspose2dAgainstNumPy() throws {
        let cases = try loadFixtures("conv").filter { $0.key.hasPrefix("t_") }
        XCTAssertEqual(cases.count, 10)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let inputs = c.inputs.map(\.tensor)
            func run(_ xs: [Tensor]) -> Tensor {
                convTranspose2d(xs[0], weight: xs[1], bias: xs.count > 2 ? xs[2] : nil, stride: pair(c, "stride"),
                                padding: pair(c, "pad"), outputPadding: pair(c, "outpad"), dilation: pair(c, "dil"),
                                groups: Int(c.params["groups"]!))
            }
            assertMatches(run(inputs), c.output, rtol: 1e-12, atol: 1e-12, name)
            assertMatches(run(inputs.map { $0.to(.float32) }), c.output, rtol: 1e-4, atol: 1e-4, name + " (float32)")
        }
    }

    /// Small convolutions run images in parallel chunks; the result must not depend on it.
    func testParallelImagesMatchOneByOne() {
        let x = sample([7, 3, 20, 20]).to(.float32), w = sample([4, 3, 3, 3], offset: 0.1, scale: 0.2).to(.float32)
        let geo = orStop { () throws(TensorError) in
            try conv2dGeometry(input: x, weight: w, bias: nil, stride: 1, padding: 1, dilation: 1, groups: 1)
        }
        XCTAssertTrue(geo.runsImagesInParallel)
        XCTAssertGreaterThan(ThreadPool.chunking(count: 7, grain: imageGrain(geo)).chunks, 1)
        let xi = x.detach().requiringGrad(), wi = w.detach().requiringGrad()
        let y = conv2d(xi, weight: wi, padding: 1)
        (y * y).sum().backward()
        var weightGrad = Tensor.zeros(w.shape)
        for n in 0..<7 {
            let xn = x[n..<(n + 1)].detach().requiringGrad(), wn = w.detach().requiringGrad()
            let single = conv2d(xn, weight: wn, padding: 1)
            (single * single).sum().backward()
            XCTAssertEqual(y[n..<(n + 1)].doubles, single.doubles, "image \(n)")
            XCTAssertEqual(xi.grad![n..<(n + 1)].doubles, xn.grad!.doubles, "image \(n) input gradient")
            weightGrad = weightGrad + wn.grad!
        }
        for (a, b) in zip(wi.grad!.doubles, weightGrad.doubles) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
    }

    func testConv2dGradients() {
        let x = sample([2, 4, 5, 6]), b = sample([4], offset: 0.2)
        checkGradients([x, sample([4, 4, 3, 3], offset: 0.3), b]) { conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1) }
        checkGradients([x, sample([3, 4, 3, 2], offset: 0.3)]) {
            conv2d($0[0], weight: $0[1], stride: [2, 1], padding: [1, 0], dilation: [1, 2])
        }
        checkGradients([x, sample([6, 2, 3, 3], offset: 0.3), sample([6])]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, groups: 2)
        }
        checkGradients([x, sample([4, 1, 3, 3], offset: 0.3)]) { conv2d($0[0], weight: $0[1], padding: 1, groups: 4) }
        checkGradients([x, sample([4, 1, 2, 3], offset: 0.3), sample([4])]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], stride: [2, 3], padding: [1, 2], dilation: [2, 1], groups: 4)
        }
        checkGradients([x, sample([4, 1, 3, 3], offset: 0.3), sample([4])]) {
            convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1, groups: 4)
        }
        checkGradients([x, sample([4, 1, 3, 2], offset: 0.3), sample([4])]) {
            convTranspose2d($0[0], weight: $0[1], bias: $0[2], padding: [1, 0], outputPadding: 1, dilation: 2, groups: 4)
        }
        checkGradients([x, sample([4, 1, 3, 2], offset: 0.3), sample([4])]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], padding: [2, 1], dilation: [1, 2], groups: 4)
        }
        checkGradients([x, sample([3, 4, 1, 1], offset: 0.3), sample([3])]) { conv2d($0[0], weight: $0[1], bias: $0[2]) }
        // 16 input channels at stride 1 take the shifted-GEMM path, in both directions.
        let x16 = sample([2, 16, 4, 5])
        checkGradients([x16, sample([3, 16, 3, 3], offset: 0.3, scale: 0.3), sample([3])]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1)
        }
        checkGradients([x16, sample([2, 16, 3, 2], offset: 0.3, scale: 0.3)]) { conv2d($0[0], weight: $0[1], padding: [2, 1]) }
        checkGradients([sample([2, 3, 4, 5]), sample([3, 16, 3, 3], offset: 0.3, scale: 0.3), sample([16])]) {
            convTranspose2d($0[0], weight: $0[1], bias: $0[2], padding: 1)
        }
    }

    /// Float32 convolutions with few input channels run their own kernels (forward and weight
    /// gradient); float64 runs im2col + GEMM. Both must agree.
    func testSmallChannelKernelsMatchFloat64() {
        let cases: [(x: [Int], w: [Int], padding: Size2)] = [
            ([5, 3, 9, 37], [10, 3, 3, 3], 1),   // tails in positions, channels and taps; parallel images
            ([3, 1, 28, 28], [32, 1, 3, 3], 1),
            ([2, 2, 6, 7], [5, 2, 3, 2], [2, 1]),
            ([2, 1, 7, 19], [3, 1, 5, 5], 2),
            ([2, 3, 5, 6], [4, 3, 3, 3], 0),
        ]
        for (xShape, wShape, padding) in cases {
            let geo = orStop { () throws(TensorError) in
                try conv2dGeometry(input: Tensor.zeros(xShape), weight: Tensor.zeros(wShape), bias: nil, stride: 1,
                                   padding: padding, dilation: 1, groups: 1)
            }
            XCTAssertTrue(geo.usesSmallChannelKernel, "\(xShape) \(wShape)")
            let x = sample(xShape), w = sample(wShape, offset: 0.2, scale: 0.3), b = sample([wShape[0]], offset: 0.1)
            let g = sample(geo.outShape, offset: 0.4)
            func run(_ dtype: DType) -> [Tensor] {
                let wi = w.to(dtype).requiringGrad(), bi = b.to(dtype).requiringGrad()
                let y = conv2d(x.to(dtype), weight: wi, bias: bi, padding: padding)
                return [y] + gradients(of: [y], wrt: [wi, bi], seeds: [g.to(dtype)])
            }
            for (single, double) in zip(run(.float32), run(.float64)) {
                XCTAssertEqual(single.shape, double.shape)
                for (a, e) in zip(single.doubles, double.doubles) {
                    XCTAssertEqual(a, e, accuracy: 1e-4 * max(1, abs(e)), "\(xShape) ⋆ \(wShape)")
                }
            }
        }
    }

    func testConvTranspose2dGradients() {
        let x = sample([2, 4, 3, 4])
        checkGradients([x, sample([4, 3, 3, 3], offset: 0.3), sample([3])]) {
            convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1)
        }
        checkGradients([x, sample([4, 2, 2, 3], offset: 0.3)]) {
            convTranspose2d($0[0], weight: $0[1], stride: [1, 2], padding: [0, 1], dilation: [2, 1], groups: 2)
        }
    }

    func testWeightGradientOpGradients() {
        let x = sample([2, 2, 5, 5]), g = sample([2, 3, 3, 3], offset: 0.5)
        checkGradients([x, g]) {
            conv2dWeightGradient(input: $0[0], gradOutput: $0[1], weightShape: [3, 2, 3, 3], stride: 2, padding: 1)
        }
    }

    func testSecondOrder() {
        let x = sample([2, 2, 5, 4]), w = sample([3, 2, 3, 3], offset: 0.3), b = sample([3], offset: 0.1)
        // A nonlinearity after the conv, so that the Hessian has input × weight and weight × weight terms.
        checkSecondOrder([x, w, b]) { xs in
            let y = conv2d(xs[0], weight: xs[1], bias: xs[2], stride: [2, 1], padding: 1)
            return y * y * y
        }
        checkSecondOrder([x, sample([4, 1, 2, 2], offset: 0.2)]) { xs in
            let y = conv2d(xs[0], weight: xs[1], dilation: 2, groups: 2)
            return y * y
        }
        // Depthwise (direct kernels), strided.
        checkSecondOrder([x, sample([2, 1, 3, 3], offset: 0.2), sample([2])]) { xs in
            let y = conv2d(xs[0], weight: xs[1], bias: xs[2], stride: [1, 2], padding: 1, groups: 2)
            return y * y * y
        }
        checkSecondOrder([sample([1, 3, 3, 3]), sample([3, 2, 3, 3], offset: 0.3), sample([2])]) { xs in
            let y = convTranspose2d(xs[0], weight: xs[1], bias: xs[2], stride: 2, padding: 1, outputPadding: 1)
            return y * y * y
        }
        // Through two layers, as a CNN's Hessian-vector product needs.
        checkSecondOrder([sample([1, 2, 5, 5]), sample([3, 2, 3, 3], offset: 0.1), sample([2, 3, 1, 1], offset: 0.4)]) { xs in
            let h = conv2d(xs[0], weight: xs[1], padding: 1)
            return conv2d(h * h, weight: xs[2]).sum().reshaped([1])
        }
    }

    func testThirdOrderThroughWeightGradient() {
        // grad of grad of grad: the weight-gradient op's own backward must be differentiable.
        let x = sample([1, 2, 4, 4]).requiringGrad(), w = sample([2, 2, 3, 3], offset: 0.2).requiringGrad()
        let y = conv2d(x, weight: w, padding: 1)
        let loss = (y * y * y).sum()
        let gw = gradients(of: [loss], wrt: [w], createGraph: true)[0]
        let gx = gradients(of: [(gw * gw).sum()], wrt: [x], createGraph: true)[0]
        let third = gradients(of: [gx.sum()], wrt: [w])[0]
        XCTAssertEqual(third.shape, w.shape)
        XCTAssertTrue(third.doubles.allSatisfy(\.isFinite))
        XCTAssertGreaterThan(third.doubles.map(abs).max()!, 0)
    }

    func testErrorMessages() {
        let x = Tensor.zeros([2, 3, 8, 8])
        func message(_ body: () throws(TensorError) -> Tensor) -> String {
            do { _ = try body(); return "" } catch { return error.description }
        }
        XCTAssertEqual(message { () throws(TensorError) in try conv2d(validating: x, weight: Tensor.zeros([16, 4, 3, 3])) },
                       "Fathom.conv2d: input [2, 3, 8, 8] has 3 channels but weight [16, 4, 3, 3] expects 4 (weight.shape[1] = 4 × groups 1); the weight must be [outChannels, inChannels / groups, kH, kW]")
        XCTAssertTrue(message { () throws(TensorError) in try conv2d(validating: Tensor.zeros([3, 8, 8]), weight: Tensor.zeros([4, 3, 3, 3])) }
            .hasPrefix("Fathom.conv2d: input has shape [3, 8, 8]; it must be 4-d"))
        XCTAssertTrue(message { () throws(TensorError) in try conv2d(validating: x, weight: Tensor.zeros([4, 3, 3, 3]), bias: Tensor.zeros([3])) }
            .contains("bias has shape [3] but weight [4, 3, 3, 3] has 4 output channels"))
        XCTAssertTrue(message { () throws(TensorError) in try conv2d(validating: x, weight: Tensor.zeros([4, 3, 9, 9])) }
            .contains("smaller than the kernel 9×9"))
        XCTAssertTrue(message { () throws(TensorError) in try conv2d(validating: x, weight: Tensor.zeros([4, 3, 3, 3], dtype: .float64)) }
            .contains("input is float32 but weight is float64"))
        XCTAssertTrue(message { () throws(TensorError) in try conv2d(validating: x, weight: Tensor.zeros([4, 3, 3, 3]), stride: 0) }
            .contains("stride (0, 0)"))
        XCTAssertTrue(message { () throws(TensorError) in try conv2d(validating: Tensor.zeros([2, 4, 8, 8]), weight: Tensor.zeros([3, 2, 3, 3]), groups: 2) }
            .contains("3 output channels, not divisible by groups 2"))
        XCTAssertTrue(message { () throws(TensorError) in try convTranspose2d(validating: x, weight: Tensor.zeros([4, 2, 3, 3])) }
            .hasPrefix("Fathom.convTranspose2d: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] expects 4"))
        XCTAssertTrue(message { () throws(TensorError) in try convTranspose2d(validating: x, weight: Tensor.zeros([3, 2, 3, 3]), stride: 2, outputPadding: 2) }
            .contains("outputPadding (2, 2) must be non-negative and smaller than either stride (2, 2) or dilation (1, 1)"))
    }

    func testDeterministicAcrossThreadCounts() {
        let saved = numThreads()
        defer { setNumThreads(saved) }
        let x = sample([6, 8, 14, 14]).to(.float32), w = sample([16, 8, 3, 3], offset: 0.1, scale: 0.1).to(.float32)
        let dw = sample([8, 1, 3, 3], offset: 0.2).to(.float32)
        // A long inner dimension (96·9 = 864 > OpenBLAS's GEMM_Q) in every GEMM.
        let deep = sample([3, 96, 6, 6], offset: 0.3).to(.float32), wDeep = sample([4, 96, 3, 3], offset: 0.4, scale: 0.05).to(.float32)
        // Large enough per image to run GEMMs one image at a time with OpenBLAS's threads.
        let wide = sample([2, 32, 16, 16], offset: 0.5).to(.float32), wWide = sample([32, 32, 3, 3], offset: 0.6, scale: 0.05).to(.float32)
        // Three channels: the small-channel kernels (forward and weight gradient).
        let rgb = sample([9, 3, 12, 20], offset: 0.7).to(.float32), wRGB = sample([12, 3, 3, 3], offset: 0.8, scale: 0.2).to(.float32)
        func run() -> [[Float]] {
            let wr = wRGB.detach().requiringGrad()
            let r = conv2d(rgb, weight: wr, padding: 1)
            (r * r).sum().backward()
            let xw = wide.detach().requiringGrad(), ww = wWide.detach().requiringGrad()
            let v = conv2d(xw, weight: ww, stride: 1, padding: 1)
            (v * v).sum().backward()
            let xi = x.detach().requiringGrad(), wi = w.detach().requiringGrad(), di = dw.detach().requiringGrad()
            let y = conv2d(xi, weight: wi, stride: 1, padding: 1)
            let z = conv2d(xi, weight: di, padding: 1, groups: 8)
            ((y * y).sum() + (z * z).sum()).backward()
            let xd = deep.detach().requiringGrad(), wd = wDeep.detach().requiringGrad()
            let u = conv2d(xd, weight: wd, padding: 1)
            let t = convTranspose2d(u, weight: wd, stride: 2)
            ((u * u).sum() + (t * t).sum()).backward()
            return [y.scalars(as: Float.self), xi.grad!.scalars(as: Float.self), wi.grad!.scalars(as: Float.self),
                    di.grad!.scalars(as: Float.self), u.scalars(as: Float.self), t.scalars(as: Float.self),
                    xd.grad!.scalars(as: Float.self), wd.grad!.scalars(as: Float.self), v.scalars(as: Float.self),
                    xw.grad!.scalars(as: Float.self), ww.grad!.scalars(as: Float.self),
                    r.scalars(as: Float.self), wr.grad!.scalars(as: Float.self)]
        }
        setNumThreads(1)
        let one = run()
        setNumThreads(2)
        let two = run()
        for (i, (a, b)) in zip(one, two).enumerated() {
            XCTAssertTrue(a.map(\.bitPattern) == b.map(\.bitPattern), "result \(i) differs between 1 and 2 threads")
        }
    }
}
