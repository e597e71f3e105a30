import Foundation

/// A small, dependency-free line plot written as SVG: several named series over shared
/// axes with ticks and labels, a title and a legend. A density or histogram is a line plot
/// of the density. The output is deterministic (fixed number formatting, series in the
/// order added), so figures can be diffed and tested.
public struct SVGPlot {
    /// One named polyline.
    public struct Series {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public init(name: String, x: [Double], y: [Double]) {
            precondition(x.count == y.count, "Fathom.SVGPlot.Series: '\(name)' has \(x.count) x values but \(y.count) y values")
            self.name = name
            self.x = x
            self.y = y
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    public var width = 640.0, height = 420.0
    /// A logarithmic x axis (base 10, ticks at powers of ten); points with x ≤ 0 are skipped.
    public var logX = false

    /// Colors cycled through by the series (matplotlib's tab10).
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Adds a series (non-finite points are skipped when drawing).
    public mutating func add(_ name: String, x: [Double], y: [Double]) {
        series.append(Series(name: name, x: x, y: y))
    }

    /// The data range of the finite points on each axis (log10 of x on a log x axis),
    /// widened when empty or flat.
    public var ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        func range(_ values: [Double]) -> ClosedRange<Double> {
            let finite = values.filter(\.isFinite)
            guard let low = finite.min(), let high = finite.max() else { return 0...1 }
            if low == high { return (low - 0.5)...(high + 0.5) }
            return low...high
        }
        return (range(series.flatMap(\.x).map(axisX)), range(series.flatMap(\.y)))
    }

    /// x as drawn: log10(x) on a log axis (NaN, so skipped, for x ≤ 0), else x itself.
    func axisX(_ x: Double) -> Double { logX ? (x > 0 ? log10(x) : .nan) : x }

    /// The powers of ten (as exponents) that bracket `range` of log10 values.
    static func decadeTicks(_ range: ClosedRange<Double>) -> [Double] {
        let first = floor(range.lowerBound + 1e-9), last = ceil(range.upperBound - 1e-9)
        return first < last ? Array(stride(from: first, through: last, by: 1)) : [first - 1, first, first + 1]
    }

    /// About `count` "nice" tick values (steps of 1, 2 or 5 × 10^k) from the last tick at
    /// or below `range` to the first at or above it, so the axis can span them.
    public static func ticks(_ range: ClosedRange<Double>, count: Int = 5) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / Double(max(count, 1))
        let exponent = floor(log10(raw))
        let magnitude = pow(10, exponent)
        let multiple = [1.0, 2, 5, 10].first { $0 * magnitude >= raw * (1 - 1e-12) } ?? 10
        let step = multiple * magnitude
        // i·multiple / 10^−k rather than i·step, so 0.6 prints as 0.6, not 0.6000000000000001.
        func tick(_ i: Double) -> Double { exponent < 0 ? i * multiple / pow(10, -exponent) : i * step }
        let first = floor(range.lowerBound / step + 1e-9), last = ceil(range.upperBound / step - 1e-9)
        return stride(from: first, through: last, by: 1).map { tick($0) == 0 ? 0 : tick($0) }
    }

    /// Escapes text for XML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A short, fixed-format number: `%g` with 4 significant digits.
    static func label(_ value: Double) -> String { String(format: "%.4g", value) }
    static func coordinate(_ value: Double) -> String { String(format: "%.2f", value) }

    /// The SVG document.
    public var svg: String {
        let left = 70.0, right = width - 150, top = 40.0, bottom = height - 50
        let (xr, yr) = ranges
        // The axes span the outer ticks, which enclose the data.
        let xt = logX ? SVGPlot.decadeTicks(xr) : SVGPlot.ticks(xr), yt = SVGPlot.ticks(yr)
        let x0 = min(xr.lowerBound, xt.first!), x1 = max(xr.upperBound, xt.last!)
        let y0 = min(yr.lowerBound, yt.first!), y1 = max(yr.upperBound, yt.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0 == 0 ? 1 : x1 - x0) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - y0) / (y1 - y0 == 0 ? 1 : y1 - y0) * (bottom - top) }
        let c = SVGPlot.coordinate
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(c(width))" height="\(c(height))" viewBox="0 0 \(c(width)) \(c(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text class="title" x="\(c((left + right) / 2))" y="22" text-anchor="middle" font-size="15">\(SVGPlot.escape(title))</text>
        <rect x="\(c(left))" y="\(c(top))" width="\(c(right - left))" height="\(c(bottom - top))" fill="none" stroke="black"/>

        """
        for t in xt where t >= x0 && t <= x1 {
            s += "<line x1=\"\(c(px(t)))\" y1=\"\(c(bottom))\" x2=\"\(c(px(t)))\" y2=\"\(c(bottom + 5))\" stroke=\"black\"/>"
            s += "<text class=\"xtick\" x=\"\(c(px(t)))\" y=\"\(c(bottom + 18))\" text-anchor=\"middle\">\(SVGPlot.label(logX ? pow(10, t) : t))</text>\n"
        }
        for t in yt where t >= y0 && t <= y1 {
            s += "<line x1=\"\(c(left - 5))\" y1=\"\(c(py(t)))\" x2=\"\(c(left))\" y2=\"\(c(py(t)))\" stroke=\"black\"/>"
            s += "<line x1=\"\(c(left))\" y1=\"\(c(py(t)))\" x2=\"\(c(right))\" y2=\"\(c(py(t)))\" stroke=\"#e0e0e0\"/>"
            s += "<text class=\"ytick\" x=\"\(c(left - 8))\" y=\"\(c(py(t) + 4))\" text-anchor=\"end\">\(SVGPlot.label(t))</text>\n"
        }
        s += "<text class=\"xlabel\" x=\"\(c((left + right) / 2))\" y=\"\(c(height - 12))\" text-anchor=\"middle\">\(SVGPlot.escape(xLabel))</text>\n"
        s += "<text class=\"ylabel\" x=\"16\" y=\"\(c((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(c((top + bottom) / 2)))\">\(SVGPlot.escape(yLabel))</text>\n"
        for (i, series) in series.enumerated() {
            let color = SVGPlot.palette[i % SVGPlot.palette.count]
            let drawnX = series.x.map(axisX)
            let points = zip(drawnX, series.y).filter { $0.isFinite && $1.isFinite }
                .map { "\(c(px($0))),\(c(py($1)))" }.joined(separator: " ")
            s += "<polyline class=\"series\" data-name=\"\(SVGPlot.escape(series.name))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            if series.x.count <= 30 {
                for (x, y) in zip(drawnX, series.y) where x.isFinite && y.isFinite {
                    s += "<circle cx=\"\(c(px(x)))\" cy=\"\(c(py(y)))\" r=\"3\" fill=\"\(color)\"/>"
                }
                s += "\n"
            }
            let ly = top + 10 + Double(i) * 18
            s += "<line x1=\"\(c(right + 12))\" y1=\"\(c(ly))\" x2=\"\(c(right + 32))\" y2=\"\(c(ly))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            s += "<text class=\"legend\" x=\"\(c(right + 38))\" y=\"\(c(ly + 4))\">\(SVGPlot.escape(series.name))</text>\n"
        }
        return s + "</svg>\n"
    }

    /// Writes the SVG document to `url`, atomically.
    public func write(to url: URL) throws {
        try Data(svg.utf8).write(to: url, options: .atomic)
    }
}
