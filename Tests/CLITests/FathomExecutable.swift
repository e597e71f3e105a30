import Foundation
import XCTest

/// The `fathom` executable in the same build directory as this test bundle (the CLITests
/// target depends on it, so `swift test` builds it).
func fathomExecutable(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
    let bundle = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    let url = bundle.deletingLastPathComponent().appendingPathComponent("fathom")
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        XCTFail("the fathom executable is not built at \(url.path) (this target depends on it, so swift test builds it)",
                file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }
    return url
}
