import Foundation

/// A scatter plot written as SVG, each point coloured by an integer class label, with a
/// legend — for 2-D projections of embeddings (`EmbeddingProjection`). Axes, ticks and
/// number formatting are `SVGPlot`'s. Classes are coloured from a fixed 20-colour palette
/// (matplotlib's tab20) in ascending label order, cycling past 20; the legend lists the
/// first 20 classes and says how many more there are. Deterministic output.
public struct SVGScatter {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// The points in the order added (drawn in that order).
    public private(set) var points: [(x: Double, y: Double, label: Int)] = []
    /// Legend text of each label; labels without an entry are shown as "class <label>".
    public var labelNames: [Int: String] = [:]
    public var width = 640.0, height = 480.0

    /// matplotlib's tab20.
    static let palette = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
                          "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
                          "#bcbd22", "#dbdb8d", "#17becf", "#9edae5"]
    /// Legend entries drawn before the "+N more" line.
    static let legendLimit = 20

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Adds one point (non-finite points are skipped when drawing).
    public mutating func add(x: Double, y: Double, label: Int) {
        points.append((x, y, label))
    }

    /// Adds points with their labels (equal counts).
    public mutating func add(x: [Double], y: [Double], labels: [Int]) {
        precondition(x.count == y.count && y.count == labels.count,
                     "Fathom.SVGScatter.add: \(x.count) x values, \(y.count) y values and \(labels.count) labels must be as many")
        for i in x.indices { add(x: x[i], y: y[i], label: labels[i]) }
    }

    /// The distinct labels in ascending order; a label's position gives its colour.
    public var classes: [Int] { Array(Set(points.map(\.label))).sorted() }

    /// The SVG document.
    public var svg: String {
        let left = 70.0, right = width - 150, top = 40.0, bottom = height - 50
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        func range(_ values: [Double]) -> ClosedRange<Double> {
            guard let low = values.min(), let high = values.max() else { return 0...1 }
            return low == high ? (low - 0.5)...(high + 0.5) : low...high
        }
        let xr = range(finite.map(\.x)), yr = range(finite.map(\.y))
        let xt = SVGPlot.ticks(xr), yt = SVGPlot.ticks(yr)
        let x0 = min(xr.lowerBound, xt.first!), x1 = max(xr.upperBound, xt.last!)
        let y0 = min(yr.lowerBound, yt.first!), y1 = max(yr.upperBound, yt.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0 == 0 ? 1 : x1 - x0) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - y0) / (y1 - y0 == 0 ? 1 : y1 - y0) * (bottom - top) }
        let c = SVGPlot.coordinate, escape = SVGPlot.escape
        let classes = self.classes
        var colour: [Int: String] = [:]
        for (i, label) in classes.enumerated() { colour[label] = SVGScatter.palette[i % SVGScatter.palette.count] }
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(c(width))" height="\(c(height))" viewBox="0 0 \(c(width)) \(c(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text class="title" x="\(c((left + right) / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>
        <rect x="\(c(left))" y="\(c(top))" width="\(c(right - left))" height="\(c(bottom - top))" fill="none" stroke="black"/>

        """
        for t in xt where t >= x0 && t <= x1 {
            s += "<line x1=\"\(c(px(t)))\" y1=\"\(c(bottom))\" x2=\"\(c(px(t)))\" y2=\"\(c(bottom + 5))\" stroke=\"black\"/>"
            s += "<text class=\"xtick\" x=\"\(c(px(t)))\" y=\"\(c(bottom + 18))\" text-anchor=\"middle\">\(SVGPlot.label(t))</text>\n"
        }
        for t in yt where t >= y0 && t <= y1 {
            s += "<line x1=\"\(c(left - 5))\" y1=\"\(c(py(t)))\" x2=\"\(c(left))\" y2=\"\(c(py(t)))\" stroke=\"black\"/>"
            s += "<text class=\"ytick\" x=\"\(c(left - 8))\" y=\"\(c(py(t) + 4))\" text-anchor=\"end\">\(SVGPlot.label(t))</text>\n"
        }
        s += "<text class=\"xlabel\" x=\"\(c((left + right) / 2))\" y=\"\(c(height - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text class=\"ylabel\" x=\"16\" y=\"\(c((top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(c((top + bottom) / 2)))\">\(escape(yLabel))</text>\n"
        for p in finite {
            s += "<circle class=\"point\" data-label=\"\(p.label)\" cx=\"\(c(px(p.x)))\" cy=\"\(c(py(p.y)))\" r=\"3\" fill=\"\(colour[p.label]!)\" fill-opacity=\"0.8\"/>\n"
        }
        for (i, label) in classes.prefix(SVGScatter.legendLimit).enumerated() {
            let ly = top + 10 + Double(i) * 18
            s += "<circle class=\"legend-marker\" cx=\"\(c(right + 22))\" cy=\"\(c(ly))\" r=\"4\" fill=\"\(colour[label]!)\"/>"
            s += "<text class=\"legend\" x=\"\(c(right + 32))\" y=\"\(c(ly + 4))\">\(escape(labelNames[label] ?? "class \(label)"))</text>\n"
        }
        if classes.count > SVGScatter.legendLimit {
            let ly = top + 10 + Double(SVGScatter.legendLimit) * 18
            s += "<text class=\"legend-more\" x=\"\(c(right + 12))\" y=\"\(c(ly + 4))\">+\(classes.count - SVGScatter.legendLimit) more</text>\n"
        }
        return s + "</svg>\n"
    }

    /// Writes the SVG document to `url`, atomically.
    public func write(to url: URL) throws {
        try Data(svg.utf8).write(to: url, options: .atomic)
    }
}
