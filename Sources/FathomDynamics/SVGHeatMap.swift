import Foundation

/// A small, dependency-free heat map with contour lines written as SVG, for 2-D loss
/// surfaces: one colored cell per grid point (viridis), contour lines at evenly spaced
/// levels of the color scale (marching squares), a color bar and optional labeled markers.
/// The output is deterministic (fixed number formatting), so figures can be diffed.
public struct SVGHeatMap {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Grid coordinates, ascending; `values[i][j]` is at (`xs[i]`, `ys[j]`).
    public var xs: [Double]
    public var ys: [Double]
    public var values: [[Double]]
    /// Colors and contours follow log10 of the values (when all finite values are > 0),
    /// so a loss that spans decades stays readable.
    public var logScale: Bool
    /// Contour lines drawn, evenly spaced over the color scale (0: none).
    public var contourCount = 10
    /// Labeled points drawn on top (such as the models A and B).
    public var markers: [(name: String, x: Double, y: Double)] = []
    public var width = 640.0, height = 520.0

    public init(title: String, xLabel: String, yLabel: String, xs: [Double], ys: [Double], values: [[Double]],
                logScale: Bool = true) {
        precondition(xs.count >= 2 && ys.count >= 2, "Fathom.SVGHeatMap: needs at least a 2×2 grid, got \(xs.count)×\(ys.count)")
        precondition(values.count == xs.count && values.allSatisfy { $0.count == ys.count },
                     "Fathom.SVGHeatMap: values must be [\(xs.count)][\(ys.count)] to match xs and ys")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xs = xs
        self.ys = ys
        self.values = values
        self.logScale = logScale
    }

    /// Anchors of matplotlib's viridis, interpolated linearly.
    static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 40, 120), (62, 74, 137), (49, 104, 142), (38, 130, 142),
        (31, 158, 137), (53, 183, 121), (109, 205, 89), (180, 222, 44), (253, 231, 37),
    ]

    /// The hex color of t ∈ [0, 1] on viridis.
    static func color(_ t: Double) -> String {
        let u = Swift.min(Swift.max(t.isFinite ? t : 0, 0), 1) * Double(viridis.count - 1)
        let i = Swift.min(Int(u), viridis.count - 2), f = u - Double(i)
        let (a, b) = (viridis[i], viridis[i + 1])
        func channel(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * f).rounded()) }
        return String(format: "#%02x%02x%02x", channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
    }

    /// Whether colors use log10 (asked for, and every finite value positive).
    var usesLog: Bool { logScale && values.joined().filter(\.isFinite).allSatisfy { $0 > 0 } }

    /// The SVG document.
    public var svg: String {
        let left = 70.0, right = width - 110, top = 40.0, bottom = height - 50
        let scaled = values.map { row in row.map { usesLog ? log10($0) : $0 } }
        let finite = scaled.joined().filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        let span = high > low ? high - low : 1
        let x0 = xs.first!, x1 = xs.last!, y0 = ys.first!, y1 = ys.last!
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0 == 0 ? 1 : x1 - x0) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - y0) / (y1 - y0 == 0 ? 1 : y1 - y0) * (bottom - top) }
        let c = SVGPlot.coordinate
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(c(width))" height="\(c(height))" viewBox="0 0 \(c(width)) \(c(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text class="title" x="\(c((left + right) / 2))" y="22" text-anchor="middle" font-size="15">\(SVGPlot.escape(title))</text>

        """
        // Cells: each grid point owns the rectangle halfway to its neighbours.
        func edges(_ v: [Double]) -> [Double] {
            var e = [v[0] - (v[1] - v[0]) / 2]
            for k in 1..<v.count { e.append((v[k - 1] + v[k]) / 2) }
            return e + [v[v.count - 1] + (v[v.count - 1] - v[v.count - 2]) / 2]
        }
        let xe = edges(xs).map { Swift.min(Swift.max($0, x0), x1) }, ye = edges(ys).map { Swift.min(Swift.max($0, y0), y1) }
        for i in xs.indices {
            for j in ys.indices {
                let v = scaled[i][j]
                let fill = v.isFinite ? SVGHeatMap.color((v - low) / span) : "#ffffff"
                s += "<rect class=\"cell\" x=\"\(c(px(xe[i])))\" y=\"\(c(py(ye[j + 1])))\" width=\"\(c(px(xe[i + 1]) - px(xe[i])))\" height=\"\(c(py(ye[j]) - py(ye[j + 1])))\" fill=\"\(fill)\"/>"
            }
            s += "\n"
        }
        // Contours by marching squares on the scaled grid; segments join into one path per level.
        if contourCount > 0 && high > low {
            for k in 1...contourCount {
                let level = low + span * Double(k) / Double(contourCount + 1)
                var d = ""
                for i in 0..<(xs.count - 1) {
                    for j in 0..<(ys.count - 1) {
                        let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
                        let v = corners.map { scaled[$0.0][$0.1] }
                        guard v.allSatisfy(\.isFinite) else { continue }
                        var crossings: [(Double, Double)] = []
                        for e in 0..<4 {
                            let (a, b) = (corners[e], corners[(e + 1) % 4]), (va, vb) = (v[e], v[(e + 1) % 4])
                            if (va < level) != (vb < level) {
                                let t = (level - va) / (vb - va)
                                crossings.append((xs[a.0] + t * (xs[b.0] - xs[a.0]), ys[a.1] + t * (ys[b.1] - ys[a.1])))
                            }
                        }
                        // Two crossings: one segment; four (a saddle): pair them in edge order.
                        for p in stride(from: 0, to: crossings.count - 1, by: 2) {
                            d += "M\(c(px(crossings[p].0))),\(c(py(crossings[p].1)))L\(c(px(crossings[p + 1].0))),\(c(py(crossings[p + 1].1)))"
                        }
                    }
                }
                if !d.isEmpty {
                    s += "<path class=\"contour\" d=\"\(d)\" fill=\"none\" stroke=\"white\" stroke-opacity=\"0.7\" stroke-width=\"0.8\"/>\n"
                }
            }
        }
        s += "<rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(right - left))\" height=\"\(c(bottom - top))\" fill=\"none\" stroke=\"black\"/>\n"
        for t in SVGPlot.ticks(x0...x1) where t >= x0 - 1e-12 && t <= x1 + 1e-12 {
            s += "<line x1=\"\(c(px(t)))\" y1=\"\(c(bottom))\" x2=\"\(c(px(t)))\" y2=\"\(c(bottom + 5))\" stroke=\"black\"/>"
            s += "<text class=\"xtick\" x=\"\(c(px(t)))\" y=\"\(c(bottom + 18))\" text-anchor=\"middle\">\(SVGPlot.label(t))</text>\n"
        }
        for t in SVGPlot.ticks(y0...y1) where t >= y0 - 1e-12 && t <= y1 + 1e-12 {
            s += "<line x1=\"\(c(left - 5))\" y1=\"\(c(py(t)))\" x2=\"\(c(left))\" y2=\"\(c(py(t)))\" stroke=\"black\"/>"
            s += "<text class=\"ytick\" x=\"\(c(left - 8))\" y=\"\(c(py(t) + 4))\" text-anchor=\"end\">\(SVGPlot.label(t))</text>\n"
        }
        s += "<text class=\"xlabel\" x=\"\(c((left + right) / 2))\" y=\"\(c(height - 12))\" text-anchor=\"middle\">\(SVGPlot.escape(xLabel))</text>\n"
        s += "<text class=\"ylabel\" x=\"16\" y=\"\(c((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(c((top + bottom) / 2)))\">\(SVGPlot.escape(yLabel))</text>\n"
        for marker in markers {
            s += "<circle class=\"marker\" cx=\"\(c(px(marker.x)))\" cy=\"\(c(py(marker.y)))\" r=\"4\" fill=\"#d62728\" stroke=\"white\"/>"
            s += "<text x=\"\(c(px(marker.x) + 7))\" y=\"\(c(py(marker.y) - 6))\" fill=\"white\" font-weight=\"bold\">\(SVGPlot.escape(marker.name))</text>\n"
        }
        // Color bar.
        let barLeft = right + 20, barWidth = 16.0, steps = 50
        for k in 0..<steps {
            let y = bottom - Double(k + 1) * (bottom - top) / Double(steps)
            s += "<rect x=\"\(c(barLeft))\" y=\"\(c(y))\" width=\"\(c(barWidth))\" height=\"\(c((bottom - top) / Double(steps) + 0.5))\" fill=\"\(SVGHeatMap.color((Double(k) + 0.5) / Double(steps)))\"/>"
        }
        s += "\n<rect x=\"\(c(barLeft))\" y=\"\(c(top))\" width=\"\(c(barWidth))\" height=\"\(c(bottom - top))\" fill=\"none\" stroke=\"black\"/>\n"
        for k in 0...4 {
            let v = low + span * Double(k) / 4
            let shown = usesLog ? pow(10, v) : v
            let y = bottom - Double(k) / 4 * (bottom - top)
            s += "<text class=\"colorbar\" x=\"\(c(barLeft + barWidth + 4))\" y=\"\(c(y + 4))\">\(SVGPlot.label(shown))</text>\n"
        }
        if usesLog {
            s += "<text x=\"\(c(barLeft))\" y=\"\(c(top - 8))\" font-size=\"10\">log scale</text>\n"
        }
        return s + "</svg>\n"
    }

    /// Writes the SVG document to `url`, atomically.
    public func write(to url: URL) throws {
        try Data(svg.utf8).write(to: url, options: .atomic)
    }
}
