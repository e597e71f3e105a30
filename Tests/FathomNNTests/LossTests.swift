import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class LossTests: XCTestCase {
    // MARK: NumPy fixtures

    /// Evaluates the fixture case `name` with its inputs converted to `dtype`.
    private func evaluate(_ name: String, _ c: FixtureCase, dtype: DType) -> Tensor {
        var inputs = c.inputs.map { f -> Tensor in
            let t = f.tensor
            return t.dtype.isFloatingPoint ? t.to(dtype) : t
        }
        let x = inputs.removeFirst(), target = inputs.removeFirst()
        let weight = c.params["has_weight"] == 1 ? inputs.removeFirst() : nil
        let posWeight = c.params["has_pos_weight"] == 1 ? inputs.removeFirst() : nil
        let reduction: LossReduction = [.none, .mean, .sum, .batchMean][Int(c.params["reduction"] ?? 1)]
        let prefix = String(name.prefix { $0 != "_" })
        switch prefix {
        case "ce":
            return crossEntropy(x, target, weight: weight, ignoreIndex: Int(c.params["ignore_index"] ?? -100),
                                labelSmoothing: c.params["smoothing"] ?? 0, reduction: reduction)
        case "nll":
            return nllLoss(x, target, weight: weight, reduction: reduction)
        case "bcel":
            return binaryCrossEntropyWithLogits(x, target, weight: weight, posWeight: posWeight, reduction: reduction)
        case "bce":
            return binaryCrossEntropy(x, target, weight: weight, reduction: reduction)
        case "mse": return mseLoss(x, target, reduction: reduction)
        case "l1": return l1Loss(x, target, reduction: reduction)
        case "sl1": return smoothL1Loss(x, target, beta: c.params["beta"]!, reduction: reduction)
        case "huber": return huberLoss(x, target, delta: c.params["delta"]!, reduction: reduction)
        case "kl": return klDiv(x, target, reduction: reduction, logTarget: c.params["log_target"] == 1)
        default:
            XCTFail("unknown fixture case \(name)")
            return x
        }
    }

    func testLossesMatchNumPy() throws {
        let cases = try loadFixtures("losses")
        XCTAssertGreaterThan(cases.count, 90)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let y64 = evaluate(name, c, dtype: .float64)
            XCTAssertEqual(y64.dtype, .float64, name)
            assertMatches(y64, c.output, rtol: 1e-10, atol: 1e-12, "\(name) float64")
            let y32 = evaluate(name, c, dtype: .float32)
            XCTAssertEqual(y32.dtype, .float32, name)
            assertMatches(y32, c.output, rtol: 2e-5, atol: 2e-5, "\(name) float32")
        }
    }

    // MARK: cross-entropy gradients

    private let labels = Tensor([0, 4, 2, 2, 1, 3] as [Int64])
    private let labelsWithIgnored = Tensor([0, -100, 2, 4, -100, 3] as [Int64])
    private let classWeights = Tensor([0.5, 1.5, 1.0, 2.0, 0.7], shape: [5])

    func testCrossEntropyGradients() {
        let x = sample([6, 5], scale: 2)
        for reduction in [LossReduction.mean, .sum, .none] {
            checkGradients([x]) { xs in crossEntropy(xs[0], self.labels, reduction: reduction) }
            checkGradients([x]) { xs in
                crossEntropy(xs[0], self.labelsWithIgnored, weight: self.classWeights, labelSmoothing: 0.2, reduction: reduction)
            }
        }
        // Probability targets: gradients for the logits and the target.
        let p = sample([6, 5], offset: 2).abs()
        checkGradients([x, p]) { xs in crossEntropy(xs[0], xs[1], weight: self.classWeights, labelSmoothing: 0.1) }
        checkGradients([x, p]) { xs in crossEntropy(xs[0], xs[1], reduction: .none) }
        // K-dimensional logits [N, C, H, W].
        let xk = sample([2, 3, 2, 3])
        let tk = Tensor([0, 1, 2, 2, -100, 0, 1, 1, 0, 2, 2, 1] as [Int64], shape: [2, 2, 3])
        checkGradients([xk]) { xs in crossEntropy(xs[0], tk, weight: Tensor([1.0, 2.0, 0.5]), labelSmoothing: 0.1) }
        checkGradients([xk]) { xs in crossEntropy(xs[0], tk, reduction: .none) }
    }

    func testCrossEntropySecondOrder() {
        let x = sample([6, 5], scale: 1.5)
        checkSecondOrder([x]) { xs in crossEntropy(xs[0], self.labels) }
        checkSecondOrder([x]) { xs in crossEntropy(xs[0], self.labels, reduction: .none) }
        checkSecondOrder([x]) { xs in
            crossEntropy(xs[0], self.labelsWithIgnored, weight: self.classWeights, labelSmoothing: 0.2)
        }
        let p = sample([6, 5], offset: 2).abs()
        checkSecondOrder([x, p]) { xs in crossEntropy(xs[0], xs[1], weight: self.classWeights, labelSmoothing: 0.1) }
    }

    /// The fused first-order backward (grad mode off) and the tensor-op formula agree.
    func testFusedAndRecordedBackwardAgree() {
        for dtype in [DType.float32, .float64] {
            let x = sample([6, 5], scale: 3).to(dtype).requiringGrad()
            let p = sample([6, 5], offset: 2).abs().to(dtype)
            let w = classWeights.to(dtype)
            let losses: [(Tensor) -> Tensor] = [
                { crossEntropy($0, self.labels) },
                { crossEntropy($0, self.labelsWithIgnored, weight: w, labelSmoothing: 0.3, reduction: .sum) },
                { crossEntropy($0, self.labelsWithIgnored, weight: w, labelSmoothing: 0.3, reduction: .none).sum() },
                { crossEntropy($0, p, weight: w, labelSmoothing: 0.1) },
            ]
            for (k, f) in losses.enumerated() {
                let fused = gradients(of: [f(x)], wrt: [x])[0]
                let recorded = gradients(of: [f(x)], wrt: [x], createGraph: true)[0]
                XCTAssertLessThan(fused.maxAbsDifference(recorded), dtype == .float32 ? 1e-6 : 1e-14, "loss \(k) \(dtype)")
            }
        }
    }

    /// H·v through the loss of a tiny linear model matches a central difference of gradients.
    func testHessianVectorProductThroughCrossEntropy() {
        let input = sample([7, 4], offset: 0.2)
        let target = Tensor([0, 2, 1, 1, 0, 2, 1] as [Int64])
        func loss(_ ps: [Tensor]) -> Tensor {
            crossEntropy(input.matmul(ps[0].transposed()) + ps[1], target, weight: Tensor([1.0, 0.5, 2.0]), labelSmoothing: 0.1)
        }
        let w = sample([3, 4], scale: 0.7), b = sample([3], offset: 0.1)
        let v = [sample([3, 4], offset: 0.5), sample([3], offset: -0.3)]
        let hv = hvp(loss, at: [w, b], vectors: v)
        func grads(_ h: Double) -> [Tensor] {
            let ps = [(w + v[0] * h).requiringGrad(), (b + v[1] * h).requiringGrad()]
            return gradients(of: [loss(ps)], wrt: ps)
        }
        let h = 1e-5
        let plus = grads(h), minus = grads(-h)
        for k in 0..<2 {
            let numeric = (plus[k] - minus[k]) / (2 * h)
            XCTAssertLessThan(hv[k].maxAbsDifference(numeric), 1e-7, "parameter \(k)")
            XCTAssertGreaterThan(hv[k].abs().max().item(), 1e-3, "a non-trivial Hessian")
        }
    }

    func testCrossEntropyEqualsNllOfLogSoftmax() {
        let x = sample([6, 5], scale: 2).requiringGrad()
        let a = crossEntropy(x, labelsWithIgnored, weight: classWeights)
        let b = nllLoss(x.logSoftmax(axis: 1), labelsWithIgnored, weight: classWeights)
        XCTAssertEqual(a.item(), b.item(), accuracy: 1e-13)
        let ga = gradients(of: [a], wrt: [x])[0], gb = gradients(of: [b], wrt: [x])[0]
        XCTAssertLessThan(ga.maxAbsDifference(gb), 1e-14)
        // A stable loss for huge logits, with a finite gradient.
        let big = Tensor([1000.0, 0, -1000, -500, 500, 499], shape: [2, 3]).to(.float32).requiringGrad()
        let l = crossEntropy(big, Tensor([2, 2] as [Int64]))
        XCTAssertTrue(l.item().isFinite)
        XCTAssertTrue(gradients(of: [l], wrt: [big])[0].doubles.allSatisfy(\.isFinite))
        XCTAssertEqual(CrossEntropyLoss(weight: classWeights)(x, labels).item(), crossEntropy(x, labels, weight: classWeights).item())
    }

    func testCrossEntropyIsDeterministicAcrossThreadCounts() {
        let x = Tensor.randn([300, 1000], generator: Generator(seed: 3)).requiringGrad()
        let t = Tensor((0..<300).map { Int64(($0 * 37) % 1000) })
        let saved = numThreads()
        defer { setNumThreads(saved) }
        var results: [([Float], [Float])] = []
        for threads in [1, 2] {
            setNumThreads(threads)
            let loss = crossEntropy(x, t, labelSmoothing: 0.1)
            let g = gradients(of: [loss], wrt: [x])[0]
            results.append((loss.scalars(as: Float.self), g.scalars(as: Float.self)))
        }
        XCTAssertEqual(results[0].0, results[1].0)
        XCTAssertEqual(results[0].1, results[1].1)
    }

    // MARK: other losses: gradients and second order

    func testNllLossGradients() {
        let lp = sample([6, 5])
        checkGradients([lp]) { xs in nllLoss(xs[0], self.labelsWithIgnored, weight: self.classWeights) }
        checkGradients([lp]) { xs in nllLoss(xs[0], self.labels, reduction: .none) }
    }

    func testBinaryCrossEntropyGradients() {
        let x = sample([4, 3], scale: 3), y = sample([4, 3], offset: 0.5, scale: 0.4)
        let w = sample([4, 3], offset: 1.2, scale: 0.5), pw = Tensor([0.5, 2.0, 3.0])
        checkGradients([x, y]) { xs in binaryCrossEntropyWithLogits(xs[0], xs[1]) }
        checkGradients([x, y]) { xs in binaryCrossEntropyWithLogits(xs[0], xs[1], weight: w, posWeight: pw, reduction: .none) }
        checkSecondOrder([x, y]) { xs in binaryCrossEntropyWithLogits(xs[0], xs[1], weight: w, posWeight: pw) }
        // At x = 0 the gradient is σ(0) − y = 0.5 − y (not lost to |x|'s kink).
        let zero = Tensor.zeros([1], dtype: .float64).requiringGrad()
        let g = gradients(of: [binaryCrossEntropyWithLogits(zero, Tensor([0.2]))], wrt: [zero])[0]
        XCTAssertEqual(g.item(), 0.3, accuracy: 1e-12)
        let p = (sample([4, 3]) * 2).sigmoid()
        checkGradients([p, y]) { xs in binaryCrossEntropy(xs[0], xs[1], weight: w, reduction: .sum) }
    }

    func testRegressionLossGradients() {
        let x = sample([3, 4], scale: 2), y = sample([3, 4], offset: 0.1, scale: 0.5)
        for reduction in [LossReduction.mean, .sum, .none] {
            checkGradients([x, y]) { xs in mseLoss(xs[0], xs[1], reduction: reduction) }
            checkGradients([x, y]) { xs in l1Loss(xs[0], xs[1], reduction: reduction) }
            checkGradients([x, y]) { xs in smoothL1Loss(xs[0], xs[1], beta: 0.5, reduction: reduction) }
            checkGradients([x, y]) { xs in huberLoss(xs[0], xs[1], delta: 1.5, reduction: reduction) }
        }
        checkSecondOrder([x, y]) { xs in mseLoss(xs[0], xs[1]) }
        // Away from the kink at |d| = β: differences are in [0.1, 0.4] ∪ [0.9, 2.6].
        let d = Tensor([0.1, -0.3, 0.4, 0.9, -1.7, 2.6], shape: [2, 3])
        checkSecondOrder([sample([2, 3], offset: 0.2), d]) { xs in
            smoothL1Loss(xs[0] + xs[1], xs[0], beta: 0.6)
        }
        XCTAssertEqual(MSELoss(reduction: .sum)(x, y).item(), mseLoss(x, y, reduction: .sum).item())
    }

    func testKLDivergenceGradients() {
        let q = sample([4, 5]).logSoftmax(axis: 1), p = sample([4, 5], offset: 1).softmax(axis: 1)
        for reduction in [LossReduction.batchMean, .mean, .none] {
            checkGradients([q, p]) { xs in klDiv(xs[0], xs[1], reduction: reduction) }
            checkGradients([q, p.log()]) { xs in klDiv(xs[0], xs[1], reduction: reduction, logTarget: true) }
        }
        checkSecondOrder([q, p]) { xs in klDiv(xs[0], xs[1], reduction: .batchMean) }
        checkSecondOrder([q, p.log()]) { xs in klDiv(xs[0], xs[1], reduction: .sum, logTarget: true) }
        // A zero target contributes nothing and no NaN to the input's gradient.
        let qi = q.requiringGrad()
        let zeroTarget = Tensor([0.0, 0.5, 0.5, 0, 0], shape: [1, 5]).expanded(to: [4, 5])
        let g = gradients(of: [klDiv(qi, zeroTarget, reduction: .batchMean)], wrt: [qi])[0]
        XCTAssertTrue(g.doubles.allSatisfy(\.isFinite))
        // KL(p‖p) = 0.
        XCTAssertEqual(klDiv(p.log(), p, reduction: .batchMean).item(), 0, accuracy: 1e-15)
    }

    // MARK: errors

    private func message(_ body: () throws(TensorError) -> Any) -> String {
        do {
            _ = try body()
            return ""
        } catch {
            return error.description
        }
    }

    func testCrossEntropyErrors() {
        let x = sample([4, 5])
        let bad = message { () throws(TensorError) in try crossEntropy(validating: x, Tensor([0, 7, 1, 2] as [Int64])) }
        XCTAssertTrue(bad.contains("Fathom.crossEntropy: target class 7 is out of range for 5 classes"), bad)
        let shape = message { () throws(TensorError) in try crossEntropy(validating: x, Tensor([0, 1, 2] as [Int64])) }
        XCTAssertTrue(shape.contains("target has shape [3] but the input has shape [4, 5]"), shape)
        XCTAssertTrue(shape.contains("[4]"), shape)
        let probs = message { () throws(TensorError) in try crossEntropy(validating: x, sample([4, 4])) }
        XCTAssertTrue(probs.contains("probability target has shape [4, 4] but the input has shape [4, 5]"), probs)
        let dtype = message { () throws(TensorError) in try crossEntropy(validating: x, Tensor([true, false, true, true])) }
        XCTAssertTrue(dtype.contains("target must be int64 class indices or float class probabilities, got bool"), dtype)
        let intLogits = message { () throws(TensorError) in try crossEntropy(validating: x.to(.int64), Tensor([0, 1, 2, 3] as [Int64])) }
        XCTAssertTrue(intLogits.contains("must be float32 or float64, got int64"), intLogits)
        let weight = message { () throws(TensorError) in try crossEntropy(validating: x, self.labels.select([.range(start: 0, end: 4, step: 1)]), weight: Tensor([1.0, 2.0])) }
        XCTAssertTrue(weight.contains("weight has shape [2]; it must hold one weight per class: [5]"), weight)
        let smoothing = message { () throws(TensorError) in try crossEntropy(validating: x, Tensor([0, 1, 2, 3] as [Int64]), labelSmoothing: 1.5) }
        XCTAssertTrue(smoothing.contains("labelSmoothing is 1.5"), smoothing)
        let reduction = message { () throws(TensorError) in try crossEntropy(validating: x, Tensor([0, 1, 2, 3] as [Int64]), reduction: .batchMean) }
        XCTAssertTrue(reduction.contains("only defined for klDiv"), reduction)
        let nll = message { () throws(TensorError) in try nllLoss(validating: x, sample([4, 5])) }
        XCTAssertTrue(nll.contains("Fathom.nllLoss: target must be int64 class indices, got float64"), nll)
        // The ignore index itself is allowed, even when out of range.
        XCTAssertEqual(message { () throws(TensorError) in try crossEntropy(validating: x, Tensor([0, -100, 1, 2] as [Int64])) }, "")
    }

    func testElementwiseLossErrors() {
        let mismatch = message { () throws(TensorError) in try validatedTarget(sample([4, 1]), sample([4]), .mean, op: "mseLoss") }
        XCTAssertTrue(mismatch.contains("Fathom.mseLoss: input has shape [4, 1] but target has shape [4]; they must match"), mismatch)
        let dtype = message { () throws(TensorError) in try validatedTarget(sample([4]), Tensor([1, 2, 3, 4] as [Int64]), .mean, op: "l1Loss") }
        XCTAssertTrue(dtype.contains("Fathom.l1Loss: target must be float32 or float64, got int64"), dtype)
        let weight = message { () throws(TensorError) in try broadcastWeight(sample([3]), to: sample([4, 5]), op: "binaryCrossEntropyWithLogits", name: "posWeight") as Any }
        XCTAssertTrue(weight.contains("posWeight of shape [3] does not broadcast to the input's shape [4, 5]"), weight)
        let batchMean = message { () throws(TensorError) in try validatedTarget(sample([4]), sample([4]), .batchMean, op: "mseLoss") }
        XCTAssertTrue(batchMean.contains("Fathom.mseLoss: reduction .batchMean is only defined for klDiv"), batchMean)
        // Mixed float dtypes: the target follows the input.
        XCTAssertEqual(mseLoss(sample([3]).to(.float32), sample([3], offset: 1)).dtype, .float32)
    }
}
