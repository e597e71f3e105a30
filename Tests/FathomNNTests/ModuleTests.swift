import XCTest
import FathomTensor
@testable import FathomNN

/// A toy layer: y = x * scale + shift, with a running-count buffer.
private final class Affine: Layer {
    @Parameter var scale: Tensor
    @Parameter var shift: Tensor
    @Buffer var calls: Tensor

    init(_ n: Int) {
        _scale = Parameter(wrappedValue: Tensor.ones([n]))
        _shift = Parameter(wrappedValue: Tensor.zeros([n]))
        _calls = Buffer(wrappedValue: Tensor.zeros([1]))
        super.init()
    }

    override func forward(_ input: Tensor) -> Tensor { input * scale + shift }
}

private final class Block: Layer {
    let first = Affine(3)
    let stack = Sequential(Affine(3), Affine(3))
    var optional: Affine? = nil
    let many: [Affine] = [Affine(2)]

    override func forward(_ input: Tensor) -> Tensor { stack(first(input)) }
}

final class ModuleTests: XCTestCase {
    func testParametersAndBuffersAreFoundWithDottedNames() {
        let block = Block()
        XCTAssertEqual(block.namedParameters().map(\.name), [
            "first.scale", "first.shift", "stack.0.scale", "stack.0.shift",
            "stack.1.scale", "stack.1.shift", "many.0.scale", "many.0.shift",
        ])
        XCTAssertEqual(block.namedBuffers().map(\.name), ["first.calls", "stack.0.calls", "stack.1.calls", "many.0.calls"])
        XCTAssertEqual(block.parameterCount, 3 * 2 * 3 + 2 * 2)
        block.optional = Affine(1)
        XCTAssertTrue(block.namedParameters().map(\.name).contains("optional.scale"))
        XCTAssertTrue(block.parameters().allSatisfy(\.requiresGrad))
    }

    func testStateDictRoundTripAndErrors() throws {
        let a = Block(), b = Block()
        noGrad { a.first.scale.assign(Tensor([1, 2, 3] as [Float])) }
        try b.load(stateDict: a.stateDict())
        XCTAssertEqual(b.first.scale.scalars(as: Float.self), [1, 2, 3])
        XCTAssertFalse(a.first.scale === b.first.scale, "loading copies values, it does not share tensors")

        var partial = a.stateDict()
        partial["first.scale"] = nil
        partial["extra"] = Tensor.zeros([1])
        XCTAssertThrowsError(try b.load(stateDict: partial)) { error in
            XCTAssertEqual("\(error)", "Fathom.load(stateDict:): missing keys [\"first.scale\"] and unexpected keys [\"extra\"]; check that the checkpoint is for this model, or pass strict: false to load the keys that match")
        }
        var wrongShape = a.stateDict()
        wrongShape["first.shift"] = Tensor.zeros([4])
        XCTAssertThrowsError(try b.load(stateDict: wrongShape)) { error in
            XCTAssertEqual(error as? StateDictError, .shapeMismatch(key: "first.shift", expected: [3], found: [4]))
        }
    }

    func testModesFreezingAndHooks() {
        let block = Block()
        block.eval()
        XCTAssertTrue(block.namedModules().allSatisfy { !$0.module.isTraining })
        block.train()
        XCTAssertTrue(block.stack.layers[1].isTraining)
        block.first.freeze()
        XCTAssertEqual(block.trainableParameters().count, block.parameters().count - 2)

        var seen: [Double] = []
        let handle = block.stack.layers[0].addForwardHook { _, _, output in seen.append(output.sum().item()) }
        _ = block(Tensor([1, 1, 1] as [Float]))
        block.stack.layers[0].removeForwardHook(handle)
        _ = block(Tensor([1, 1, 1] as [Float]))
        XCTAssertEqual(seen, [3])
    }
}

final class RunDirectoryTests: XCTestCase {
    func testWritesConfigMetricsAndSummaryAndAppendsOnReopen() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-run-\(UUID())")
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            let run = try RunDirectory(url, config: ["model": "mlp", "lr": 0.1])
            try run.log(["step": 1, "loss": 2.5])
            try run.writeSummary(["test_accuracy": 0.5])
        }
        let reopened = try RunDirectory(url, config: ["model": "mlp", "lr": 0.1])
        try reopened.log(["step": 2, "loss": 1.5])
        let lines = try String(contentsOf: url.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(lines, ["{\"loss\":2.5,\"step\":1}", "{\"loss\":1.5,\"step\":2}"])
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("summary.json"))) as? [String: Double]
        XCTAssertEqual(summary?["test_accuracy"], 0.5)
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path))
    }
}
