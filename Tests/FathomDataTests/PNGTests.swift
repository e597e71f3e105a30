import Foundation
import XCTest
@testable import FathomData
import FathomTensor

/// PNG bytes written by scripts/fixtures_png.py with Python's zlib + struct (not by Fathom).
enum PNGFixtures {
    static let rgb4x5: [UInt8] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 4, 0, 0, 0, 5, 8, 2, 0, 0, 0, 237, 207,
        218, 140, 0, 0, 0, 14, 116, 69, 88, 116, 67, 111, 109, 109, 101, 110, 116, 0, 102, 97, 116, 104, 111, 109,
        128, 202, 249, 11, 0, 0, 0, 67, 73, 68, 65, 84, 120, 218, 99, 96, 56, 193, 192, 117, 130, 81, 228, 4, 147,
        220, 9, 102, 70, 230, 19, 26, 92, 63, 25, 33, 136, 137, 153, 65, 131, 249, 167, 6, 243, 39, 13, 230, 215, 26,
        204, 108, 41, 1, 236, 159, 68, 217, 223, 139, 178, 191, 22, 101, 1, 203, 48, 50, 127, 98, 100, 126, 205, 8, 0,
        67, 74, 17, 213, 132, 25, 134, 98, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130
    ]
    static let rgba3x3: [UInt8] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 3, 0, 0, 0, 3, 8, 6, 0, 0, 0, 86, 40,
        181, 191, 0, 0, 0, 14, 116, 69, 88, 116, 67, 111, 109, 109, 101, 110, 116, 0, 102, 97, 116, 104, 111, 109,
        128, 202, 249, 11, 0, 0, 0, 35, 73, 68, 65, 84, 120, 218, 99, 97, 96, 248, 159, 98, 196, 240, 200, 8, 132,
        153, 25, 108, 34, 140, 36, 229, 238, 74, 130, 48, 35, 67, 197, 122, 184, 12, 0, 211, 196, 11, 47, 17, 167, 42,
        8, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130
    ]
    static let grayAlpha2x2: [UInt8] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 2, 0, 0, 0, 2, 8, 4, 0, 0, 0, 216, 191,
        197, 175, 0, 0, 0, 14, 116, 69, 88, 116, 67, 111, 109, 109, 101, 110, 116, 0, 102, 97, 116, 104, 111, 109,
        128, 202, 249, 11, 0, 0, 0, 18, 73, 68, 65, 84, 120, 218, 99, 226, 250, 47, 210, 192, 34, 194, 200, 229, 0, 0,
        12, 183, 2, 3, 95, 32, 225, 6, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130
    ]
    static let gray5x2: [UInt8] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 5, 0, 0, 0, 2, 8, 0, 0, 0, 0, 181, 1,
        73, 129, 0, 0, 0, 14, 116, 69, 88, 116, 67, 111, 109, 109, 101, 110, 116, 0, 102, 97, 116, 104, 111, 109, 128,
        202, 249, 11, 0, 0, 0, 20, 73, 68, 65, 84, 120, 218, 99, 102, 48, 242, 78, 217, 194, 244, 127, 218, 178, 124,
        38, 0, 23, 4, 4, 71, 15, 243, 217, 156, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130
    ]
    static let palette5x2: [UInt8] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 5, 0, 0, 0, 2, 2, 3, 0, 0, 0, 237, 4,
        254, 206, 0, 0, 0, 12, 80, 76, 84, 69, 255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9, 92, 113, 126, 134, 0, 0, 0,
        2, 116, 82, 78, 83, 255, 7, 123, 211, 165, 233, 0, 0, 0, 14, 116, 69, 88, 116, 67, 111, 109, 109, 101, 110,
        116, 0, 102, 97, 116, 104, 111, 109, 128, 202, 249, 11, 0, 0, 0, 14, 73, 68, 65, 84, 120, 218, 99, 144, 102,
        96, 124, 114, 7, 0, 3, 52, 1, 221, 142, 67, 104, 34, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130
    ]
    static let bilevel10x1: [UInt8] = [
        137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 10, 0, 0, 0, 1, 1, 0, 0, 0, 0, 207,
        142, 2, 211, 0, 0, 0, 14, 116, 69, 88, 116, 67, 111, 109, 109, 101, 110, 116, 0, 102, 97, 116, 104, 111, 109,
        128, 202, 249, 11, 0, 0, 0, 11, 73, 68, 65, 84, 120, 218, 99, 216, 228, 0, 0, 1, 167, 0, 243, 103, 61, 79,
        158, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130
    ]
}

final class PNGTests: XCTestCase {
    private func decode(_ bytes: [UInt8]) throws -> PNGImage { try PNG.decode(Data(bytes), file: "fixture.png") }

    private func assertThrows(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(bytes), file: file, line: line) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(fragment), "message \"\(text)\" lacks \"\(fragment)\"", file: file, line: line)
            XCTAssertTrue(text.contains("fixture.png"), "message \"\(text)\" does not name the file", file: file, line: line)
        }
    }

    func testReadsRGBWithAllFiveFilters() throws {
        let image = try decode(PNGFixtures.rgb4x5)
        XCTAssertEqual([image.width, image.height, image.channels], [4, 5, 3])
        for y in 0..<5 {
            for x in 0..<4 {
                let o = (y * 4 + x) * 3
                XCTAssertEqual(Array(image.pixels[o..<o + 3]),
                               [UInt8(10 * x + 3 * y), UInt8((200 - 7 * x * y) & 0xFF), UInt8(40 * y + x)], "pixel \(x),\(y)")
            }
        }
    }

    func testReadsRGBAGrayAlphaAndGray() throws {
        let rgba = try decode(PNGFixtures.rgba3x3)
        XCTAssertEqual(rgba.channels, 4)
        for y in 0..<3 {
            for x in 0..<3 {
                let o = (y * 3 + x) * 4
                XCTAssertEqual(Array(rgba.pixels[o..<o + 4]),
                               [UInt8(50 * x), UInt8(60 * y), UInt8(255 - 30 * x - 40 * y), UInt8(100 + 50 * x)])
            }
        }
        let grayAlpha = try decode(PNGFixtures.grayAlpha2x2)
        XCTAssertEqual(grayAlpha.channels, 2)
        XCTAssertEqual(grayAlpha.pixels, [10, 255, 20, 128, 30, 0, 40, 64])
        let gray = try decode(PNGFixtures.gray5x2)
        XCTAssertEqual(gray.channels, 1)
        XCTAssertEqual(gray.pixels, [0, 50, 100, 150, 255, 255, 200, 10, 5, 1])
    }

    func testReadsPaletteWithTransparencyAndOneBitGray() throws {
        let image = try decode(PNGFixtures.palette5x2)
        XCTAssertEqual(image.channels, 4)
        let entries: [[UInt8]] = [[255, 0, 0, 255], [0, 255, 0, 7], [0, 0, 255, 255], [9, 9, 9, 255]]
        let indices = [0, 1, 2, 3, 0, 3, 2, 1, 0, 3]
        XCTAssertEqual(image.pixels, indices.flatMap { entries[$0] })
        let bilevel = try decode(PNGFixtures.bilevel10x1)
        XCTAssertEqual(bilevel.pixels, [1, 0, 1, 1, 0, 0, 1, 0, 0, 1].map { UInt8($0 * 255) })
    }

    func testTensorConversion() throws {
        let t = try decode(PNGFixtures.gray5x2).tensor
        XCTAssertEqual(t.shape, [1, 2, 5])
        XCTAssertEqual(t.dtype, .float32)
        XCTAssertEqual(t.doubles[1], 50.0 / 255, accuracy: 1e-6)
        let rgb = try decode(PNGFixtures.rgb4x5).tensor
        XCTAssertEqual(rgb.shape, [3, 5, 4])
        // Channel-first: channel 2 of pixel (1, 2) is 40·2 + 1.
        XCTAssertEqual(rgb.doubles[2 * 20 + 2 * 4 + 1], 81.0 / 255, accuracy: 1e-6)
        XCTAssertThrowsError(try PNGImage(tensor: Tensor([Float](repeating: 0, count: 10), shape: [5, 1, 2]))) { error in
            XCTAssertTrue(String(describing: error).contains("1...4 channels"))
        }
    }

    func testWriteThenReadRoundTrips() throws {
        var rng = SplitMix64(seed: 3)
        for channels in 1...4 {
            let (w, h) = (13, 7)
            // Smooth gradients plus noise so different rows pick different filters.
            let pixels = (0..<(w * h * channels)).map { i in UInt8(truncatingIfNeeded: i / channels * 3 + Int(rng.next(below: 4))) }
            let image = PNGImage(width: w, height: h, channels: channels, pixels: pixels)
            let data = try PNG.encode(image)
            XCTAssertEqual(try PNG.decode(data), image, "\(channels) channels")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-png-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("t.png")
        let tensor = Tensor([Float](stride(from: 0, to: 1.0001, by: 1.0 / 11).map { Float($0) }), shape: [1, 3, 4])
        try PNG.write(tensor, to: url)
        let back = try PNG.readTensor(url)
        XCTAssertEqual(back.shape, [1, 3, 4])
        XCTAssertLessThanOrEqual(zip(back.doubles, tensor.doubles).map { abs($0 - $1) }.max()!, 0.5 / 255 + 1e-6)
    }

    func testCorruptFilesGiveClearErrors() {
        var badCRC = PNGFixtures.gray5x2
        badCRC[30] ^= 0xFF  // last byte of the IHDR CRC
        assertThrows(badCRC, "chunk IHDR at byte 8 has CRC")
        assertThrows(Array(PNGFixtures.gray5x2.prefix(40)), "truncated file")
        assertThrows(Array(PNGFixtures.gray5x2.prefix(5)), "not a PNG file")
        assertThrows(Array("hello, world".utf8), "not a PNG file")
        // Valid chunks (good CRCs) around a zlib stream cut short.
        let image = PNGImage(width: 8, height: 8, channels: 3, pixels: (0..<192).map { UInt8($0) })
        let bytes = [UInt8](try! PNG.encode(image))
        let idat = (8..<bytes.count - 4).first { Array(bytes[$0..<$0 + 4]) == Array("IDAT".utf8) }!
        let length = Int(PNG.readUInt32(bytes, idat - 4))
        var cut = Array(bytes[0..<(idat - 4)])
        PNG.appendChunk(&cut, "IDAT", Array(bytes[(idat + 4)..<(idat + 4 + length / 2)]))
        PNG.appendChunk(&cut, "IEND", [])
        assertThrows(cut, "the compressed image data (IDAT) cannot be decompressed to the 200 bytes")
    }

    func testRejectsUnsupportedAndHugeImagesBeforeAllocating() throws {
        func withHeader(width: UInt32, height: UInt32, depth: UInt8, color: UInt8, interlace: UInt8 = 0) -> [UInt8] {
            var body: [UInt8] = []
            PNG.appendUInt32(&body, width)
            PNG.appendUInt32(&body, height)
            body += [depth, color, 0, 0, interlace]
            var out = PNG.signature
            PNG.appendChunk(&out, "IHDR", body)
            PNG.appendChunk(&out, "IEND", [])
            return out
        }
        assertThrows(withHeader(width: 4, height: 4, depth: 8, color: 2, interlace: 1), "Adam7")
        assertThrows(withHeader(width: 4, height: 4, depth: 16, color: 2), "16-bit")
        assertThrows(withHeader(width: 4, height: 4, depth: 8, color: 5), "unknown PNG color type 5")
        assertThrows(withHeader(width: 2_000_000_000, height: 2_000_000_000, depth: 8, color: 6), "more than the")
        assertThrows(withHeader(width: 4, height: 4, depth: 8, color: 0), "no image data")
        XCTAssertThrowsError(try PNG.read(URL(fileURLWithPath: "/nonexistent/x.png"))) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent/x.png"))
        }
    }
}
