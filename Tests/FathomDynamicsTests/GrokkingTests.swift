import Foundation
import XCTest
import FathomTensor
@testable import FathomDynamics

final class GrokkingTests: XCTestCase {
    func testModularAdditionCoversEveryPairOnceWithCorrectLabels() {
        let data = ModularAddition(p: 7, trainFraction: 0.4, seed: 3)
        XCTAssertEqual(data.trainLabels.shape, [19])  // Int(0.4 · 49)
        XCTAssertEqual(data.testLabels.shape, [30])
        var seen = Set<Int64>()
        for (inputs, labels) in [(data.trainInputs, data.trainLabels), (data.testInputs, data.testLabels)] {
            let pairs = inputs.scalars(as: Int64.self), y = labels.scalars(as: Int64.self)
            for i in y.indices {
                XCTAssertEqual((pairs[2 * i] + pairs[2 * i + 1]) % 7, y[i])
                seen.insert(pairs[2 * i] * 7 + pairs[2 * i + 1])
            }
        }
        XCTAssertEqual(seen.count, 49)
        // The split is a function of the seed.
        let again = ModularAddition(p: 7, trainFraction: 0.4, seed: 3), other = ModularAddition(p: 7, trainFraction: 0.4, seed: 4)
        XCTAssertEqual(again.trainInputs.scalars(as: Int64.self), data.trainInputs.scalars(as: Int64.self))
        XCTAssertNotEqual(other.trainInputs.scalars(as: Int64.self), data.trainInputs.scalars(as: Int64.self))
    }

    /// A tiny run memorizes its training set; records land every `logEvery` steps plus the last.
    func testTinyRunFitsTrainingSetAndRecordsOnSchedule() {
        var config = GrokkingConfig()
        config.p = 11
        config.steps = 45
        config.logEvery = 10
        config.lr = 1e-2
        config.embeddingDim = 16
        config.hiddenDim = 32
        for loss in GrokkingConfig.Loss.allCases {
            config.loss = loss
            config.optimizer = loss == .softmax ? .adamw : .perpAdamW
            var seen: [Int] = []
            let result = trainGrokking(config) { seen.append($0.step) }
            XCTAssertEqual(seen, [0, 10, 20, 30, 40, 45])
            XCTAssertEqual(result.history.map(\.step), seen)
            XCTAssertEqual(result.trainCount, 48)
            XCTAssertEqual(result.trainAccuracy99Step, result.history.first { $0.trainAccuracy >= 0.99 }?.step)
            XCTAssertLessThan(result.final.trainLoss, result.history[0].trainLoss, "\(loss)")
            if loss == .softmax {  // plain AdamW memorizes 48 pairs within 45 steps
                XCTAssertEqual(result.final.trainAccuracy, 1)
                XCTAssertNotNil(result.trainAccuracy99Step)
            } else {
                XCTAssertGreaterThan(result.final.trainAccuracy, 0.6)
            }
        }
    }

    func testLogXAxisUsesDecadesAndSkipsNonPositive() {
        var plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y")
        plot.logX = true
        plot.add("s", x: [0, 1, 10, 1000], y: [1, 2, 3, 4])
        XCTAssertEqual(plot.ranges.x, 0...3)
        let svg = plot.svg
        for label in [">1<", ">10<", ">100<", ">1000<"] { XCTAssertTrue(svg.contains(label), label) }
        // Three drawn points (x = 0 has no logarithm).
        let points = svg.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }
        XCTAssertEqual(points.split(separator: " ").count, 3)
    }
}
