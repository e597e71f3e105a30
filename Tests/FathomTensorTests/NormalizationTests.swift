import XCTest
@testable import FathomTensor

final class NormalizationTests: XCTestCase {
    /// Tolerances: float64 matches NumPy tightly; float32 inputs are compared with the
    /// float64 reference computed from the same float32 values.
    private func tolerance(_ name: String) -> Double { name.contains("f32") ? 2e-5 : 1e-10 }

    func testBatchNormAgainstNumPy() throws {
        let cases = try loadFixtures("norm")
        for family in ["bn2d", "bn4d", "bn3d_offset"] {
            for suffix in ["f64", "f32"] {
                let key = "\(family)_\(suffix)"
                let i = cases["\(key)_train_step1"]!.inputs.map(\.tensor)
                let (x1, x2, w, b) = (i[0], i[1], i[2], i[3])
                let rm = i[4].clone(), rv = i[5].clone()
                let tol = tolerance(key)
                let y1 = batchNorm(x1, runningMean: rm, runningVar: rv, weight: w, bias: b, training: true)
                assertMatches(y1, cases["\(key)_train_step1"]!.output, rtol: tol, atol: tol, "\(key) step 1")
                let y2 = batchNorm(x2, runningMean: rm, runningVar: rv, weight: w, bias: b, training: true)
                assertMatches(y2, cases["\(key)_train_step2"]!.output, rtol: tol, atol: tol, "\(key) step 2")
                assertMatches(rm, cases["\(key)_running_mean"]!.output, rtol: tol, atol: tol, "\(key) running mean")
                assertMatches(rv, cases["\(key)_running_var"]!.output, rtol: tol, atol: tol, "\(key) running var")
                let eval = batchNorm(x1, runningMean: i[4], runningVar: i[5], weight: w, bias: b, training: false)
                assertMatches(eval, cases["\(key)_eval"]!.output, rtol: tol, atol: tol, "\(key) eval")
                let plain = batchNorm(x1, runningMean: nil, runningVar: nil, training: true)
                assertMatches(plain, cases["\(key)_train_no_affine"]!.output, rtol: tol, atol: tol, "\(key) no affine")
            }
        }
    }

    func testLayerAndGroupNormAgainstNumPy() throws {
        let cases = try loadFixtures("norm")
        for suffix in ["f64", "f32"] {
            let tol = tolerance(suffix)
            let ln = cases["ln_last_\(suffix)"]!.inputs.map(\.tensor)
            assertMatches(layerNorm(ln[0], normalizedShape: [20], weight: ln[1], bias: ln[2]),
                          cases["ln_last_\(suffix)"]!.output, rtol: tol, atol: tol, "ln_last_\(suffix)")
            assertMatches(layerNorm(ln[0], normalizedShape: [20]),
                          cases["ln_last_no_affine_\(suffix)"]!.output, rtol: tol, atol: tol, "ln no affine \(suffix)")
            let two = cases["ln_two_axes_\(suffix)"]!.inputs.map(\.tensor)
            assertMatches(layerNorm(ln[0], normalizedShape: [4, 20], weight: two[0], bias: two[1]),
                          cases["ln_two_axes_\(suffix)"]!.output, rtol: tol, atol: tol, "ln two axes \(suffix)")
            let wide = cases["ln_wide_offset_\(suffix)"]!.inputs[0].tensor
            assertMatches(layerNorm(wide, normalizedShape: [301]), cases["ln_wide_offset_\(suffix)"]!.output,
                          rtol: tol * 10, atol: tol * 10, "ln wide offset \(suffix)")

            let gn = cases["gn_g3_\(suffix)"]!.inputs.map(\.tensor)
            for groups in [1, 3, 6] {
                assertMatches(groupNorm(gn[0], groups: groups, weight: gn[1], bias: gn[2]),
                              cases["gn_g\(groups)_\(suffix)"]!.output, rtol: tol, atol: tol, "gn groups \(groups) \(suffix)")
            }
            let g2 = cases["gn_2d_\(suffix)"]!.inputs[0].tensor
            assertMatches(groupNorm(g2, groups: 2, weight: gn[1], bias: gn[2]), cases["gn_2d_\(suffix)"]!.output,
                          rtol: tol, atol: tol, "gn 2d \(suffix)")
            assertMatches(groupNorm(gn[0], groups: 2), cases["gn_no_affine_\(suffix)"]!.output,
                          rtol: tol, atol: tol, "gn no affine \(suffix)")
        }
    }

    /// A non-contiguous input gives the same result as its contiguous copy.
    func testNonContiguousInputs() {
        let base = sample([5, 4, 3], offset: 0.2)
        let x = base.permuted([1, 0, 2])  // [4, 5, 3], channels on axis 1
        let w = sample([5], offset: 1), b = sample([5], offset: -1)
        XCTAssertEqual(batchNorm(x, runningMean: nil, runningVar: nil, weight: w, bias: b, training: true).doubles,
                       batchNorm(x.contiguous(), runningMean: nil, runningVar: nil, weight: w, bias: b, training: true).doubles)
        XCTAssertEqual(layerNorm(x, normalizedShape: [3]).doubles, layerNorm(x.contiguous(), normalizedShape: [3]).doubles)
        XCTAssertEqual(groupNorm(x, groups: 5, weight: w).doubles, groupNorm(x.contiguous(), groups: 5, weight: w).doubles)
    }

    func testGradients() {
        let x4 = sample([3, 2, 2, 3], offset: 0.3), x2 = sample([5, 3], offset: -0.2)
        let w2 = sample([2], offset: 1), b2 = sample([2], offset: 0.5)
        let w3 = sample([3], offset: 1), b3 = sample([3], offset: 0.5)
        // Batch norm, training (batch statistics) and eval (running statistics).
        checkGradients([x4, w2, b2]) { batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true) }
        checkGradients([x2, w3, b3]) { batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true) }
        checkGradients([x2]) { batchNorm($0[0], runningMean: nil, runningVar: nil, training: true) }
        let rm = sample([2], offset: 0.1, scale: 0.2), rv = sample([2], offset: 1.5, scale: 0.3)
        checkGradients([x4, w2, b2]) { batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], bias: $0[2], training: false) }
        // Layer norm over one and two trailing axes.
        let x3 = sample([2, 3, 4], offset: 0.1)
        checkGradients([x3, sample([4], offset: 1), sample([4])]) { layerNorm($0[0], normalizedShape: [4], weight: $0[1], bias: $0[2]) }
        checkGradients([x3, sample([3, 4], offset: 1), sample([3, 4])]) { layerNorm($0[0], normalizedShape: [3, 4], weight: $0[1], bias: $0[2]) }
        checkGradients([x3]) { layerNorm($0[0], normalizedShape: [4]) }
        // Group norm, with spatial axes and without.
        let xg = sample([2, 4, 3], offset: 0.4), wg = sample([4], offset: 1), bg = sample([4], offset: -0.3)
        checkGradients([xg, wg, bg]) { groupNorm($0[0], groups: 2, weight: $0[1], bias: $0[2]) }
        checkGradients([sample([3, 4], offset: 0.2), wg, bg]) { groupNorm($0[0], groups: 2, weight: $0[1], bias: $0[2]) }
        checkGradients([xg]) { groupNorm($0[0], groups: 4) }
    }

    func testSecondOrder() {
        let w2 = sample([2], offset: 1), b2 = sample([2], offset: 0.5)
        checkSecondOrder([sample([3, 2, 3], offset: 0.3), w2, b2]) {
            batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true).tanh()
        }
        checkSecondOrder([sample([4, 3], offset: 0.3)]) {
            batchNorm($0[0], runningMean: nil, runningVar: nil, training: true).square()
        }
        let rm = sample([2], scale: 0.2), rv = sample([2], offset: 1.5, scale: 0.3)
        checkSecondOrder([sample([3, 2, 2], offset: 0.3), w2]) {
            batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], training: false).tanh()
        }
        checkSecondOrder([sample([2, 3, 4], offset: 0.1), sample([4], offset: 1), sample([4])]) {
            layerNorm($0[0], normalizedShape: [4], weight: $0[1], bias: $0[2]).tanh()
        }
        checkSecondOrder([sample([2, 4, 3], offset: 0.4), sample([4], offset: 1), sample([4])]) {
            groupNorm($0[0], groups: 2, weight: $0[1], bias: $0[2]).tanh()
        }
    }

    /// The fused first-order backward (grad mode off) equals the tensor-op backward (used
    /// when the backward is recorded) for input, weight and bias, in both dtypes.
    func testFusedBackwardMatchesTensorOpBackward() {
        let ops: [(String, [Int], Int, ([Tensor]) -> Tensor)] = [
            ("batchNorm train 4d", [4, 3, 5, 6], 3, { batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true) }),
            ("batchNorm train 2d", [9, 3], 3, { batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true) }),
            ("batchNorm eval", [4, 3, 7], 3, {
                batchNorm($0[0], runningMean: Tensor.full([3], 0.2, dtype: $0[0].dtype), runningVar: Tensor.full([3], 1.7, dtype: $0[0].dtype),
                          weight: $0[1], bias: $0[2], training: false)
            }),
            ("layerNorm", [6, 5, 11], 11, { layerNorm($0[0], normalizedShape: [11], weight: $0[1], bias: $0[2]) }),
            ("groupNorm", [3, 6, 4, 5], 6, { groupNorm($0[0], groups: 3, weight: $0[1], bias: $0[2]) }),
            ("groupNorm 2d", [5, 6], 6, { groupNorm($0[0], groups: 2, weight: $0[1], bias: $0[2]) }),
        ]
        for dtype in [DType.float64, .float32] {
            for (name, shape, c, f) in ops {
                let inputs = [sample(shape, offset: 0.7, scale: 2), sample([c], offset: 1), sample([c], offset: -0.4)].map { $0.to(dtype) }
                let seed = sample(shape, offset: 0.1).square().to(dtype)
                let leaves = inputs.map { $0.detach().requiringGrad() }
                let fused = gradients(of: [f(leaves)], wrt: leaves, seeds: [seed])
                let recorded = gradients(of: [f(leaves)], wrt: leaves, seeds: [seed], createGraph: true)
                let tol = dtype == .float64 ? 1e-12 : 2e-4
                for k in 0..<3 {
                    XCTAssertLessThan(fused[k].maxAbsDifference(recorded[k].detach()), tol, "\(name) \(dtype) input \(k)")
                }
            }
        }
    }

    func testRunningStatisticsAreNotRecordedAndIgnoredWithoutTracking() {
        let x = sample([6, 2, 3], offset: 2).requiringGrad()
        let rm = Tensor.zeros([2], dtype: .float64), rv = Tensor.ones([2], dtype: .float64)
        let y = batchNorm(x, runningMean: rm, runningVar: rv, training: true, momentum: 0.5)
        XCTAssertFalse(rm.requiresGrad)
        // Half of the batch mean of each channel.
        let batchMean = x.detach().mean(axes: [0, 2]).doubles
        XCTAssertEqual(rm.doubles[0], 0.5 * batchMean[0], accuracy: 1e-14)
        XCTAssertEqual(rm.doubles[1], 0.5 * batchMean[1], accuracy: 1e-14)
        // Output of batch norm sums to zero per channel; its gradient is orthogonal to constants.
        y.sum().backward()
        XCTAssertLessThan(x.grad!.abs().max().item(), 1e-12)
    }

    /// Same bits with 1 and 2 threads, on sizes large enough to run in parallel.
    func testDeterministicAcrossThreadCounts() {
        func run(threads: Int) -> [[UInt32]] {
            let saved = numThreads()
            setNumThreads(threads)
            defer { setNumThreads(saved) }
            let x4 = (sample([16, 8, 24, 24], offset: 3, scale: 2)).to(.float32).requiringGrad()
            let x2 = sample([2048, 40], offset: 1).to(.float32).requiringGrad()
            let w8 = Tensor.ones([8]).requiringGrad(), w40 = Tensor.ones([40]).requiringGrad()
            let seed4 = sample([16, 8, 24, 24], offset: 0.5).to(.float32), seed2 = sample([2048, 40]).to(.float32)
            var outputs: [Tensor] = []
            let bn4 = batchNorm(x4, runningMean: nil, runningVar: nil, weight: w8, training: true)
            outputs += [bn4] + gradients(of: [bn4], wrt: [x4, w8], seeds: [seed4])
            let bn2 = batchNorm(x2, runningMean: nil, runningVar: nil, weight: w40, training: true)
            outputs += [bn2] + gradients(of: [bn2], wrt: [x2, w40], seeds: [seed2])
            let ln = layerNorm(x2, normalizedShape: [40], weight: w40)
            outputs += [ln] + gradients(of: [ln], wrt: [x2, w40], seeds: [seed2])
            let gn = groupNorm(x4, groups: 4, weight: w8)
            outputs += [gn] + gradients(of: [gn], wrt: [x4, w8], seeds: [seed4])
            return outputs.map { $0.scalars(as: Float.self).map(\.bitPattern) }
        }
        let one = run(threads: 1), two = run(threads: 2)
        for (k, (a, b)) in zip(one, two).enumerated() { XCTAssertTrue(a == b, "output \(k) differs between 1 and 2 threads") }
    }

    func testErrorMessages() {
        let x = Tensor.zeros([2, 4, 5])
        XCTAssertThrowsError(try validateBatchNorm(x, runningMean: nil, runningVar: nil, weight: Tensor.ones([3]), bias: nil, training: true)) {
            XCTAssertEqual(($0 as! TensorError).description,
                           "Fathom.batchNorm: weight has shape [3] but the input of shape [2, 4, 5] has 4 channels (axis 1); pass a weight of shape [4]")
        }
        XCTAssertThrowsError(try validateBatchNorm(x, runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: false)) {
            XCTAssertTrue(($0 as! TensorError).description.contains("needs runningMean and runningVar"))
        }
        XCTAssertThrowsError(try validateBatchNorm(Tensor.zeros([1, 4]), runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true)) {
            XCTAssertTrue(($0 as! TensorError).description.contains("more than one value per channel"))
        }
        XCTAssertThrowsError(try validateBatchNorm(x, runningMean: nil, runningVar: nil, weight: Tensor.ones([4], dtype: .float64), bias: nil, training: true)) {
            XCTAssertTrue(($0 as! TensorError).description.contains("weight is float64 but the input is float32"))
        }
        XCTAssertThrowsError(try validateLayerNorm(x, normalizedShape: [4], weight: nil, bias: nil)) {
            XCTAssertEqual(($0 as! TensorError).description,
                           "Fathom.layerNorm: normalizedShape [4] is not the trailing part of the input shape [2, 4, 5]; pass the sizes of the last axes to normalize over")
        }
        XCTAssertThrowsError(try validateLayerNorm(x, normalizedShape: [4, 5], weight: Tensor.ones([5]), bias: nil)) {
            XCTAssertTrue(($0 as! TensorError).description.contains("weight has shape [5] but the input of shape [2, 4, 5] is normalized over [4, 5]"))
        }
        XCTAssertThrowsError(try validateGroupNorm(x, groups: 3, weight: nil, bias: nil)) {
            XCTAssertEqual(($0 as! TensorError).description,
                           "Fathom.groupNorm: 4 channels (axis 1 of the input of shape [2, 4, 5]) cannot be split into 3 groups; the channel count must be a multiple of groups")
        }
        XCTAssertThrowsError(try validateGroupNorm(x, groups: 2, weight: nil, bias: Tensor.ones([2]))) {
            XCTAssertTrue(($0 as! TensorError).description.contains("Fathom.groupNorm: bias has shape [2]"))
        }
        XCTAssertNoThrow(try validateGroupNorm(x, groups: 2, weight: Tensor.ones([4]), bias: nil))
    }
}
