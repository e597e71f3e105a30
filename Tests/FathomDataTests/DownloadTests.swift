import Foundation
import XCTest
@testable import FathomData

final class DownloadTests: XCTestCase {
    func testMD5KnownAnswers() {
        // RFC 1321, appendix A.5.
        XCTAssertEqual(MD5.hexDigest([]), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(MD5.hexDigest(Array("abc".utf8)), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(MD5.hexDigest(Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)),
                       "57edf4a22be3c955ac49da2e2107b67a")
    }

    func testVerifiedDownloadAndRejectedCorruptOne() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-download-\(UUID())")
        let mirror = root.appendingPathComponent("mirror"), cache = root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: mirror, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let contents = Data((0..<1000).map { UInt8($0 % 251) })
        try contents.write(to: mirror.appendingPathComponent("good.bin"))
        try Data(contents.reversed()).write(to: mirror.appendingPathComponent("bad.bin"))
        let md5 = MD5.hexDigest([UInt8](contents))

        // The first mirror serves a corrupt file: it is rejected, the second one is used.
        let file = RemoteFile(name: "data.bin", urls: [mirror.appendingPathComponent("bad.bin"), mirror.appendingPathComponent("good.bin")],
                              md5: md5, checksum: .contents, contentBytes: 1000)
        try Downloader.ensure(file, in: cache)
        XCTAssertEqual(try Data(contentsOf: cache.appendingPathComponent("data.bin")), contents)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path), ["data.bin"], "no partial files left")

        let unreachable = RemoteFile(name: "other.bin", urls: [mirror.appendingPathComponent("bad.bin")], md5: md5,
                                     checksum: .contents, contentBytes: 1000)
        XCTAssertThrowsError(try Downloader.ensure(unreachable, in: cache)) { error in
            XCTAssertTrue("\(error)".contains("pass --data-dir"), "\(error)")
            XCTAssertTrue("\(error)".contains("does not match"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache.appendingPathComponent("other.bin").path))
    }

    func testMNISTChecksumsMatchTheRealFiles() throws {
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/data/mnist").standardized
        guard FileManager.default.fileExists(atPath: shared.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path) else {
            print("DownloadTests: real MNIST not found at \(shared.path); its checksums were not verified")
            return
        }
        // Serve the real files from a file:// mirror and let the downloader verify them.
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-mnist-\(UUID())")
        defer { try? FileManager.default.removeItem(at: cache) }
        for file in MNIST.remoteFiles(fashion: false) where file.name.hasPrefix("t10k") {
            let local = RemoteFile(name: file.name, urls: [shared.appendingPathComponent(file.name)], md5: file.md5,
                                   checksum: file.checksum, contentBytes: file.contentBytes)
            try Downloader.ensure(local, in: cache)
        }
        XCTAssertEqual(try MNIST.load(.test, from: cache).count, 10_000)
    }
}
