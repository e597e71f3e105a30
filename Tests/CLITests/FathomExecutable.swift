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

/// Runs `fathom` with `arguments` and waits: its exit status, standard output and standard
/// error. Output goes through a temporary file, so a chatty command cannot fill a pipe and
/// block while standard error is read.
func runFathom(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws
    -> (status: Int32, output: String, errors: String) {
    let process = Process(), errorPipe = Pipe()
    let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-stdout-\(UUID())")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outputFile) }
    let outputHandle = try FileHandle(forWritingTo: outputFile)
    process.executableURL = try fathomExecutable(file: file, line: line)
    process.arguments = arguments
    process.standardOutput = outputHandle
    process.standardError = errorPipe
    try process.run()
    let errors = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    try outputHandle.close()
    let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    return (process.terminationStatus, output, errors)
}
