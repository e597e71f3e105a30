import Foundation

/// A short Markdown report for a run directory: a title, a paragraph, a table of key
/// figures and links to the run's SVG figures (`report.md` beside `summary.json`).
public struct Report {
    public var title: String
    public var paragraph: String
    /// (name, value) rows of the key-figures table, in order.
    public var figures: [(name: String, value: String)] = []
    /// (caption, file name relative to the report) of each image.
    public var images: [(caption: String, file: String)] = []

    public init(title: String, paragraph: String) {
        self.title = title
        self.paragraph = paragraph
    }

    /// Adds a row with a number formatted to 4 significant digits.
    public mutating func add(_ name: String, _ value: Double) {
        figures.append((name, String(format: "%.4g", value)))
    }

    /// Adds a row with text as is.
    public mutating func add(_ name: String, _ value: String) {
        figures.append((name, value))
    }

    /// Adds an image link.
    public mutating func image(_ caption: String, _ file: String) {
        images.append((caption, file))
    }

    /// The Markdown text.
    public var markdown: String {
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        var text = "# \(title)\n\n\(paragraph)\n"
        if !figures.isEmpty {
            text += "\n| Figure | Value |\n|---|---|\n"
            for row in figures { text += "| \(cell(row.name)) | \(cell(row.value)) |\n" }
        }
        for image in images { text += "\n![\(image.caption)](\(image.file))\n" }
        return text
    }

    /// Writes the report to `url`, atomically.
    public func write(to url: URL) throws {
        try Data(markdown.utf8).write(to: url, options: .atomic)
    }
}
