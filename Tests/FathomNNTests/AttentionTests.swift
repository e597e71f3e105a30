import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class AttentionTests: XCTestCase {
    func testForwardMatchesNumPy() throws {
        let fixtures = try loadFixtures("recurrent").filter { $0.key.hasPrefix("mha") }
        XCTAssertEqual(fixtures.count, 5)
        for (name, c) in fixtures.sorted(by: { $0.key < $1.key }) {
            let p = c.params
            let (e, heads) = (Int(p["embed"]!), Int(p["heads"]!))
            let m = MultiheadAttention(embedDim: e, numHeads: heads, bias: p["bias"] == 1,
                                       kdim: Int(p["kdim"]!), vdim: Int(p["vdim"]!), dtype: .float64)
            var inputs = c.inputs.map(\.tensor)
            let query = inputs.removeFirst()
            var key = inputs.removeFirst(), value = inputs.removeFirst()
            if p["self"] == 1 { (key, value) = (query, query) }  // the shared-projection path
            let attnMask = p["mask"] != 0 ? inputs.removeFirst() : nil
            let padding = p["padding"] == 1 ? inputs.removeFirst() : nil
            let keys = m.stateDict().keys
            XCTAssertEqual(keys.count, inputs.count, name)
            try m.load(stateDict: StateDict(Array(zip(keys, inputs))))
            let (output, weights) = m(query: query, key: key, value: value, keyPaddingMask: padding, attnMask: attnMask,
                                      averageAttnWeights: p["average"] == 1)
            XCTAssertEqual(output.shape, query.shape, name)
            assertMatches(Tensor.cat([output.reshaped([-1]), weights!.reshaped([-1])]), c.output, rtol: 1e-10, atol: 1e-12, name)
        }
    }

    func testStateDictKeysMatchPyTorch() {
        let m = MultiheadAttention(embedDim: 8, numHeads: 2)
        XCTAssertEqual(m.stateDict().keys, ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        XCTAssertEqual(m.namedParameters().map(\.tensor.shape), [[24, 8], [24], [8, 8], [8]])
        XCTAssertEqual(m.in_proj_bias_values, [Double](repeating: 0, count: 24))
        XCTAssertEqual(m.outProj.bias!.doubles, [Double](repeating: 0, count: 8))
        let cross = MultiheadAttention(embedDim: 4, numHeads: 1, bias: false, kdim: 3, vdim: 5)
        XCTAssertEqual(cross.stateDict().keys, ["q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"])
        XCTAssertEqual(cross.namedParameters().map(\.tensor.shape), [[4, 4], [4, 3], [4, 5], [4, 4]])
        XCTAssertEqual(m.namedModules().map(\.name), ["", "out_proj"])
    }

    func testGradientsThroughCrossAttentionWithMasks() {
        let m = MultiheadAttention(embedDim: 4, numHeads: 2, dtype: .float64)
        let padding = Tensor([false, false, true, false, false, false], shape: [2, 3])
        let causal = Tensor([false, true, true, false, false, true], shape: [2, 3])
        let inputs = [sample([2, 2, 4]), sample([2, 3, 4], offset: 0.2), sample([2, 3, 4], scale: 0.7)]
            + m.parameters().map { $0.detach() + 0.1 }
        checkGradients(inputs) { xs in
            m.inProjWeight = xs[3]
            m.inProjBias = xs[4]
            m.outProj.weight = xs[5]
            m.outProj.bias = xs[6]
            let (output, weights) = m(query: xs[0], key: xs[1], value: xs[2], keyPaddingMask: padding, attnMask: causal)
            return Tensor.cat([output.reshaped([-1]), weights!.reshaped([-1])])
        }
    }

    func testSelfAttentionGradientsAndSecondOrder() {
        let m = MultiheadAttention(embedDim: 4, numHeads: 2, dtype: .float64)
        let floatMask = sample([3, 3], scale: 0.5)
        checkGradients([sample([1, 3, 4])]) { xs in
            m(query: xs[0], key: xs[0], value: xs[0], attnMask: floatMask, averageAttnWeights: false).output
        }
        checkSecondOrder([sample([1, 3, 4], scale: 0.5)]) { xs in
            m(query: xs[0], key: xs[0], value: xs[0], needWeights: false).output.square().sum()
        }
    }

    func testLayoutsAgree() {
        let a = MultiheadAttention(embedDim: 6, numHeads: 3, generator: Generator(seed: 4))
        let b = MultiheadAttention(embedDim: 6, numHeads: 3, batchFirst: false, generator: Generator(seed: 4))
        let q = Tensor.randn([2, 3, 6], seed: 1), kv = Tensor.randn([2, 5, 6], seed: 2)
        let (ya, wa) = a(query: q, key: kv, value: kv)
        let (yb, wb) = b(query: q.transposed(0, 1), key: kv.transposed(0, 1), value: kv.transposed(0, 1))
        XCTAssertEqual(ya.shape, [2, 3, 6])
        XCTAssertEqual(wa!.shape, [2, 3, 5])
        XCTAssertEqual(yb.shape, [3, 2, 6])
        XCTAssertTrue(ya.allClose(yb.transposed(0, 1), rtol: 1e-6, atol: 1e-6))
        XCTAssertTrue(wa!.allClose(wb!, rtol: 1e-6, atol: 1e-6))
        let (y1, w1) = a(query: q[1], key: kv[1], value: kv[1])
        XCTAssertEqual(y1.shape, [3, 6])
        XCTAssertTrue(y1.allClose(ya[1], rtol: 1e-6, atol: 1e-6))
        XCTAssertTrue(w1!.allClose(wa![1], rtol: 1e-6, atol: 1e-6))
        let rows = wa!.sum(axis: -1).doubles
        for r in rows { XCTAssertEqual(r, 1, accuracy: 1e-5) }
        XCTAssertNil(a(query: q, key: kv, value: kv, needWeights: false).weights)
    }

    func testAttentionDropoutOnlyInTraining() {
        let m = MultiheadAttention(embedDim: 4, numHeads: 2, dropout: 0.5, generator: Generator(seed: 1))
        let x = Tensor.randn([2, 6, 4], seed: 3)
        XCTAssertNotEqual(m(query: x, key: x, value: x).output.doubles, m(query: x, key: x, value: x).output.doubles)
        m.eval()
        XCTAssertFalse(m.outProj.isTraining, "eval reaches out_proj")
        XCTAssertEqual(m(query: x, key: x, value: x).output.doubles, m(query: x, key: x, value: x).output.doubles)
    }

    func testShapeErrorsNameTheProblem() {
        let m = MultiheadAttention(embedDim: 4, numHeads: 2)
        let q = Tensor.zeros([2, 3, 4]), kv = Tensor.zeros([2, 5, 4])
        XCTAssertThrowsError(try m.validate(query: q, key: kv, value: kv, keyPaddingMask: Tensor.zeros([2, 3], dtype: .bool), attnMask: nil)) { error in
            XCTAssertEqual("\(error)", "Fathom.MultiheadAttention: keyPaddingMask of shape [2, 3] must be [2, 5] ([N, S]) for key of shape [2, 5, 4]")
        }
        XCTAssertThrowsError(try m.validate(query: q, key: kv, value: kv, keyPaddingMask: nil, attnMask: Tensor.zeros([5, 3]))) { error in
            XCTAssertEqual("\(error)", "Fathom.MultiheadAttention: attnMask of shape [5, 3] must be [L, S] = [3, 5] or [N · numHeads, L, S] = [4, 3, 5]")
        }
        XCTAssertThrowsError(try m.validate(query: Tensor.zeros([2, 3, 5]), key: kv, value: kv, keyPaddingMask: nil, attnMask: nil)) { error in
            XCTAssertEqual("\(error)", "Fathom.MultiheadAttention: query, key and value have 5, 4 and 4 features but the layer expects 4, 4 and 4")
        }
    }
}

private extension MultiheadAttention {
    var in_proj_bias_values: [Double] { inProjBias!.doubles }
}
