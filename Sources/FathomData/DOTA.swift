import Foundation

/// One object of a DOTA annotation: a quadrilateral (four corners, clockwise in the
/// image, x right and y down), a class name and the "difficult" flag.
public struct DOTAObject: Sendable, Equatable {
    /// The corners `x1, y1, x2, y2, x3, y3, x4, y4` in pixels.
    public var corners: [Double]
    /// The class name (DOTA spells them like `small-vehicle`; no spaces).
    public var className: String
    /// Objects marked difficult are ignored by evaluation (neither true nor false positives).
    public var difficult: Bool

    public init(corners: [Double], className: String, difficult: Bool = false) {
        precondition(corners.count == 8, "Fathom.DOTAObject: need 8 corner coordinates, got \(corners.count)")
        precondition(!className.isEmpty && !className.contains(where: \.isWhitespace),
                     "Fathom.DOTAObject: the class name \"\(className)\" must be non-empty without spaces")
        self.corners = corners
        self.className = className
        self.difficult = difficult
    }

    /// The object of a rotated box: centre `(cx, cy)`, size `width × height`, and `angle`
    /// in radians from the x axis towards the y axis (clockwise on screen, y down). The
    /// corners run clockwise on screen from `(−w/2, −h/2)` in the box's frame.
    public init(cx: Double, cy: Double, width: Double, height: Double, angle: Double, className: String, difficult: Bool = false) {
        let c = cos(angle), s = sin(angle)
        var corners: [Double] = []
        for (u, v) in [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)] {
            corners.append(cx + u * width * c - v * height * s)
            corners.append(cy + u * width * s + v * height * c)
        }
        self.init(corners: corners, className: className, difficult: difficult)
    }
}

/// The annotation of one image in the DOTA text format (`labelTxt/*.txt`).
public struct DOTAAnnotation: Sendable, Equatable {
    /// The `imagesource:` header (e.g. `GoogleEarth`), if present.
    public var imageSource: String?
    /// The `gsd:` header (ground sample distance in metres per pixel), if present and a
    /// number (DOTA writes `null` when unknown).
    public var gsd: Double?
    public var objects: [DOTAObject]

    public init(imageSource: String? = nil, gsd: Double? = nil, objects: [DOTAObject]) {
        self.imageSource = imageSource
        self.gsd = gsd
        self.objects = objects
    }
}

/// Reading and writing DOTA annotation files: one object per line,
/// `x1 y1 x2 y2 x3 y3 x4 y4 class difficult`, after optional `imagesource:` and `gsd:`
/// header lines. As in the DOTA devkit, a line without the difficult field counts as not
/// difficult; blank lines are skipped.
public enum DOTA {
    /// Reads the annotation file at `url`.
    public static func read(_ url: URL) throws -> DOTAAnnotation {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw DataError(file: url.path, "cannot read the annotation file: \(error.localizedDescription)")
        }
        return try parse(text, file: url.path)
    }

    /// Parses annotation text; errors name `file` and the 1-based line number.
    public static func parse(_ text: String, file: String = "<DOTA text>") throws -> DOTAAnnotation {
        var annotation = DOTAAnnotation(objects: [])
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            let number = index + 1
            if line.isEmpty { continue }
            func fail(_ message: String) -> DataError { DataError(file: file, "line \(number): \(message)") }
            if line.hasPrefix("imagesource:") {
                annotation.imageSource = String(line.dropFirst("imagesource:".count)).trimmingCharacters(in: .whitespaces)
                continue
            }
            if line.hasPrefix("gsd:") {
                let value = line.dropFirst("gsd:".count).trimmingCharacters(in: .whitespaces)
                if ["null", "none", ""].contains(value.lowercased()) {
                    annotation.gsd = nil
                } else if let gsd = Double(value), gsd.isFinite {
                    annotation.gsd = gsd
                } else {
                    throw fail("gsd \"\(value)\" is not a number")
                }
                continue
            }
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count == 9 || fields.count == 10 else {
                throw fail("expected `x1 y1 x2 y2 x3 y3 x4 y4 class difficult` (10 fields), found \(fields.count): \"\(line)\"")
            }
            var corners: [Double] = []
            for (i, field) in fields.prefix(8).enumerated() {
                guard let value = Double(field), value.isFinite else {
                    throw fail("coordinate \(i + 1) \"\(field)\" is not a finite number")
                }
                corners.append(value)
            }
            var difficult = false
            if fields.count == 10 {
                switch fields[9] {
                case "0": difficult = false
                case "1": difficult = true
                default: throw fail("the difficult flag is \"\(fields[9])\"; it must be 0 or 1")
                }
            }
            annotation.objects.append(DOTAObject(corners: corners, className: String(fields[8]), difficult: difficult))
        }
        return annotation
    }

    /// The annotation as DOTA text (headers first when set, coordinates with up to 2
    /// decimals as DOTA's own files, one object per line).
    public static func format(_ annotation: DOTAAnnotation) -> String {
        var lines: [String] = []
        if let source = annotation.imageSource { lines.append("imagesource:\(source)") }
        if let gsd = annotation.gsd { lines.append("gsd:\(gsd)") }
        for object in annotation.objects {
            let coordinates = object.corners.map(formatCoordinate)
            lines.append((coordinates + [object.className, object.difficult ? "1" : "0"]).joined(separator: " "))
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// Writes the annotation to `url` in the DOTA text format.
    public static func write(_ annotation: DOTAAnnotation, to url: URL) throws {
        do {
            try format(annotation).write(to: url, atomically: true, encoding: .utf8)
        } catch {
            throw DataError(file: url.path, "cannot write the annotation file: \(error.localizedDescription)")
        }
    }

    static func formatCoordinate(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int(rounded)) }
        return String(format: "%.2f", rounded)
    }
}
