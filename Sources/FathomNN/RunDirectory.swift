import Foundation

/// The directory a run writes: `config.json` (what was asked), `metrics.jsonl` (one JSON
/// object per logged step or epoch, appended and flushed as training goes), and
/// `summary.json` (the final figures), plus whatever files the run adds (checkpoints).
public final class RunDirectory {
    public let url: URL
    private let metrics: FileHandle

    /// Creates (or reopens, for a resumed run) the directory and writes `config.json`.
    /// On reopening, `metrics.jsonl` is kept and appended to.
    public init(_ url: URL, config: [String: Any]) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try RunDirectory.writeJSON(config, to: url.appendingPathComponent("config.json"))
        let metricsURL = url.appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: metricsURL.path) {
            _ = FileManager.default.createFile(atPath: metricsURL.path, contents: nil)
        }
        metrics = try FileHandle(forWritingTo: metricsURL)
        try metrics.seekToEnd()
    }

    deinit { try? metrics.close() }

    /// Appends one line to `metrics.jsonl`.
    public func log(_ record: [String: Any]) throws {
        var line = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        line.append(0x0A)
        try metrics.write(contentsOf: line)
    }

    /// Writes `summary.json` atomically.
    public func writeSummary(_ summary: [String: Any]) throws {
        try RunDirectory.writeJSON(summary, to: url.appendingPathComponent("summary.json"))
    }

    /// The file `name` inside the run directory.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Pretty, key-sorted JSON written to a temporary file and renamed into place.
    public static func writeJSON(_ object: Any, to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url, options: .atomic)
    }
}
