import Foundation
import XCTest
import FathomTensor

/// End-to-end checks of the `fathom` executable built beside this test bundle.
final class ResumeTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    private func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = try fathomExecutable()
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func run(_ arguments: [String]) throws {
        let process = try start(arguments)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "fathom \(arguments.joined(separator: " ")) failed")
    }

    /// Training killed with SIGKILL mid-epoch and resumed ends with weights equal, bit for
    /// bit, to an uninterrupted run's.
    func testKilledRunResumesToIdenticalWeights() throws {
        let common = ["train", "--model", "lenet5", "--dataset", "shapes", "--epochs", "2", "--train-limit", "1280",
                      "--batch-size", "32", "--seed", "5", "--checkpoint-every", "7", "--threads", "2"]
        let straight = scratch.appendingPathComponent("straight"), interrupted = scratch.appendingPathComponent("interrupted")
        try run(common + ["--out", straight.path])

        let process = try start(common + ["--out", interrupted.path])
        let checkpoint = interrupted.appendingPathComponent("checkpoint.safetensors")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline && process.isRunning {
            usleep(20_000)
        }
        XCTAssertTrue(process.isRunning, "training finished before it could be killed; make the run longer")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        let stepAtKill = try checkpointStep(checkpoint)
        XCTAssertLessThan(stepAtKill, 80, "the kill came after the end of training")

        try run(["train", "--resume", interrupted.path])
        let a = try Safetensors.read(from: straight.appendingPathComponent("checkpoint.safetensors")).tensors
        let b = try Safetensors.read(from: checkpoint).tensors
        XCTAssertEqual(a.map(\.name), b.map(\.name))
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.tensor.doubles, y.tensor.doubles, "\(x.name) differs after resuming from step \(stepAtKill)")
        }
    }

    func testBadFlagsGiveClearErrors() throws {
        let pipe = Pipe()
        let process = Process()
        process.executableURL = try fathomExecutable()
        process.arguments = ["train", "--epochs", "0"]
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(output.contains("--epochs must be positive, got 0"), output)
    }

    private func checkpointStep(_ url: URL) throws -> Int {
        Int(try Safetensors.read(from: url).metadata["fathom.step"] ?? "") ?? -1
    }
}

/// `fathom train --spawn-from RUN --at-step K`: the shared prefix is the parent's training.
final class SpawnTests: XCTestCase {
    func testSpawnWithTheParentsSeedReproducesTheParentAndAnotherSeedBranches() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-spawn-\(UUID())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let fathom = try fathomExecutable()
        func train(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = fathom
            process.arguments = ["train"] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, arguments.joined(separator: " "))
        }
        func weights(_ run: String) throws -> [[Double]] {
            try Safetensors.read(from: scratch.appendingPathComponent(run).appendingPathComponent("checkpoint.safetensors"))
                .tensors.filter { $0.name.hasPrefix("model.") }.map(\.tensor.doubles)
        }
        let parent = scratch.appendingPathComponent("parent").path
        try train(["--model", "mlp", "--dataset", "shapes", "--train-limit", "256", "--batch-size", "32", "--epochs", "2",
                   "--seed", "1", "--out", parent])
        // 8 steps per epoch: branch mid-epoch at step 5.
        try train(["--spawn-from", parent, "--at-step", "5", "--seed", "1", "--out", scratch.appendingPathComponent("same").path])
        try train(["--spawn-from", parent, "--at-step", "5", "--seed", "2", "--out", scratch.appendingPathComponent("other").path])
        XCTAssertEqual(try weights("same"), try weights("parent"), "a child with the parent's seed is the parent")
        XCTAssertNotEqual(try weights("other"), try weights("parent"), "another seed branches off")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.appendingPathComponent("other/config.json"))) as? [String: Any]
        XCTAssertEqual(config?["spawn_step"] as? Int, 5)
        XCTAssertEqual(config?["spawn_parent_seed"] as? Int, 1)
    }
}
