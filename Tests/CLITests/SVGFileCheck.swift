import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Counts the elements of each `class` attribute while parsing an SVG file.
private final class ClassCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var root: String?
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        if let cls = attributes["class"] { counts[cls, default: 0] += 1 }
    }
}

/// Parses the SVG file at `url` as XML (failing the test when it is missing or malformed)
/// and returns how many elements carry each `class` attribute.
func svgClassCounts(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Int] {
    let data = try Data(contentsOf: url)
    let parser = XMLParser(data: data)
    let counter = ClassCounter()
    parser.delegate = counter
    XCTAssertTrue(parser.parse(), "\(url.lastPathComponent) is not well-formed XML: \(String(describing: parser.parserError))",
                  file: file, line: line)
    XCTAssertEqual(counter.root, "svg", "\(url.lastPathComponent) is not an SVG document", file: file, line: line)
    return counter.counts
}
