import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class EmbeddingTests: XCTestCase {
    func testLookupReturnsRows() {
        let weight = sample([5, 3])
        let indices = Tensor([4, 0, 2, 2, 1, 4] as [Int64], shape: [2, 3])
        let out = embedding(indices, weight)
        XCTAssertEqual(out.shape, [2, 3, 3])
        let w = weight.doubles, o = out.doubles
        for (k, i) in indices.scalars(as: Int64.self).enumerated() {
            XCTAssertEqual(Array(o[k * 3..<k * 3 + 3]), Array(w[Int(i) * 3..<Int(i) * 3 + 3]))
        }
        // 0-d index: one row.
        XCTAssertEqual(embedding(Tensor.full([], 3, dtype: .int64), weight).doubles, Array(w[9..<12]))
    }

    func testGradientAccumulatesRepeatedIndices() {
        let weight = sample([4, 2]).requiringGrad()
        let indices = Tensor([1, 3, 1, 1] as [Int64])
        let seed = Tensor([1.0, 2, 3, 4, 5, 6, 7, 8], shape: [4, 2])
        let g = gradients(of: [(embedding(indices, weight) * seed).sum()], wrt: [weight])[0]
        // Row 1 gets rows 0, 2, 3 of the seed; row 3 gets row 1; rows 0 and 2 nothing.
        XCTAssertEqual(g.doubles, [0, 0, 1 + 5 + 7, 2 + 6 + 8, 0, 0, 3, 4])
        checkGradients([sample([4, 2])]) { xs in embedding(indices, xs[0]).square() }
        checkSecondOrder([sample([4, 2])]) { xs in embedding(indices, xs[0]).square() }
    }

    func testPaddingIndexGetsNoGradient() {
        let weight = sample([4, 2], offset: 1).requiringGrad()
        let indices = Tensor([2, 0, 2, 3] as [Int64])
        for pad in [2, -2] {
            let out = embedding(indices, weight, paddingIdx: pad)
            // The padding row is still returned as is.
            XCTAssertEqual(Array(out.doubles[0..<2]), Array(weight.doubles[4..<6]))
            let g = gradients(of: [out.sum()], wrt: [weight])[0]
            XCTAssertEqual(g.doubles, [1, 1, 0, 0, 0, 0, 1, 1])
        }
    }

    func testEmbeddingLayer() {
        let layer = Embedding(1000, 16, paddingIdx: 3, generator: Generator(seed: 5))
        XCTAssertEqual(layer.namedParameters().map(\.name), ["weight"])
        XCTAssertEqual(layer.stateDict().keys, ["weight"])
        XCTAssertEqual(layer.weight.shape, [1000, 16])
        XCTAssertEqual(layer.weight.dtype, .float32)
        XCTAssertTrue(layer.weight.requiresGrad)
        let w = layer.weight.to(.float64)
        XCTAssertEqual(w.select([.at(3)]).abs().sum().item(), 0)
        // N(0, 1), as PyTorch initializes it.
        XCTAssertEqual(w.mean().item(), 0, accuracy: 0.02)
        XCTAssertEqual(w.std().item(), 1, accuracy: 0.02)
        let out = layer(Tensor([3, 7, 3] as [Int64]))
        XCTAssertEqual(out.shape, [3, 16])
        out.sum().backward()
        let g = layer.weight.grad!.to(.float64)
        XCTAssertEqual(g.select([.at(3)]).abs().sum().item(), 0)
        XCTAssertEqual(g.select([.at(7)]).sum().item(), 16)
        XCTAssertEqual(Embedding(10, 4, paddingIdx: -1).paddingIdx, 9)
    }

    func testErrors() {
        func message(_ body: () throws(TensorError) -> Tensor) -> String {
            do {
                _ = try body()
                return ""
            } catch {
                return error.description
            }
        }
        let w = sample([5, 3])
        let range = message { () throws(TensorError) in try embedding(validating: Tensor([1, 5] as [Int64]), w) }
        XCTAssertTrue(range.contains("Fathom.embedding: index 5 is out of range for an embedding of 5 rows"), range)
        let dtype = message { () throws(TensorError) in try embedding(validating: Tensor([1.0, 2.0]), w) }
        XCTAssertTrue(dtype.contains("indices must be int64, got float64"), dtype)
        let pad = message { () throws(TensorError) in try embedding(validating: Tensor([1] as [Int64]), w, paddingIdx: 5) }
        XCTAssertTrue(pad.contains("paddingIdx 5 is out of range for 5 embeddings"), pad)
        let shape = message { () throws(TensorError) in try embedding(validating: Tensor([1] as [Int64]), sample([5])) }
        XCTAssertTrue(shape.contains("weight has shape [5]; it must be [numEmbeddings, embeddingDim]"), shape)
    }
}
