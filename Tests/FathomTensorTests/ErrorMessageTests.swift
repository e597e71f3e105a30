import Foundation
import XCTest
@testable import FathomTensor

/// Misuse of an operation stops the program with a message naming the op, the shapes and
/// the fix. The messages are checked through the validators that produce them, and once
/// end to end by running an op that must stop in a child process.
final class ErrorMessageTests: XCTestCase {
    func testBroadcastMismatchNamesOpShapesAndFix() {
        XCTAssertThrowsError(try broadcastShapes([2, 3], [4], op: "add")) { error in
            XCTAssertEqual("\(error)", "Fathom.add: shapes [2, 3] and [4] cannot be broadcast: axis -1 has sizes 3 and 4; sizes must be equal or 1 (reshape or unsqueeze one operand)")
        }
    }

    func testUserDataShapeIsAThrownError() {
        XCTAssertThrowsError(try Tensor(validating: [1.0, 2.0, 3.0], shape: [2, 2])) { error in
            XCTAssertEqual("\(error)", "Fathom.Tensor.init: shape [2, 2] needs 4 elements but 3 were given; make the shape's product equal the number of elements")
        }
        XCTAssertThrowsError(try Tensor(validating: [1.0], shape: [-1, -1])) { error in
            XCTAssertEqual((error as? TensorError)?.op, "Tensor.init")
        }
        XCTAssertThrowsError(try Tensor.zeros([2, 3]).reshaped(validating: [4, -1])) { error in
            XCTAssertEqual("\(error)", "Fathom.reshape: cannot reshape [2, 3] (6 elements) to [4, -1]: 6 is not divisible by 4")
        }
        XCTAssertThrowsError(try Tensor.zeros([2, 3]).select(validating: [.at(2)])) { error in
            XCTAssertEqual("\(error)", "Fathom.subscript: index 2 is out of range for axis 0 of size 2 (shape [2, 3])")
        }
    }

    func testShapeMismatchStopsTheProgramWithTheMessage() throws {
        let output = try runCrashProbe("addMismatch")
        XCTAssertTrue(output.contains("Fathom.add: shapes [2, 3] and [4] cannot be broadcast"), output)
    }

    func testInPlaceUpdateOfAParameterNeedsNoGrad() throws {
        let output = try runCrashProbe("inPlaceOnParameter")
        XCTAssertTrue(output.contains("Fathom.addInPlace: cannot modify a tensor that requires grad (shape [2]) while grad is recorded; wrap the update in noGrad"), output)
    }

    /// Runs this test binary again with only `CrashProbe.testProbe` selected, which performs
    /// the misuse named `probe`; returns what it printed. The child must not exit cleanly.
    private func runCrashProbe(_ probe: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process.arguments = ["FathomTensorTests.CrashProbe/testProbe"]
        process.environment = ProcessInfo.processInfo.environment.merging(["FATHOM_CRASH_PROBE": probe, "SWIFT_BACKTRACE": "enable=no"]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0, "the probe \(probe) should have stopped the program")
        return String(decoding: data, as: UTF8.self)
    }
}

/// Host for `ErrorMessageTests.runCrashProbe`: does nothing unless FATHOM_CRASH_PROBE is set.
final class CrashProbe: XCTestCase {
    func testProbe() {
        guard let probe = ProcessInfo.processInfo.environment["FATHOM_CRASH_PROBE"] else { return }
        switch probe {
        case "addMismatch":
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        case "inPlaceOnParameter":
            Tensor.zeros([2]).requiringGrad().addInPlace(Tensor.ones([2]))
        default:
            XCTFail("unknown probe \(probe)")
        }
    }
}
