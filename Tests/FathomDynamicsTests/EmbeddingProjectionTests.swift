import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import FathomDynamics
import FathomTensor

/// Collects element names and attributes while parsing.
private final class ElementCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var text: [String] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text.append(string) }
}

/// A tiny seeded generator (SplitMix64) so the tests fix their data.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextUniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
    mutating func nextNormal() -> Double {
        let u = max(nextUniform(), 1e-300), v = nextUniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

final class EmbeddingProjectionTests: XCTestCase {
    private func parse(_ svg: String) -> ElementCollector {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = ElementCollector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))\n\(svg)")
        return collector
    }

    /// Points on the line c + t·u (plus tiny noise off the line) in 5-D.
    private func line(_ n: Int, direction u: [Double], noise: Double = 0) -> [Double] {
        let centre = [1.0, -2, 0.5, 3, 0]
        var g = SplitMix(seed: 7)
        var rows: [Double] = []
        for i in 0..<n {
            let t = Double(i) - Double(n - 1) / 2
            for j in 0..<5 { rows.append(centre[j] + t * u[j] + noise * (g.nextUniform() - 0.5)) }
        }
        return rows
    }

    func testRecoversTheDirectionOfPointsOnALine() {
        let norm = (1.0 + 4 + 0 + 0.25 + 1).squareRoot()
        let u = [1.0, -2, 0, 0.5, 1].map { $0 / norm }
        let projection = EmbeddingProjection(rows: line(11, direction: u), count: 11, dimension: 5)
        let v = projection.components[0]
        // Sign convention: the largest-magnitude entry (−2/‖·‖, index 1) is made positive.
        for j in 0..<5 { XCTAssertEqual(v[j], -u[j], accuracy: 1e-10) }
        XCTAssertEqual(projection.mean[0], 1, accuracy: 1e-12)
        // All variance lies on the line: the first coordinate is −t, the second 0.
        XCTAssertEqual(projection.explainedVarianceRatio[0], 1, accuracy: 1e-12)
        XCTAssertEqual(projection.variances[1], 0, accuracy: 1e-10)
        for i in 0..<11 {
            XCTAssertEqual(projection.x[i], -(Double(i) - 5), accuracy: 1e-10)
            XCTAssertEqual(projection.y[i], 0, accuracy: 1e-10)
        }
        let second = projection.components[1]
        XCTAssertEqual(zip(second, v).reduce(0) { $0 + $1.0 * $1.1 }, 0, accuracy: 1e-10, "components are orthogonal")
    }

    func testVarianceOrderingOnAnisotropicGaussian() {
        // Axis-aligned standard deviations 3, 1, 0.3 (column order shuffled): PC1 = axis 2, PC2 = axis 0.
        var g = SplitMix(seed: 3)
        let n = 400
        var rows: [Double] = []
        for _ in 0..<n { rows += [1 * g.nextNormal(), 0.3 * g.nextNormal(), 3 * g.nextNormal()] }
        let p = EmbeddingProjection(rows: rows, count: n, dimension: 3, components: 3)
        XCTAssertGreaterThan(p.variances[0], p.variances[1])
        XCTAssertGreaterThan(p.variances[1], p.variances[2])
        XCTAssertEqual(p.variances[0], 9, accuracy: 1.5)
        XCTAssertEqual(p.variances[2], 0.09, accuracy: 0.03)
        XCTAssertGreaterThan(abs(p.components[0][2]), 0.99)
        XCTAssertGreaterThan(abs(p.components[1][0]), 0.99)
        XCTAssertEqual(p.explainedVarianceRatio.reduce(0, +), 1, accuracy: 1e-12, "3 of 3 components explain everything")
        // Coordinate variance along each component is that component's variance.
        for k in 0..<3 {
            let c = p.coordinates.map { $0[k] }
            XCTAssertEqual(c.reduce(0) { $0 + $1 * $1 } / Double(n - 1), p.variances[k], accuracy: 1e-9)
        }
        for v in p.components { XCTAssertGreaterThan(v.map(abs).max()!, 0); XCTAssertTrue(v.max()! >= -v.min()!) }
    }

    func testDeterministicAndTensorInputMatchesRows() {
        let rows = line(9, direction: [0.6, 0, 0.8, 0, 0], noise: 0.2)
        let a = EmbeddingProjection(rows: rows, count: 9, dimension: 5)
        let b = EmbeddingProjection(rows: rows, count: 9, dimension: 5)
        XCTAssertEqual(a.coordinates, b.coordinates)
        XCTAssertEqual(a.components, b.components)
        let tensor = EmbeddingProjection(Tensor(rows, shape: [9, 5], dtype: .float32))
        for i in 0..<9 { XCTAssertEqual(tensor.x[i], a.x[i], accuracy: 1e-5) }
        // One-dimensional data: the missing second component is zero.
        let flat = EmbeddingProjection(rows: [1, 2, 4], count: 3, dimension: 1)
        XCTAssertEqual(flat.components[1], [0])
        XCTAssertEqual(flat.y, [0, 0, 0])
        let expected: [Double] = [-4.0 / 3, -1.0 / 3, 5.0 / 3]
        for i in 0..<3 { XCTAssertEqual(flat.x[i], expected[i], accuracy: 1e-12) }
    }

    func testScatterIsWellFormedWithOneCirclePerFinitePointAndALegend() {
        var plot = SVGScatter(title: "PCA <test & check>", xLabel: "PC1 (60%)", yLabel: "PC2")
        plot.add(x: [0, 1, 2, 3, .nan], y: [1, 0, 2, 3, 1], labels: [3, 1, 3, 7, 1])
        plot.labelNames = [7: "seven & up"]
        let svg = plot.svg
        let parsed = parse(svg)
        XCTAssertEqual(parsed.elements.first?.name, "svg")
        let points = parsed.elements.filter { $0.attributes["class"] == "point" }
        XCTAssertEqual(points.count, 4, "the NaN point is skipped")
        XCTAssertEqual(points.map { $0.attributes["data-label"] }, ["3", "1", "3", "7"])
        // Colours follow ascending label order: 1 → tab20[0], 3 → tab20[1], 7 → tab20[2].
        XCTAssertEqual(points.map { $0.attributes["fill"]! }, ["#aec7e8", "#1f77b4", "#aec7e8", "#ff7f0e"])
        XCTAssertEqual(parsed.elements.filter { $0.attributes["class"] == "legend" }.count, 3)
        let text = parsed.text.joined()
        XCTAssertTrue(text.contains("class 1") && text.contains("class 3") && text.contains("seven & up"), text)
        XCTAssertTrue(text.contains("PCA <test & check>"), text)
        XCTAssertFalse(svg.contains("nan"))
        XCTAssertEqual(svg, plot.svg, "output must be deterministic")

        // More classes than the legend holds: 20 entries and a "+5 more" line.
        var many = SVGScatter(title: "t", xLabel: "x", yLabel: "y")
        for label in 0..<25 { many.add(x: Double(label), y: Double(label % 4), label: label) }
        let manyParsed = parse(many.svg)
        XCTAssertEqual(manyParsed.elements.filter { $0.attributes["class"] == "point" }.count, 25)
        XCTAssertEqual(manyParsed.elements.filter { $0.attributes["class"] == "legend" }.count, 20)
        XCTAssertTrue(manyParsed.text.joined().contains("+5 more"))
        // Empty plots still render.
        _ = parse(SVGScatter(title: "empty", xLabel: "x", yLabel: "y").svg)
    }
}
