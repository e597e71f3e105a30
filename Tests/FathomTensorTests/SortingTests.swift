import XCTest
@testable import FathomTensor

final class SortingTests: XCTestCase {
    func testAgainstNumPy() throws {
        let c = try loadFixtures("indexing")
        runFixture(c, "sort_last") { $0[0].sort().values }
        runFixture(c, "sort_indices_ties") { $0[0].sort(axis: 1).indices }
        runFixture(c, "sort_desc_indices_ties") { $0[0].sort(axis: 1, descending: true).indices }
        runFixture(c, "sort_perm_axis_1_desc") { $0[0].permuted([2, 0, 1]).sort(axis: 1, descending: true).values }
        runFixture(c, "argsort_axis_0") { $0[0].argsort(axis: 0) }
        runFixture(c, "topk3_last_values") { $0[0].topk(3).values }
        runFixture(c, "topk2_axis_1_smallest_indices") { $0[0].topk(2, axis: 1, largest: false).indices }
        runFixture(c, "topk2_ties_indices") { $0[0].topk(2, axis: -1).indices }
    }

    func testNaNAndIntegers() {
        let x = Tensor([3, .nan, 1, 2] as [Double])
        XCTAssertEqual(x.argsort().scalars(as: Int64.self), [2, 3, 0, 1])          // NaN last
        XCTAssertEqual(x.argsort(descending: true).scalars(as: Int64.self), [1, 0, 3, 2])
        XCTAssertEqual(x.topk(1).indices.scalars(as: Int64.self), [1])
        let i = Tensor([5, -2, 5, 0] as [Int64])
        XCTAssertEqual(i.sort().values.scalars(as: Int64.self), [-2, 0, 5, 5])
        XCTAssertEqual(i.sort(descending: true).indices.scalars(as: Int64.self), [0, 2, 3, 1])
        XCTAssertEqual(Tensor([true, false, true]).argsort().scalars(as: Int64.self), [1, 0, 2])
        XCTAssertEqual(i.topk(0).values.shape, [0])
        let s = Tensor.scalar(2, dtype: .float64).sort()
        XCTAssertEqual(s.values.shape, [])
        XCTAssertEqual(s.indices.item(as: Int64.self), 0)
    }

    func testValuesAreDifferentiable() {
        checkGradients([sample([3, 5])]) { $0[0].sort(axis: 1).values }
        checkGradients([sample([3, 5])]) { $0[0].sort(axis: 0, descending: true).values }
        checkGradients([sample([3, 5])]) { $0[0].topk(2, axis: 1).values }
        checkGradients([sample([4, 3])]) { $0[0].T.topk(3, axis: 1, largest: false).values }
        checkSecondOrder([sample([3, 4])]) { x in
            let top = x[0].topk(2).values
            return (top * top).sum()
        }
    }

    /// The small-k selection path gives the same result as a full sort, ties and NaN included.
    func testTopKSelectionMatchesFullSort() {
        let values: [Double] = (0..<400).map { i -> Double in i % 37 == 5 ? .nan : Double((i * 7919) % 23) }
        let x = Tensor(values, shape: [4, 100])
        for largest in [true, false] {
            let full = x.argsort(axis: 1, descending: largest)[.all, ..<5]
            let top = x.topk(5, axis: 1, largest: largest)
            XCTAssertEqual(top.indices.scalars(as: Int64.self), full.contiguous().scalars(as: Int64.self))
            let columns = x.T.topk(3, axis: 0, largest: largest).indices
            XCTAssertEqual(columns.scalars(as: Int64.self), x.T.argsort(axis: 0, descending: largest)[..<3].contiguous().scalars(as: Int64.self))
        }
    }

    func testErrorMessages() {
        let x = Tensor.zeros([2, 4])
        XCTAssertThrowsError(try x.validateTopK(5, axis: 1)) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.topk: k = 5 is out of range for axis 1 of size 4 (shape [2, 4]); k must be in 0...4")
        }
        XCTAssertThrowsError(try x.validateTopK(1, axis: -3)) { error in
            XCTAssertEqual((error as? TensorError)?.description,
                           "Fathom.topk: axis -3 is out of range for a tensor of shape [2, 4]; use an axis in -2..<2")
        }
        XCTAssertEqual(try x.validateTopK(4, axis: -1), 1)
    }
}
