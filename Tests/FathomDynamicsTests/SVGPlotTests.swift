import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import FathomDynamics

/// Collects element names and attributes while parsing, so the tests can count elements.
private final class Collector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var text: [String] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text.append(string) }
}

final class SVGPlotTests: XCTestCase {
    private func parse(_ svg: String) throws -> Collector {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))\n\(svg)")
        return collector
    }

    func testWellFormedWithOnePolylinePerSeriesAndEscapedLabels() throws {
        var plot = SVGPlot(title: "Loss <train & test>", xLabel: "λ \"A\"", yLabel: "f's value")
        plot.add("train", x: [0, 0.5, 1], y: [1, 2, 1.5])
        plot.add("a<b>&c", x: [0, 0.5, 1], y: [0.5, .nan, 3])
        plot.add("third", x: [0, 1], y: [2, 2])
        let svg = plot.svg
        let parsed = try parse(svg)
        XCTAssertEqual(parsed.elements.first?.name, "svg")
        let lines = parsed.elements.filter { $0.name == "polyline" }
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines.map { $0.attributes["data-name"] }, ["train", "a<b>&c", "third"])
        // The NaN point is skipped, not written.
        XCTAssertEqual(lines[1].attributes["points"]?.split(separator: " ").count, 2)
        XCTAssertFalse(svg.contains("nan"))
        let text = parsed.text.joined()
        XCTAssertTrue(text.contains("Loss <train & test>"), text)
        XCTAssertTrue(text.contains("λ \"A\""), text)
        XCTAssertTrue(svg.contains("a&lt;b&gt;&amp;c"))
        XCTAssertEqual(svg, plot.svg, "output must be deterministic")
    }

    func testAxisRangeAndTicks() throws {
        var plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y")
        plot.add("s", x: [0, 0.25, 0.5, 0.75, 1], y: [0.2, 0.9, 3.7, 1.1, 0.4])
        XCTAssertEqual(plot.ranges.x, 0...1)
        XCTAssertEqual(plot.ranges.y, 0.2...3.7)
        XCTAssertEqual(SVGPlot.ticks(0...1), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(SVGPlot.ticks(0.2...3.7), [0, 1, 2, 3, 4])
        XCTAssertEqual(SVGPlot.ticks(0.013...0.071), [0, 0.02, 0.04, 0.06, 0.08])
        XCTAssertEqual(SVGPlot.ticks(-120...930), [-500, 0, 500, 1000])
        let parsed = try parse(plot.svg)
        let yTicks = parsed.elements.filter { $0.attributes["class"] == "ytick" }.count
        let xTicks = parsed.elements.filter { $0.attributes["class"] == "xtick" }.count
        XCTAssertEqual(xTicks, 6)
        // The y axis extends to the outer ticks 0 and 4.
        XCTAssertEqual(yTicks, 5)
        // Every drawn point lies inside the frame.
        let frame = parsed.elements.filter { $0.name == "rect" }[1].attributes
        let left = Double(frame["x"]!)!, width = Double(frame["width"]!)!
        let top = Double(frame["y"]!)!, height = Double(frame["height"]!)!
        let points = parsed.elements.first { $0.name == "polyline" }!.attributes["points"]!.split(separator: " ")
        for point in points {
            let xy = point.split(separator: ",").map { Double($0)! }
            XCTAssertTrue(xy[0] >= left - 1e-9 && xy[0] <= left + width + 1e-9, "\(point)")
            XCTAssertTrue(xy[1] >= top - 1e-9 && xy[1] <= top + height + 1e-9, "\(point)")
        }
        XCTAssertEqual(points.first, "70.00,353.50")  // (0, 0.2) with the y axis 0…4 over 370…40: 370 − 0.05·330
    }

    func testEmptyAndFlatSeriesStillRender() throws {
        var plot = SVGPlot(title: "flat", xLabel: "x", yLabel: "y")
        _ = try parse(plot.svg)
        plot.add("flat", x: [1, 2], y: [5, 5])
        XCTAssertEqual(plot.ranges.y, 4.5...5.5)
        _ = try parse(plot.svg)
    }

    func testReportMarkdown() {
        var report = Report(title: "T", paragraph: "P.")
        report.add("loss_barrier", 0.123456)
        report.add("a|b", "x")
        report.image("Loss", "interpolation_loss.svg")
        XCTAssertEqual(report.markdown, """
        # T

        P.

        | Figure | Value |
        |---|---|
        | loss_barrier | 0.1235 |
        | a\\|b | x |

        ![Loss](interpolation_loss.svg)

        """)
    }
}
