import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A dataset file that can be fetched: where from, and what its contents must hash to.
public struct RemoteFile: Sendable {
    public let name: String
    /// Mirrors, tried in order.
    public let urls: [URL]
    /// The published MD5 and what it covers.
    public let md5: String
    public let checksum: Checksum
    /// The decompressed size, which also bounds decompression.
    public let contentBytes: Int

    /// Whether `md5` is of the file as downloaded or of its decompressed contents (which
    /// stays the same when a mirror recompresses the file).
    public enum Checksum: Sendable { case file, contents }
}

/// Fetches dataset files into a cache directory when the network allows. A download goes
/// to a temporary name and is renamed into place only after its checksum matches, so a
/// partial or corrupt download is never used.
public enum Downloader {
    /// `~/.cache/fathom/<dataset>` (or `$XDG_CACHE_HOME/fathom/<dataset>`).
    public static func cacheDirectory(for dataset: String) -> URL {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("fathom").appendingPathComponent(dataset)
    }

    /// Makes sure `file` is in `directory` with the right contents, downloading it if needed.
    /// - Throws: `DataError` naming the file, what failed, and the `--data-dir` to use instead.
    public static func ensure(_ file: RemoteFile, in directory: URL) throws {
        let target = directory.appendingPathComponent(file.name)
        if FileManager.default.fileExists(atPath: target.path) { return }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var failures: [String] = []
        for url in file.urls {
            let partial = directory.appendingPathComponent(".\(file.name).part-\(getpid())")
            defer { try? FileManager.default.removeItem(at: partial) }
            do {
                let data = try fetch(url)
                try data.write(to: partial)
                let contents = try readPossiblyGzipped(partial, limit: file.contentBytes)
                let digest = MD5.hexDigest([UInt8](file.checksum == .file ? data : contents))
                guard contents.count == file.contentBytes, digest == file.md5 else {
                    failures.append("\(url.absoluteString): checksum \(digest) does not match \(file.md5)")
                    continue
                }
                guard rename(partial.path, target.path) == 0 else {
                    throw DataError(file: target.path, "could not move the download into place (errno \(errno))")
                }
                return
            } catch let error as DataError {
                failures.append("\(url.absoluteString): \(error.message)")
            } catch {
                failures.append("\(url.absoluteString): \(error.localizedDescription)")
            }
        }
        throw DataError(file: target.path, "could not be downloaded (\(failures.joined(separator: "; "))); download it yourself and pass --data-dir with its directory")
    }

    /// The bytes at `url` (http(s) or file), waiting at most `timeout` seconds.
    static func fetch(_ url: URL, timeout: TimeInterval = 60) throws -> Data {
        if url.isFileURL { return try Data(contentsOf: url) }
        final class Box: @unchecked Sendable {
            var data: Data?
            var error: Error?
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            if let status = (response as? HTTPURLResponse)?.statusCode, status != 200 {
                box.error = DataError(file: url.absoluteString, "HTTP status \(status)")
            } else {
                box.data = data
                box.error = error
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout + 5) == .timedOut {
            task.cancel()
            throw DataError(file: url.absoluteString, "timed out after \(Int(timeout)) s")
        }
        if let error = box.error { throw error }
        guard let data = box.data else { throw DataError(file: url.absoluteString, "no data received") }
        return data
    }
}
