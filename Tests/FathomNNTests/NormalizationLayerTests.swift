import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class NormalizationLayerTests: XCTestCase {
    func testBatchNormStateDictKeysArePyTorchs() {
        XCTAssertEqual(BatchNorm2d(4).stateDict().keys, ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(BatchNorm1d(4, affine: false).stateDict().keys, ["running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(BatchNorm1d(4, trackRunningStats: false).stateDict().keys, ["weight", "bias"])
        XCTAssertEqual(BatchNorm2d(3).namedBuffers().map(\.name), ["running_mean", "running_var", "num_batches_tracked"])
        // Nested, the keys are dotted as usual.
        let model = Sequential(Linear(3, 4), BatchNorm1d(4))
        XCTAssertEqual(model.stateDict().keys.filter { $0.hasPrefix("1.") },
                       ["1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"])
        XCTAssertEqual(LayerNorm([4, 5]).stateDict().keys, ["weight", "bias"])
        XCTAssertEqual(LayerNorm(5, bias: false).stateDict().keys, ["weight"])
        XCTAssertEqual(LayerNorm(5, elementwiseAffine: false).stateDict().keys, [])
        XCTAssertEqual(GroupNorm(2, 4).stateDict().keys, ["weight", "bias"])
        XCTAssertEqual(GroupNorm(2, 4, affine: false).stateDict().keys, [])
    }

    /// The `stateKey(forProperty:)` hook renames parameters, buffers and children, and
    /// loading a state dict uses the renamed keys.
    func testStateKeyHookRenamesEntries() throws {
        final class Renamed: Module {
            @Parameter var innerWeight = Tensor.ones([2])
            @Buffer var stepCount = Tensor.zeros([1])
            let child = Linear(2, 1)
            override func stateKey(forProperty name: String) -> String { name == "child" ? "head" : "x_" + name }
        }
        let module = Renamed()
        XCTAssertEqual(module.stateDict().keys, ["x_innerWeight", "head.weight", "head.bias", "x_stepCount"])
        var state = module.stateDict()
        state["x_stepCount"] = Tensor([7] as [Float])
        try module.load(stateDict: state)
        XCTAssertEqual(module.stepCount.item(), 7)
    }

    func testBatchNorm2dTrainingThenEvalMatchesNumPy() throws {
        let cases = try loadFixtures("norm_layers")
        let xs = cases["bn2d_two_steps_then_eval"]!.inputs.map(\.tensor)
        let layer = BatchNorm2d(2, dtype: .float64)
        _ = layer(xs[0])
        _ = layer(xs[1])
        XCTAssertEqual(layer.numBatchesTracked!.item(as: Int64.self), 2)
        assertMatches(layer.runningMean!, cases["bn2d_two_steps_running_mean"]!.output, "running mean")
        assertMatches(layer.runningVar!, cases["bn2d_two_steps_running_var"]!.output, "running var")
        layer.eval()
        let y = layer(xs[2])
        assertMatches(y, cases["bn2d_two_steps_then_eval"]!.output, "eval output")
        // Evaluation leaves the statistics alone.
        XCTAssertEqual(layer.numBatchesTracked!.item(as: Int64.self), 2)
        assertMatches(layer.runningMean!, cases["bn2d_two_steps_running_mean"]!.output, "running mean after eval")
        // float32 module, float32 data.
        let layer32 = BatchNorm2d(2)
        _ = layer32(xs[0].to(.float32))
        _ = layer32(xs[1].to(.float32))
        assertMatches(layer32.runningVar!, cases["bn2d_two_steps_running_var"]!.output, rtol: 1e-5, atol: 1e-5, "running var f32")
    }

    func testCumulativeMomentum() throws {
        let cases = try loadFixtures("norm_layers")
        let xs = cases["bn1d_cumulative_running_mean"]!.inputs.map(\.tensor)
        let layer = BatchNorm1d(3, momentum: nil, dtype: .float64)
        for x in xs { _ = layer(x) }
        assertMatches(layer.runningMean!, cases["bn1d_cumulative_running_mean"]!.output, "cumulative mean")
        assertMatches(layer.runningVar!, cases["bn1d_cumulative_running_var"]!.output, "cumulative var")
    }

    func testWithoutRunningStatsUsesBatchStatisticsInEval() {
        let x = sample([6, 3], offset: 2).to(.float32)
        let layer = BatchNorm1d(3, trackRunningStats: false)
        layer.eval()
        let expected = batchNorm(x, runningMean: nil, runningVar: nil, weight: layer.weight, bias: layer.bias, training: true)
        XCTAssertEqual(layer(x).scalars(as: Float.self), expected.scalars(as: Float.self))
        XCTAssertNil(layer.runningMean)
    }

    func testGradientsReachParameters() {
        let bn = BatchNorm2d(3)
        let ln = LayerNorm(5)
        let gn = GroupNorm(3, 3)
        let x = sample([2, 3, 4, 5], offset: 0.5).to(.float32)
        let loss = (gn(ln(bn(x))) * sample([2, 3, 4, 5]).to(.float32)).sum()
        loss.backward()
        for (name, p) in bn.namedParameters() + ln.namedParameters() + gn.namedParameters() {
            XCTAssertNotNil(p.grad, name)
            XCTAssertGreaterThan(p.grad!.abs().sum().item(), 0, name)
        }
        // Layer norm and group norm modules compute exactly the functional ops.
        noGrad { ln.weight!.assign(sample([5], offset: 1).to(.float32)) }
        XCTAssertEqual(ln(x).scalars(as: Float.self),
                       layerNorm(x, normalizedShape: [5], weight: ln.weight, bias: ln.bias).scalars(as: Float.self))
        XCTAssertEqual(gn(x).scalars(as: Float.self), groupNorm(x, groups: 3, weight: gn.weight, bias: gn.bias).scalars(as: Float.self))
    }

    /// A Hessian-vector product through a network with batch norm in training mode.
    func testHessianVectorProductThroughBatchNorm() {
        let w = sample([3, 4], scale: 0.5)
        let x = sample([6, 4], offset: 0.2)
        let bn = BatchNorm1d(3, dtype: .float64)
        func loss(_ ws: [Tensor]) -> Tensor { bn(x.matmul(ws[0].transposed())).tanh().square().sum() }
        checkSecondOrder([w]) { loss($0) }
        let v = sample([3, 4], offset: 0.1)
        let product = hvp(loss, at: [w], vectors: [v])[0]
        XCTAssertEqual(product.shape, [3, 4])
        XCTAssertFalse(product.doubles.contains { $0.isNaN })
    }

    func testLoadStateDictRoundTrip() throws {
        let source = BatchNorm2d(2)
        _ = source(sample([3, 2, 2, 2], offset: 1).to(.float32))
        let target = BatchNorm2d(2)
        try target.load(stateDict: source.stateDict())
        XCTAssertEqual(target.runningMean!.scalars(as: Float.self), source.runningMean!.scalars(as: Float.self))
        XCTAssertEqual(target.numBatchesTracked!.item(as: Int64.self), 1)
    }
}
