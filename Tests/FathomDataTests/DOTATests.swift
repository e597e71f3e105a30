import Foundation
import XCTest
@testable import FathomData

final class DOTATests: XCTestCase {
    let sample = """
        imagesource:GoogleEarth
        gsd:0.146343590398
        2753 2408 2861 2385 2888 2468 2805 2502 plane 0
        3445.5 3391 3483 3391 3483 3410 3445.5 3410 small-vehicle 1

        10 10 20 10 20 20 10 20 harbor
        """

    func testParsesHeadersObjectsAndOptionalDifficult() throws {
        let annotation = try DOTA.parse(sample, file: "P0001.txt")
        XCTAssertEqual(annotation.imageSource, "GoogleEarth")
        XCTAssertEqual(annotation.gsd!, 0.146343590398, accuracy: 1e-15)
        XCTAssertEqual(annotation.objects.count, 3)
        XCTAssertEqual(annotation.objects[0].corners, [2753, 2408, 2861, 2385, 2888, 2468, 2805, 2502])
        XCTAssertEqual(annotation.objects[0].className, "plane")
        XCTAssertFalse(annotation.objects[0].difficult)
        XCTAssertEqual(annotation.objects[1].corners[0], 3445.5)
        XCTAssertTrue(annotation.objects[1].difficult)
        XCTAssertEqual(annotation.objects[2].className, "harbor")
        XCTAssertFalse(annotation.objects[2].difficult)
        XCTAssertNil(try DOTA.parse("gsd:null\n", file: "x").gsd)
    }

    func testFormatThenParseRoundTripsThroughAFile() throws {
        let annotation = DOTAAnnotation(imageSource: "Fathom", gsd: 0.5, objects: [
            DOTAObject(corners: [1, 2, 3.25, 4, 5, 6.5, 7, 8], className: "rectangle", difficult: true),
            DOTAObject(cx: 10, cy: 20, width: 8, height: 2, angle: .pi / 2, className: "ellipse"),
        ])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-dota-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try DOTA.write(annotation, to: url)
        let back = try DOTA.read(url)
        XCTAssertEqual(back.imageSource, "Fathom")
        XCTAssertEqual(back.gsd, 0.5)
        XCTAssertEqual(back.objects[0], annotation.objects[0])
        // A box of 8×2 turned a quarter turn: corners (11, 16), (11, 24), (9, 24), (9, 16).
        for (got, want) in zip(back.objects[1].corners, [11.0, 16, 11, 24, 9, 24, 9, 16]) {
            XCTAssertEqual(got, want, accuracy: 0.01)
        }
        XCTAssertTrue(DOTA.format(annotation).hasPrefix("imagesource:Fathom\ngsd:0.5\n1 2 3.25 4 5 6.50 7 8 rectangle 1\n"))
    }

    func testErrorsNameFileAndLine() {
        func expect(_ text: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try DOTA.parse(text, file: "labels/P9.txt"), file: file, line: line) { error in
                let message = String(describing: error)
                XCTAssertTrue(message.contains("labels/P9.txt") && message.contains(fragment),
                              "message \"\(message)\" lacks \"\(fragment)\"", file: file, line: line)
            }
        }
        expect("gsd:1\n1 2 3 4 5 6 7 plane\n", "line 2: expected")
        expect("1 2 3 4 5 6 7 8 plane 0 extra\n", "found 11")
        expect("1 2 3 4 5 6 7 x plane 0\n", "line 1: coordinate 8 \"x\"")
        expect("\n\n1 2 3 4 5 6 7 8 plane 2\n", "line 3: the difficult flag is \"2\"")
        expect("gsd:fast\n", "line 1: gsd \"fast\"")
        XCTAssertThrowsError(try DOTA.read(URL(fileURLWithPath: "/nonexistent/P1.txt"))) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent/P1.txt"))
        }
    }
}
