import XCTest
import FathomNN
import FathomTensor
import FathomVision
@testable import FathomDynamics

final class AlignmentTests: XCTestCase {
    // MARK: linear assignment

    /// The best total over all assignments, by enumerating permutations (rows <= columns).
    private func bruteForce(_ cost: [Double], rows: Int, columns: Int, maximize: Bool) -> Double {
        var best = maximize ? -Double.infinity : Double.infinity
        var used = [Bool](repeating: false, count: columns)
        func visit(_ row: Int, _ sum: Double) {
            if row == rows { best = maximize ? Swift.max(best, sum) : Swift.min(best, sum); return }
            for j in 0..<columns where !used[j] {
                used[j] = true
                visit(row + 1, sum + cost[row * columns + j])
                used[j] = false
            }
        }
        visit(0, 0)
        return best
    }

    func testAssignmentMatchesBruteForce() {
        var rng = SplitMix(seed: 7)
        for n in 1...6 {
            for trial in 0..<30 {
                for rectangular in [false, true] {
                    let rows = n, columns = rectangular ? n + 1 + trial % 2 : n
                    // Small integers give many ties and exact totals; every third trial uses reals.
                    let cost: [Double] = (0..<rows * columns).map { _ in
                        trial % 3 == 0 ? Double(rng.next() % 1_000_000) / 1000 - 500 : Double(rng.next() % 4)
                    }
                    for maximize in [false, true] {
                        let assignment = LinearAssignment.solve(cost, rows: rows, columns: columns, maximize: maximize)
                        XCTAssertEqual(assignment.count, rows)
                        XCTAssertEqual(Set(assignment).count, rows, "columns must be distinct")
                        XCTAssertTrue(assignment.allSatisfy { (0..<columns).contains($0) })
                        let total = LinearAssignment.total(cost, columns: columns, assignment: assignment)
                        let best = bruteForce(cost, rows: rows, columns: columns, maximize: maximize)
                        XCTAssertEqual(total, best, accuracy: 1e-9 * Swift.max(1, abs(best)),
                                       "n=\(n) columns=\(columns) maximize=\(maximize)")
                        if trial % 3 != 0 { XCTAssertEqual(total, best) } // integers: exact
                        // The transpose (more rows than columns) has the same optimum.
                        let transposed = (0..<columns * rows).map { k in cost[(k % rows) * columns + k / rows] }
                        let t = LinearAssignment.solve(transposed, rows: columns, columns: rows, maximize: maximize)
                        XCTAssertEqual(t.filter { $0 >= 0 }.count, rows)
                        XCTAssertEqual(LinearAssignment.total(transposed, columns: rows, assignment: t), best,
                                       accuracy: 1e-9 * Swift.max(1, abs(best)))
                    }
                }
            }
        }
    }

    func testAssignmentMoreRowsThanColumnsAndErrors() {
        // 3 rows, 2 columns: each column gets a distinct row, one row is left out (-1).
        let cost: [Double] = [5, 1,
                              1, 5,
                              0, 0]
        XCTAssertEqual(LinearAssignment.solve(cost, rows: 3, columns: 2), [1, -1, 0])
        XCTAssertEqual(LinearAssignment.solve(cost, rows: 3, columns: 2, maximize: true), [0, 1, -1])
        XCTAssertThrowsError(try LinearAssignment.solve(validating: [1, 2, 3], rows: 2, columns: 2)) { error in
            XCTAssertTrue("\(error)".contains("rows × columns = 2 × 2"), "\(error)")
        }
        XCTAssertThrowsError(try LinearAssignment.solve(validating: [1, .nan, 3, 4], rows: 2, columns: 2)) { error in
            XCTAssertTrue("\(error)".contains("cost[0][1]"), "\(error)")
        }
    }

    // MARK: specs

    func testSpecsFitTheirModels() {
        manualSeed(1)
        let mlp = MLP(inputFeatures: 12, hidden: [8, 6], classCount: 3)
        let mlpSpec = PermutationSpec.mlpSpec()
        XCTAssertEqual(mlpSpec.keys, ["1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"])
        XCTAssertEqual(mlpSpec.groupSizes(in: mlp.stateDict()), ["P_0": 8, "P_1": 6])

        let resnet = CIFARResNet(depth: 8)
        let spec = PermutationSpec.cifarResNet(depth: 8)
        let state = resnet.stateDict()
        // Every spec key exists, and every float tensor but num_batches_tracked is covered.
        XCTAssertEqual(Set(spec.keys).subtracting(state.keys), [])
        XCTAssertEqual(Set(state.keys).subtracting(spec.keys).filter { !$0.hasSuffix("num_batches_tracked") }, [])
        XCTAssertEqual(spec["layer1.0.conv2.weight"]!, ["P_res0", "P_layer1.0.inner1", nil, nil])
        XCTAssertEqual(spec["layer2.0.downsample.0.weight"]!, ["P_res1", "P_res0", nil, nil])
        XCTAssertEqual(spec["layer2.0.bn2.running_var"]!, ["P_res1"])
        XCTAssertEqual(spec["fc.weight"]!, [nil, "P_res2"])
        XCTAssertEqual(spec.groupSizes(in: state),
                       ["P_res0": 16, "P_res1": 32, "P_res2": 64,
                        "P_layer1.0.inner1": 16, "P_layer2.0.inner1": 32, "P_layer3.0.inner1": 64])
        XCTAssertEqual(PermutationSpec.torchvisionResNet(layers: [3, 4, 6, 3], kind: .bottleneck)["layer1.2.conv3.weight"]!,
                       ["P_res1", "P_layer1.2.inner2", nil, nil])
    }

    // MARK: permuted models compute the same function

    /// Random permutations of every group of `spec` (seeded).
    private func randomPermutations(_ spec: PermutationSpec, _ state: StateDict, seed: UInt64) -> Permutations {
        let generator = Generator(seed: seed)
        return spec.groupSizes(in: state).mapValues { n in
            Tensor.randperm(n, generator: generator).scalars(as: Int64.self).map { Int($0) }
        }
    }

    /// Gives BN layers non-trivial statistics and affine parameters, so a wrong permutation shows.
    private func randomizeBatchNorm(_ model: Module, seed: UInt64) {
        let generator = Generator(seed: seed)
        noGrad {
            for (key, t) in model.stateDict().entries where key.contains("bn") || key.contains("downsample.1") {
                if key.hasSuffix("running_var") || key.hasSuffix("weight") {
                    t.assign(Tensor.uniform(t.shape, low: 0.5, high: 1.5, generator: generator))
                } else if !key.hasSuffix("num_batches_tracked") {
                    t.assign(Tensor.normal(t.shape, std: 0.3, generator: generator))
                }
            }
        }
    }

    func testPermutedMLPComputesTheSameFunction() throws {
        manualSeed(2)
        let model = MLP(inputFeatures: 20, hidden: [16, 12], classCount: 5)
        let spec = PermutationSpec.mlpSpec()
        let x = Tensor.randn([7, 20], seed: 3)
        let before = model(x)
        let perms = randomPermutations(spec, model.stateDict(), seed: 4)
        let permuted = spec.apply(perms, to: model.stateDict())
        XCTAssertNotEqual(permuted["1.weight"]!.doubles, model.stateDict()["1.weight"]!.doubles)
        try model.load(stateDict: permuted)
        XCTAssertLessThan(model(x).maxAbsDifference(before), 1e-6)
    }

    func testPermutedResNetComputesTheSameFunction() throws {
        manualSeed(5)
        let model = CIFARResNet(depth: 8, classCount: 4)
        randomizeBatchNorm(model, seed: 6)
        model.eval()
        let spec = PermutationSpec.cifarResNet(depth: 8)
        let x = Tensor.randn([2, 3, 8, 8], seed: 7)
        let before = model(x)
        let perms = randomPermutations(spec, model.stateDict(), seed: 8)
        try model.load(stateDict: spec.apply(perms, to: model.stateDict()))
        XCTAssertLessThan(model(x).maxAbsDifference(before), 1e-6)
        // A wrong spec (the stem's BN left unpermuted) changes the function: the test can fail.
        var broken = spec
        for name in ["weight", "bias", "running_mean", "running_var"] { broken["bn1.\(name)"] = [nil] }
        try model.load(stateDict: broken.apply(perms, to: model.stateDict()))
        XCTAssertGreaterThan(model(x).maxAbsDifference(before), 1e-3)
    }

    // MARK: matching recovers a permutation exactly

    private func assertBitwiseEqual(_ a: StateDict, _ b: StateDict, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.keys, b.keys, file: file, line: line)
        for (key, t) in a.entries {
            XCTAssertEqual(t.doubles, b[key]!.doubles, "\(key) differs", file: file, line: line)
        }
    }

    func testWeightMatchingRecoversMLPPermutation() {
        manualSeed(9)
        let model = MLP(inputFeatures: 30, hidden: [24, 20], classCount: 6)
        let spec = PermutationSpec.mlpSpec()
        let a = model.stateDict()
        let b = spec.apply(randomPermutations(spec, a, seed: 10), to: a)
        let result = WeightMatching.match(spec, reference: a, other: b, order: .random(seed: 11))
        assertBitwiseEqual(spec.apply(result.permutations, to: b), a)
        XCTAssertGreaterThan(result.finalSimilarity, result.initialSimilarity)
        XCTAssertLessThanOrEqual(result.sweeps, 5)
        // A fixed order works too.
        let fixed = WeightMatching.match(spec, reference: a, other: b, order: .fixed(["P_1", "P_0"]))
        assertBitwiseEqual(spec.apply(fixed.permutations, to: b), a)
    }

    func testActivationMatchingRecoversMLPPermutation() throws {
        manualSeed(12)
        let modelA = MLP(inputFeatures: 30, hidden: [24, 20], classCount: 6)
        let spec = PermutationSpec.mlpSpec()
        let a = modelA.stateDict()
        let b = spec.apply(randomPermutations(spec, a, seed: 13), to: a)
        let modelB = MLP(inputFeatures: 30, hidden: [24, 20], classCount: 6)
        try modelB.load(stateDict: b)
        let x = Tensor.randn([64, 30], seed: 14)
        // The ReLUs after the hidden Linears are children "2" and "4".
        for objective in [ActivationMatching.Objective.correlation, .squaredDistance] {
            let perms = ActivationMatching.match(modelA, modelB, input: x, layers: ["P_0": "2", "P_1": "4"],
                                                 objective: objective)
            assertBitwiseEqual(spec.apply(perms, to: b), a)
        }
    }

    func testWeightMatchingRecoversResNetPermutation() {
        manualSeed(15)
        let model = CIFARResNet(depth: 8, classCount: 4)
        randomizeBatchNorm(model, seed: 16)
        let spec = PermutationSpec.cifarResNet(depth: 8)
        let a = model.stateDict()
        let b = spec.apply(randomPermutations(spec, a, seed: 17), to: a)
        let result = WeightMatching.match(spec, reference: a, other: b)
        assertBitwiseEqual(spec.apply(result.permutations, to: b), a)
    }

    func testInverseUndoesApply() {
        manualSeed(18)
        let model = MLP(inputFeatures: 6, hidden: [5], classCount: 2)
        let spec = PermutationSpec.mlpSpec(hiddenLayers: 1)
        let a = model.stateDict()
        let perms = randomPermutations(spec, a, seed: 19)
        assertBitwiseEqual(spec.apply(inverse(perms), to: spec.apply(perms, to: a)), a)
    }
}

/// A tiny seeded generator for test matrices.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
