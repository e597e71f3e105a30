import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

/// Weights per layer and direction from a flat list in state-dict order.
func recurrentWeights(_ flat: [Tensor], bias: Bool) -> [RecurrentWeights] {
    let per = bias ? 4 : 2
    return stride(from: 0, to: flat.count, by: per).map { i in
        RecurrentWeights(inputHidden: flat[i], hiddenHidden: flat[i + 1],
                         inputBias: bias ? flat[i + 2] : nil, hiddenBias: bias ? flat[i + 3] : nil)
    }
}

/// A model holding a recurrent layer as a child, to check nested state-dict keys.
private final class Encoder: Module {
    let rnn = GRU(2, 3)
    let head = Linear(3, 1)
}

final class RecurrentTests: XCTestCase {
    private func module(_ name: String, _ p: [String: Double]) -> RecurrentBase {
        let (input, hidden, layers) = (Int(p["input"]!), Int(p["hidden"]!), Int(p["layers"]!))
        let (bias, batchFirst, bidirectional) = (p["bias"] == 1, p["batch_first"] == 1, p["bidirectional"] == 1)
        switch name.prefix(while: { $0 != "_" }) {
        case "rnn":
            return RNN(input, hidden, numLayers: layers, nonlinearity: p["relu"] == 1 ? .relu : .tanh, bias: bias,
                       batchFirst: batchFirst, bidirectional: bidirectional, dtype: .float64)
        case "lstm":
            return LSTM(input, hidden, numLayers: layers, bias: bias, batchFirst: batchFirst,
                        bidirectional: bidirectional, dtype: .float64)
        default:
            return GRU(input, hidden, numLayers: layers, bias: bias, batchFirst: batchFirst,
                       bidirectional: bidirectional, dtype: .float64)
        }
    }

    func testForwardMatchesNumPy() throws {
        let fixtures = try loadFixtures("recurrent").filter { !$0.key.hasPrefix("mha") }
        XCTAssertEqual(fixtures.count, 9)
        for (name, c) in fixtures.sorted(by: { $0.key < $1.key }) {
            let m = module(name, c.params)
            let stateCount = c.params["state"] == 1 ? m.stateCount : 0
            let x = c.inputs[0].tensor
            let states = c.inputs[1..<(1 + stateCount)].map(\.tensor)
            let parameters = c.inputs[(1 + stateCount)...].map(\.tensor)
            let keys = m.stateDict().keys
            XCTAssertEqual(keys.count, parameters.count, name)
            // Loading by key checks the names and shapes against PyTorch's layout.
            try m.load(stateDict: StateDict(Array(zip(keys, parameters))))
            var pieces: [Tensor]
            switch m {
            case let lstm as LSTM:
                let (output, state) = lstm(x, states.isEmpty ? nil : (states[0], states[1]))
                pieces = [output, state.h, state.c]
            case let rnn as RNN:
                let (output, state) = rnn(x, states.first)
                pieces = [output, state]
            case let gru as GRU:
                let (output, state) = gru(x, states.first)
                pieces = [output, state]
            default: fatalError()
            }
            assertMatches(Tensor.cat(pieces.map { $0.reshaped([-1]) }), c.output, rtol: 1e-10, atol: 1e-12, name)
        }
    }

    func testStateDictKeysMatchPyTorch() {
        let lstm = LSTM(4, 3, numLayers: 2)
        XCTAssertEqual(lstm.stateDict().keys, [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
        ])
        XCTAssertEqual(lstm.namedParameters().map(\.tensor.shape), [[12, 4], [12, 3], [12], [12], [12, 3], [12, 3], [12], [12]])
        let gru = GRU(4, 3, numLayers: 2, bias: false, bidirectional: true)
        XCTAssertEqual(gru.stateDict().keys, [
            "weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse",
        ])
        XCTAssertEqual(gru.namedParameters().map(\.tensor.shape), [[9, 4], [9, 3], [9, 4], [9, 3], [9, 6], [9, 3], [9, 6], [9, 3]])
        XCTAssertEqual(RNN(2, 5).namedParameters().map(\.tensor.shape), [[5, 2], [5, 5], [5], [5]])
        let encoder = Encoder()
        XCTAssertEqual(encoder.stateDict().keys, [
            "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "head.weight", "head.bias",
        ])
        XCTAssertEqual(encoder.parameterCount, 9 * 2 + 9 * 3 + 9 + 9 + 3 + 1)
        XCTAssertTrue(encoder.parameters().allSatisfy(\.requiresGrad))
    }

    func testInitializationFollowsPyTorch() {
        let lstm = LSTM(5, 16, numLayers: 2, generator: Generator(seed: 3))
        for (name, p) in lstm.namedParameters() {
            XCTAssertEqual(p.dtype, .float32, name)
            let values = p.doubles
            XCTAssertLessThanOrEqual(values.map { Swift.abs($0) }.max()!, 0.25, name)  // 1/√16
            XCTAssertGreaterThan(values.map { Swift.abs($0) }.max()!, 0.2, name)
        }
        let again = LSTM(5, 16, numLayers: 2, generator: Generator(seed: 3))
        XCTAssertEqual(lstm.parameters()[4].doubles, again.parameters()[4].doubles, "seeded init is reproducible")
    }

    func testGradientsFlowToInputsStatesAndParameters() {
        let lstm = LSTM(2, 3, numLayers: 2, dtype: .float64)
        let inputs = [sample([2, 3, 2]), sample([2, 2, 3], offset: 0.1, scale: 0.5), sample([2, 2, 3], offset: -0.2, scale: 0.5)]
            + lstm.parameters().map { $0.detach() }
        checkGradients(inputs) { xs in
            let (output, state) = lstm.run(xs[0], [xs[1], xs[2]], weights: recurrentWeights(Array(xs[3...]), bias: true))
            return Tensor.cat([output.reshaped([-1]), state[0].reshaped([-1]), state[1].reshaped([-1])])
        }
    }

    func testGRUAndRNNGradients() {
        let gru = GRU(2, 2, bidirectional: true, dtype: .float64)
        checkGradients([sample([2, 3, 2]), sample([2, 2, 2], scale: 0.5)] + gru.parameters().map { $0.detach() }) { xs in
            let (output, state) = gru.run(xs[0], [xs[1]], weights: recurrentWeights(Array(xs[2...]), bias: true))
            return Tensor.cat([output.reshaped([-1]), state[0].reshaped([-1])])
        }
        let rnn = RNN(2, 3, numLayers: 2, bias: false, batchFirst: false, dtype: .float64)
        checkGradients([sample([3, 2, 2])] + rnn.parameters().map { $0.detach() }) { xs in
            rnn.run(xs[0], nil, weights: recurrentWeights(Array(xs[1...]), bias: false)).output
        }
    }

    func testSecondOrderThroughLSTMSteps() {
        let lstm = LSTM(2, 2, dtype: .float64)
        checkSecondOrder([sample([1, 2, 2]), sample([1, 1, 2], scale: 0.5), sample([1, 1, 2], offset: 0.3)]
                         + lstm.parameters().map { $0.detach() }) { xs in
            let (output, state) = lstm.run(xs[0], [xs[1], xs[2]], weights: recurrentWeights(Array(xs[3...]), bias: true))
            return (output.square().sum() + state[1].sum())
        }
    }

    func testBackwardFillsParameterGradients() {
        let lstm = LSTM(3, 4, numLayers: 2)
        let (output, state) = lstm(Tensor.randn([2, 5, 3], seed: 1))
        XCTAssertEqual(output.shape, [2, 5, 4])
        XCTAssertEqual(state.h.shape, [2, 2, 4])
        XCTAssertEqual(state.c.shape, [2, 2, 4])
        (output.sum() + state.c.sum()).backward()
        for (name, p) in lstm.namedParameters() {
            XCTAssertEqual(p.grad?.shape, p.shape, name)
            XCTAssertGreaterThan(p.grad!.abs().sum().item(), 0, name)
        }
    }

    func testTimeMajorAndUnbatchedAgreeWithBatchFirst() {
        let a = GRU(3, 4, numLayers: 2, generator: Generator(seed: 5))
        let b = GRU(3, 4, numLayers: 2, batchFirst: false, generator: Generator(seed: 5))
        let x = Tensor.randn([2, 6, 3], seed: 2)
        let (ya, ha) = a(x)
        let (yb, hb) = b(x.transposed(0, 1))
        XCTAssertEqual(ya.doubles, yb.transposed(0, 1).contiguous().doubles)
        XCTAssertEqual(ha.doubles, hb.doubles)
        let (y1, h1) = a(x[0])
        XCTAssertEqual(y1.shape, [6, 4])
        XCTAssertEqual(h1.shape, [2, 4])
        XCTAssertTrue(y1.allClose(ya[0], rtol: 1e-6, atol: 1e-6))
    }

    func testDropoutBetweenLayersOnlyInTraining() {
        let lstm = LSTM(3, 8, numLayers: 2, dropout: 0.5, generator: Generator(seed: 1))
        let x = Tensor.randn([2, 4, 3], seed: 9)
        let train1 = lstm(x).output.doubles, train2 = lstm(x).output.doubles
        XCTAssertNotEqual(train1, train2, "fresh dropout masks each call")
        lstm.eval()
        let eval1 = lstm(x).output.doubles
        XCTAssertEqual(eval1, lstm(x).output.doubles)
        let plain = LSTM(3, 8, numLayers: 2)
        try! plain.load(stateDict: lstm.stateDict())
        XCTAssertEqual(plain(x).output.doubles, eval1)
    }

    func testShapeErrorsNameTheProblem() {
        let lstm = LSTM(3, 4, numLayers: 2)
        XCTAssertThrowsError(try lstm.validate(Tensor.zeros([2, 5, 4]), nil)) { error in
            XCTAssertEqual("\(error)", "Fathom.LSTM: input of shape [2, 5, 4] has 4 features but the layer was built with inputSize 3")
        }
        XCTAssertThrowsError(try lstm.validate(Tensor.zeros([2, 5, 3]), [Tensor.zeros([1, 2, 4])])) { error in
            XCTAssertEqual("\(error)", "Fathom.LSTM: initial state of shape [1, 2, 4] must be [2, 2, 4] ([numLayers · directions, N, hiddenSize]) for input of shape [2, 5, 3]")
        }
        XCTAssertThrowsError(try lstm.validate(Tensor.zeros([5]), nil))
        XCTAssertThrowsError(try lstm.validate(Tensor.zeros([2, 5, 3], dtype: .float64), nil)) { error in
            XCTAssertTrue("\(error)".contains("input is float64 but the parameters are float32"))
        }
    }
}
