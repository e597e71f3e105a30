import Foundation
import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomDynamics

/// Batches of Gaussian inputs `[n, features]` with labels from a fixed random linear
/// teacher (so the task is learnable), split into batches of `batchSize`.
func syntheticBatches(count n: Int = 64, features: Int = 4, classes: Int = 3, batchSize: Int = 16,
                      seed: UInt64 = 7) -> [Batch] {
    let generator = Generator(seed: seed)
    let x = Tensor.randn([n, features], generator: generator)
    let teacher = Tensor.randn([features, classes], generator: generator)
    let y = x.matmul(teacher).argmax(axis: 1)
    return stride(from: 0, to: n, by: batchSize).map { start in
        let index = Tensor.arange(start, Swift.min(start + batchSize, n))
        return Batch(inputs: x.indexSelect(axis: 0, index: index), labels: y.indexSelect(axis: 0, index: index))
    }
}

/// features → hidden → ReLU → classes, seeded.
func smallMLP(features: Int = 4, hidden: Int = 6, classes: Int = 3, seed: UInt64) -> Sequential {
    let generator = Generator(seed: seed)
    return Sequential(Linear(features, hidden, generator: generator), ReLU(), Linear(hidden, classes, generator: generator))
}

/// The same function as `model` (a `smallMLP`) with its hidden units permuted.
func permutedCopy(of model: Sequential, seed: UInt64) -> Sequential {
    let first = model.layers[0] as! Linear, last = model.layers[2] as! Linear
    let copy = smallMLP(features: first.weight.shape[1], hidden: first.weight.shape[0],
                        classes: last.weight.shape[0], seed: seed)
    var rng = Generator(seed: seed)
    let perm = Tensor((0..<Int64(first.weight.shape[0])).shuffled(using: &rng))
    let c1 = copy.layers[0] as! Linear, c2 = copy.layers[2] as! Linear
    noGrad {
        c1.weight.assign(first.weight.indexSelect(axis: 0, index: perm))
        c1.bias!.assign(first.bias!.indexSelect(axis: 0, index: perm))
        c2.weight.assign(last.weight.indexSelect(axis: 1, index: perm))
        c2.bias!.assign(last.bias!)
    }
    return copy
}

func snapshot(_ model: Module) -> [(String, [Double])] {
    model.stateDict().entries.map { ($0.key, $0.tensor.to(.float64).scalars(as: Double.self)) }
}

final class InterpolationTests: XCTestCase {
    func testEndpointsReproduceEachModelsOwnLoss() {
        let data = syntheticBatches()
        let a = smallMLP(seed: 1), b = smallMLP(seed: 2), work = smallMLP(seed: 3)
        let curve = interpolationCurve(work, along: LinearPath(from: a, to: b), lambdas: lambdaGrid(5), on: data)
        XCTAssertEqual(curve.lambdas, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(curve.losses.first, evaluate(a, on: data).loss)
        XCTAssertEqual(curve.losses.last, evaluate(b, on: data).loss)
        XCTAssertEqual(curve.errors.first, evaluate(a, on: data).error)
        XCTAssertEqual(curve.errors.last, evaluate(b, on: data).error)
        XCTAssertNotEqual(curve.losses[0], curve.losses[4])
        // The workspace model gets its own state back.
        XCTAssertEqual(evaluate(work, on: data), evaluate(smallMLP(seed: 3), on: data))
    }

    func testEvaluationMatchesDirectComputation() {
        let data = syntheticBatches(count: 40, batchSize: 16)  // uneven last batch: example-weighted mean
        let model = smallMLP(seed: 4)
        let x = Tensor.cat(data.map(\.inputs), axis: 0), y = Tensor.cat(data.map(\.labels), axis: 0)
        let logits = noGrad { model(x) }
        let result = evaluate(model, on: data)
        XCTAssertEqual(result.loss, crossEntropy(logits, y).item(), accuracy: 1e-5)
        let wrong = 40 - Int(logits.argmax(axis: 1).eq(y).to(.int64).sum().item())
        XCTAssertEqual(result.error, Double(wrong) / 40)
        XCTAssertEqual(result.count, 40)
    }

    func testBarrierFormulasOnHandMadeCurves() {
        // f = [1, 3, 2] at λ = 0, 0.25, 1: midpoint 3 − 1.5; linear 3 − (0.75·1 + 0.25·2).
        XCTAssertEqual(Barrier.midpoint([1, 3, 2]), 1.5)
        XCTAssertEqual(Barrier.linear(lambdas: [0, 0.25, 1], [1, 3, 2]), 1.75)
        // Monotone curve below its chord: the linear barrier is 0 (at the endpoints), the
        // midpoint one is half the endpoint gap.
        XCTAssertEqual(Barrier.midpoint([1, 1.9, 3]), 1)
        XCTAssertEqual(Barrier.linear(lambdas: [0, 0.5, 1], [1, 1.9, 3]), 0)
        XCTAssertEqual(Barrier.linear(lambdas: [0, 0.5, 1], [1, 2.5, 3]), 0.5)
        let report = BarrierReport(curve: InterpolationCurve(lambdas: [0, 0.25, 1], losses: [1, 3, 2], errors: [0.5, 0.5, 0.5]))
        XCTAssertEqual(report.lossBarrier, 1.5)
        XCTAssertEqual(report.lossBarrierLinear, 1.75)
        XCTAssertEqual(report.errorBarrier, 0)
        XCTAssertEqual(report.errorBarrierLinear, 0)
    }

    func testReportJSONKeysAreSnakeCase() throws {
        let report = BarrierReport(curve: InterpolationCurve(lambdas: [0, 1], losses: [1, 2], errors: [0, 0]))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["loss_barrier", "error_barrier", "loss_barrier_linear", "error_barrier_linear", "curve"])
        XCTAssertEqual(Set((json["curve"] as! [String: Any]).keys), ["lambda", "loss", "error"])
        XCTAssertEqual(try JSONDecoder().decode(BarrierReport.self, from: JSONEncoder().encode(report)), report)
    }

    func testIdenticalModelsHaveNoBarrier() {
        let data = syntheticBatches()
        let a = smallMLP(seed: 1), b = smallMLP(seed: 1)
        let report = BarrierReport(curve: interpolationCurve(smallMLP(seed: 9), along: LinearPath(from: a, to: b),
                                                             lambdas: lambdaGrid(5), on: data))
        XCTAssertEqual(report.lossBarrier, 0, accuracy: 1e-6)
        XCTAssertEqual(report.lossBarrierLinear, 0, accuracy: 1e-6)
        XCTAssertEqual(report.errorBarrier, 0)
        XCTAssertEqual(report.errorBarrierLinear, 0)
    }

    func testPermutedCopyHasEqualEndpointsAndABarrierBetween() {
        let data = syntheticBatches()
        let a = smallMLP(hidden: 16, seed: 1)
        // Larger weights, as after training, so the averaged net is clearly a different one.
        noGrad { for p in a.parameters() { p.assign(p * 4) } }
        let b = permutedCopy(of: a, seed: 5)
        let curve = interpolationCurve(smallMLP(hidden: 16, seed: 9), along: LinearPath(from: a, to: b),
                                       lambdas: lambdaGrid(5), on: data)
        XCTAssertEqual(curve.losses[0], curve.losses[4], accuracy: 1e-6)
        XCTAssertEqual(curve.errors[0], curve.errors[4])
        let report = BarrierReport(curve: curve)
        // Same function at both ends, different weights: the middle is a different net.
        XCTAssertGreaterThan(abs(curve.losses[2] - curve.losses[0]), 1e-3)
        XCTAssertEqual(report.lossBarrier, report.lossBarrierLinear, accuracy: 1e-6)
        XCTAssertGreaterThanOrEqual(report.lossBarrier, 0)
    }

    func testBatchNormReestimationChangesOnlyTheBuffers() {
        let generator = Generator(seed: 3)
        let norm = BatchNorm1d(6)
        let model = Sequential(Linear(4, 6, generator: generator), norm, ReLU(), Linear(6, 3, generator: generator))
        let data = syntheticBatches(count: 48, batchSize: 16)
        model.train()
        let parameters = model.namedParameters().map { ($0.name, $0.tensor.scalars(as: Float.self)) }
        reestimateBatchNormStatistics(model, on: data)

        // Parameters untouched, modes restored.
        for ((name, before), (_, after)) in zip(parameters, model.namedParameters().map { ($0.name, $0.tensor.scalars(as: Float.self)) }) {
            XCTAssertEqual(before, after, name)
        }
        XCTAssertTrue(model.namedModules().allSatisfy { $0.module.isTraining })
        // Buffers: the cumulative average of the batch statistics of the BN input.
        let hidden = data.map { batch in noGrad { model.layers[0](batch.inputs).to(.float64) } }
        let mean = hidden.map { $0.mean(axes: [0]) }.reduce(Tensor.zeros([6], dtype: .float64), +) / 3
        let variance = hidden.map { $0.variance(axes: [0]) }.reduce(Tensor.zeros([6], dtype: .float64), +) / 3
        XCTAssertLessThan(norm.runningMean!.to(.float64).maxAbsDifference(mean), 1e-5)
        XCTAssertLessThan(norm.runningVar!.to(.float64).maxAbsDifference(variance), 1e-5)
        XCTAssertEqual(norm.numBatchesTracked!.item(as: Int64.self), 3)
        XCTAssertGreaterThan(norm.runningVar!.to(.float64).maxAbsDifference(Tensor.ones([6], dtype: .float64)), 1e-3)
    }

    func testInterpolationWithBatchNormReestimationRestoresTheWorkspace() {
        func bnModel(_ seed: UInt64) -> Sequential {
            let generator = Generator(seed: seed)
            return Sequential(Linear(4, 6, generator: generator), BatchNorm1d(6), ReLU(), Linear(6, 3, generator: generator))
        }
        let data = syntheticBatches()
        let a = bnModel(1), b = bnModel(2), work = bnModel(3)
        reestimateBatchNormStatistics(a, on: data)
        reestimateBatchNormStatistics(b, on: data)
        let before = snapshot(work)
        let path = LinearPath(from: a, to: b)
        let stored = interpolationCurve(work, along: path, lambdas: [0, 0.5, 1], on: data)
        let reestimated = interpolationCurve(work, along: path, lambdas: [0, 0.5, 1], on: data,
                                             batchNorm: .reestimate(data))
        // At the endpoints the models' statistics were estimated on the same data.
        XCTAssertEqual(stored.losses[0], reestimated.losses[0], accuracy: 1e-5)
        XCTAssertEqual(stored.losses[2], reestimated.losses[2], accuracy: 1e-5)
        XCTAssertGreaterThan(abs(stored.losses[1] - reestimated.losses[1]), 1e-5)
        for ((name, x), (_, y)) in zip(before, snapshot(work)) { XCTAssertEqual(x, y, name) }
    }
}
