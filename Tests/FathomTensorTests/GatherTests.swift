import XCTest
@testable import FathomTensor

final class GatherTests: XCTestCase {
    func testAgainstNumPy() throws {
        let c = try loadFixtures("indexing")
        runFixture(c, "gather_axis_1") { $0[0].gather(axis: 1, index: $0[1]) }
        runFixture(c, "gather_axis_2_smaller") { $0[0].gather(axis: -1, index: $0[1]) }
        runFixture(c, "gather_perm_axis_0") { $0[0].permuted([2, 0, 1]).gather(axis: 0, index: $0[1]) }
        runFixture(c, "scatter_add_axis_0") { $0[0].scatterAdd(axis: 0, index: $0[1], source: $0[2]) }
        runFixture(c, "scatter_add_axis_1") { $0[0].scatterAdd(axis: 1, index: $0[1], source: $0[2]) }
        runFixture(c, "index_select_axis_1") { $0[0].indexSelect(axis: 1, index: $0[1]) }
        runFixture(c, "index_select_perm_axis_2") { $0[0].permuted([2, 0, 1]).indexSelect(axis: 2, index: $0[1]) }
        runFixture(c, "index_add_axis_0") { $0[0].indexAdd(axis: 0, index: $0[1], source: $0[2]) }
        runFixture(c, "masked_fill") { $0[0].maskedFill(mask: $0[1], value: -2.5) }
        runFixture(c, "one_hot", float32: false) { Tensor.oneHot($0[0], numClasses: 6, dtype: .float64) }
    }

    func testOtherDTypes() {
        let labels = Tensor([1, 0, 2] as [Int64])
        XCTAssertEqual(Tensor.oneHot(labels).shape, [3, 3])                 // inferred classes
        XCTAssertEqual(Tensor.oneHot(labels, numClasses: 4, dtype: .int64).scalars(as: Int64.self),
                       [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0])
        let i = Tensor([10, 20, 30, 40] as [Int64], shape: [2, 2])
        XCTAssertEqual(i.gather(axis: 1, index: Tensor([1, 1, 0, 1] as [Int64], shape: [2, 2])).scalars(as: Int64.self), [20, 20, 30, 40])
        XCTAssertEqual(i.indexSelect(axis: 0, index: Tensor([1, 1] as [Int64])).scalars(as: Int64.self), [30, 40, 30, 40])
        let b = Tensor([true, false, true])
        XCTAssertEqual(b.maskedFill(mask: Tensor([true, true, false]), value: 0).scalars(as: Bool.self), [false, false, true])
        XCTAssertEqual(i.maskedFill(mask: Tensor([false, true]), value: -1).scalars(as: Int64.self), [10, -1, 30, -1])
    }

    func testGradients() {
        let index = Tensor([2, 0, 1, 1, 3, 0] as [Int64], shape: [2, 3])
        checkGradients([sample([4, 3])]) { $0[0].gather(axis: 0, index: index) }
        checkGradients([sample([3, 4])]) { $0[0].T.gather(axis: 0, index: index) }
        let repeated = Tensor([0, 0, 2, 0, 1, 1] as [Int64], shape: [3, 2])
        checkGradients([sample([3, 2]), sample([3, 2], offset: 1)]) { $0[0].scatterAdd(axis: 0, index: repeated, source: $0[1]) }
        checkGradients([sample([2, 4, 3])]) { $0[0].indexSelect(axis: 1, index: Tensor([3, 0, 3] as [Int64])) }
        checkGradients([sample([4, 3]), sample([2, 3])]) { $0[0].indexAdd(axis: 0, index: Tensor([1, 1] as [Int64]), source: $0[1]) }
        let mask = Tensor([true, false, false, true, false, true], shape: [2, 3])
        checkGradients([sample([2, 3])]) { $0[0].maskedFill(mask: mask, value: 7) }
        checkGradients([sample([4, 2, 3])]) { $0[0].maskedFill(mask: mask[0], value: 0) }
        // Second order flows through gather's scatter-add backward and back.
        checkSecondOrder([sample([4, 3])]) { x in
            let g = x[0].gather(axis: 0, index: index)
            return (g * g).sum()
        }
        checkSecondOrder([sample([2, 4, 3])]) { x in
            let s = x[0].indexSelect(axis: 1, index: Tensor([3, 0, 3] as [Int64]))
            return (s * s * s).sum()
        }
    }

    func testGradientIsZeroWhereFilled() {
        let x = Tensor([1.0, 2.0, 3.0]).requiringGrad()
        (x.maskedFill(mask: Tensor([false, true, false]), value: 9) * 2).sum().backward()
        XCTAssertEqual(x.grad!.doubles, [2, 0, 2])
    }

    func testScatterIsDeterministicWithRepeats() {
        // Many adds to one slot, in float32: the result depends only on index order.
        let n = 50_000
        let source = Tensor((0..<n).map { Float(sin(Double($0))) }, shape: [n, 1])
        let index = Tensor([Int64](repeating: 0, count: n), shape: [n, 1])
        let a = Tensor.zeros([1, 1]).scatterAdd(axis: 0, index: index, source: source).item()
        let b = Tensor.zeros([1, 1]).scatterAdd(axis: 0, index: index, source: source).item()
        XCTAssertEqual(a.bitPattern, b.bitPattern)
        var running: Float = 0
        for v in source.scalars(as: Float.self) { running += v }
        XCTAssertEqual(Float(a), running)                                // serial, in index order
    }

    func testErrorMessages() {
        let x = Tensor.zeros([3, 5])
        func message(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch { return (error as? TensorError)?.description ?? "\(error)" }
        }
        XCTAssertEqual(message { _ = try x.gather(axis: 1, validating: Tensor([0, 7, 1] as [Int64], shape: [3, 1])) },
                       "Fathom.gather: index 7 is out of range for axis 1 of size 5 (input shape [3, 5]); indices must be in 0..<5")
        XCTAssertEqual(message { _ = try x.gather(axis: 0, validating: Tensor([-1] as [Int64], shape: [1, 1])) },
                       "Fathom.gather: index -1 is out of range for axis 0 of size 3 (input shape [3, 5]); indices must be in 0..<3")
        XCTAssertEqual(message { _ = try x.gather(axis: 0, validating: Tensor([0.0], shape: [1, 1])) },
                       "Fathom.gather: indices must be int64, got float64; convert with .to(.int64)")
        XCTAssertEqual(message { _ = try x.gather(axis: 0, validating: Tensor([0] as [Int64])) },
                       "Fathom.gather: index has shape [1] but the input has shape [3, 5]; they must have the same number of axes")
        XCTAssertEqual(message { _ = try x.gather(axis: 0, validating: Tensor.zeros([1, 6], dtype: .int64)) },
                       "Fathom.gather: index has shape [1, 6], larger than the input's [3, 5] on axis 1; only axis 0 may be larger")
        XCTAssertEqual(message { _ = try x.gather(axis: 2, validating: Tensor.zeros([1, 1], dtype: .int64)) },
                       "Fathom.gather: axis 2 is out of range for a tensor of shape [3, 5]; use an axis in -2..<2")
        XCTAssertEqual(message { _ = try x.indexSelect(axis: 0, validating: Tensor([2, 3] as [Int64])) },
                       "Fathom.indexSelect: index 3 is out of range for axis 0 of size 3 (input shape [3, 5]); indices must be in 0..<3")
        XCTAssertEqual(message { _ = try x.indexSelect(axis: 0, validating: Tensor.zeros([2, 2], dtype: .int64)) },
                       "Fathom.indexSelect: index has shape [2, 2]; it must be 1-d (flatten it, then reshape the result)")
        XCTAssertEqual(message { _ = try Tensor.oneHot(validating: Tensor([1, 4] as [Int64]), numClasses: 3) },
                       "Fathom.oneHot: index 4 is out of range for numClasses = 3; indices must be in 0..<3")
        XCTAssertEqual(message { _ = try x.validateScatter(axis: 0, index: Tensor.zeros([1, 5], dtype: .int64), source: Tensor.zeros([2, 5])) },
                       "Fathom.scatterAdd: source has shape [2, 5] but index has shape [1, 5]; they must match")
        XCTAssertEqual(message { try x.validateMask(Tensor([true, false])) },
                       "Fathom.maskedFill: mask of shape [2] does not broadcast to the input's shape [3, 5]")
        XCTAssertEqual(message { try x.validateMask(Tensor.zeros([3, 1])) },
                       "Fathom.maskedFill: mask is float32; it must be bool (compare, or convert with .to(.bool))")
    }
}
