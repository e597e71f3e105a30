import XCTest
@testable import FathomTensor

final class JoiningTests: XCTestCase {
    func testAgainstNumPy() throws {
        let cases = try loadFixtures("creation")
        for name in ["cat_axis1", "cat_axis0", "cat_axis_neg1"] {
            let c = cases[name]!
            let inputs = c.inputs.map(\.tensor)
            assertMatches(Tensor.cat(inputs, axis: Int(c.params["axis"]!)), c.output, name)
            // Non-contiguous inputs give the same result.
            let permuted = inputs.map { $0.permuted([2, 0, 1]).contiguous().permuted([1, 2, 0]) }
            XCTAssertFalse(permuted[0].isContiguous)
            assertMatches(Tensor.cat(permuted, axis: Int(c.params["axis"]!)), c.output, name + " (strided)")
        }
        for name in ["stack_axis0", "stack_axis2", "stack_axis_neg1"] {
            let c = cases[name]!
            assertMatches(Tensor.stack(c.inputs.map(\.tensor), axis: Int(c.params["axis"]!)), c.output, name)
        }
        let split = cases["split_piece1"]!
        let pieces = split.inputs[0].tensor.split([2, 3], axis: 1)
        XCTAssertEqual(pieces.map(\.shape), [[2, 2, 4], [2, 3, 4]])
        assertMatches(pieces[1], split.output, "split_piece1")
    }

    func testSplitChunkUnbindShapesAndViews() {
        let x = Tensor.arange(0, 10, dtype: .float32).reshaped([10, 1])
        XCTAssertEqual(x.split(4).map(\.shape), [[4, 1], [4, 1], [2, 1]])
        XCTAssertEqual(x.split(4)[2].doubles, [8, 9])
        XCTAssertEqual(x.chunk(3).map(\.shape), [[4, 1], [4, 1], [2, 1]])
        // torch.chunk semantics: 6 rows in 4 chunks gives 3 chunks of 2.
        XCTAssertEqual(Tensor.zeros([6]).chunk(4).map(\.shape), [[2], [2], [2]])
        XCTAssertEqual(Tensor.zeros([2, 3]).unbind(axis: 1).map(\.shape), [[2], [2], [2]])
        // Pieces are views: they share the input's memory.
        let pieces = x.split([3, 7])
        XCTAssertTrue(pieces[1].storage === x.storage)
        XCTAssertEqual(pieces[1].offset, 3)
    }

    func testMixedDTypesPromote() {
        let i = Tensor([1, 2] as [Int64]), f = Tensor([0.5] as [Float])
        let joined = Tensor.cat([i, f])
        XCTAssertEqual(joined.dtype, .float32)
        XCTAssertEqual(joined.scalars(as: Float.self), [1, 2, 0.5])
        let stacked = Tensor.stack([Tensor([true, false]), Tensor([3, 4] as [Int64])])
        XCTAssertEqual(stacked.dtype, .int64)
        XCTAssertEqual(stacked.scalars(as: Int64.self), [1, 0, 3, 4])
    }

    func testErrorsNameTheOpAndShapes() {
        XCTAssertThrowsError(try catShape([[2, 3], [2, 4]], axis: 0)) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.cat: tensor 0 has shape [2, 3] but tensor 1 has shape [2, 4]; sizes must match on every axis except axis 0, and axis 1 differs")
        }
        XCTAssertThrowsError(try catShape([[2, 3], [3]], axis: 0)) { error in
            XCTAssertTrue((error as? TensorError)?.message.contains("same rank") ?? false)
        }
        XCTAssertThrowsError(try catShape([], axis: 0))
        XCTAssertThrowsError(try catShape([[2]], axis: 1)) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.cat: axis 1 is out of range for tensors of rank 1; use an axis in -1..<1")
        }
        XCTAssertThrowsError(try stackShape([[2, 3], [3, 2]], axis: 0)) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.stack: tensor 0 has shape [2, 3] but tensor 1 has shape [3, 2]; stacked tensors must have equal shapes")
        }
        XCTAssertEqual(try stackShape([[2, 3], [2, 3]], axis: -1).0, [2, 3, 2])
        XCTAssertThrowsError(try Tensor.zeros([5, 2]).validateSplit([2, 2], axis: 0)) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.split: sizes [2, 2] must be >= 0 and add up to 5, the size of axis 0 of shape [5, 2]")
        }
    }

    func testGradients() {
        checkGradients([sample([2, 3]), sample([2, 1], offset: 1), sample([2, 2], offset: 2)]) {
            Tensor.cat($0, axis: 1)
        }
        checkGradients([sample([2, 3, 2]), sample([1, 3, 2], offset: 1)]) { Tensor.cat($0, axis: 0) }
        checkGradients([sample([3, 2]), sample([3, 2], offset: 1), sample([3, 2], offset: 2)]) {
            Tensor.stack($0, axis: 1)
        }
        checkGradients([sample([2, 3])]) { Tensor.stack([$0[0], $0[0] * $0[0]], axis: -1) }
        checkGradients([sample([5, 3])]) { xs in
            let parts = xs[0].split([1, 4], axis: 0)
            return parts[0] * parts[1]
        }
        checkGradients([sample([4, 6])]) { xs in
            let parts = xs[0].chunk(3, axis: 1)
            return parts[0] * parts[1] - parts[2]
        }
        checkGradients([sample([3, 2])]) { xs in
            let rows = xs[0].unbind()
            return rows[0] * rows[2] + rows[1]
        }
        // Only some inputs require grad.
        let fixed = sample([2, 2], offset: 5)
        checkGradients([sample([2, 2])]) { Tensor.cat([$0[0], fixed], axis: 0) * Tensor.cat([fixed, $0[0]], axis: 0) }
    }

    func testSecondOrder() {
        checkSecondOrder([sample([2, 3]), sample([2, 2], offset: 1)]) { xs in
            let joined = Tensor.cat(xs, axis: 1)
            return joined * joined * joined
        }
        checkSecondOrder([sample([3]), sample([3], offset: 2)]) { xs in
            let s = Tensor.stack(xs, axis: 0)
            return s * s * Tensor.stack([xs[1], xs[0]])
        }
    }
}
