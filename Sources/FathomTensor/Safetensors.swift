import Foundation

/// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian
/// header length, a JSON header mapping names to `{dtype, shape, data_offsets}`, then the
/// raw little-endian data. Loading never executes code; every size in the header is
/// checked against the file before anything is allocated.
public enum Safetensors {
    /// The largest header accepted (the reference implementation's limit is 100 MB).
    static let maxHeaderBytes = 100_000_000

    /// Serializes named tensors (in the given order) with optional string metadata.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        var payloads: [Tensor] = []
        for (name, tensor) in tensors {
            guard header[name] == nil, name != "__metadata__" else {
                throw SafetensorsError(file: nil, "the tensor name '\(name)' is used twice or is reserved")
            }
            let source = tensor.contiguous()
            let bytes = source.count * source.dtype.byteSize
            header[name] = ["dtype": code(for: source.dtype), "shape": source.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
            payloads.append(source)
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for source in payloads {
            data.append(contentsOf: UnsafeRawBufferPointer(start: source.pointer(as: UInt8.self), count: source.count * source.dtype.byteSize))
        }
        return data
    }

    /// Writes atomically: to a temporary file in the same directory, then renamed over
    /// `url`, so a crash never leaves a half-written file under the final name.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        let data = try encode(tensors, metadata: metadata)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: temporary)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            if rename(temporary.path, url.path) != 0 {
                throw SafetensorsError(file: url.path, "could not rename the temporary file into place (errno \(errno))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Reads every tensor of a safetensors file, in data order, and its metadata.
    public static func read(from url: URL) throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafetensorsError(file: url.path, "cannot read the file: \(error.localizedDescription)")
        }
        do {
            return try decode(data)
        } catch let error as SafetensorsError {
            throw SafetensorsError(file: url.path, error.message)
        }
    }

    /// Parses safetensors bytes; see `read(from:)`.
    public static func decode(_ data: Data) throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        func fail(_ message: String) -> SafetensorsError { SafetensorsError(file: nil, message) }
        guard data.count >= 8 else { throw fail("the file has \(data.count) bytes, fewer than the 8-byte header length; it is truncated or not safetensors") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(min(maxHeaderBytes, data.count - 8)) else {
            throw fail("the header claims \(headerLength) bytes but the file holds \(data.count - 8) after the length (limit \(maxHeaderBytes)); the file is truncated or not safetensors")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: 8..<dataStart)
        guard let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
            throw fail("the header is not a JSON object; the file is corrupt or not safetensors")
        }
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let values = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
                metadata = values
                continue
            }
            guard let info = value as? [String: Any],
                  let dtypeCode = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any],
                  let offsetValues = info["data_offsets"] as? [Any], offsetValues.count == 2 else {
                throw fail("the entry for '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = dtype(for: dtypeCode) else {
                throw fail("'\(name)' has dtype \(dtypeCode); Fathom reads F32, F64, I64 and BOOL")
            }
            let shape = try shapeValues.map { value -> Int in
                guard let n = exactInt(value), n >= 0 else { throw fail("'\(name)' has an invalid shape \(shapeValues)") }
                return n
            }
            guard let begin = exactInt(offsetValues[0]), let end = exactInt(offsetValues[1]), begin >= 0, begin <= end else {
                throw fail("'\(name)' has invalid data_offsets \(offsetValues)")
            }
            var count = 1
            for n in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow else { throw fail("'\(name)' has a shape \(shape) whose size overflows") }
                count = product
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, end - begin == bytes else {
                throw fail("'\(name)' has shape \(shape) of \(dtype) (\(overflow ? "overflowing" : String(bytes)) bytes) but data_offsets \(begin)..<\(end) span \(end - begin) bytes")
            }
            entries.append((name, dtype, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        // The data buffer must be covered exactly, without gaps or overlaps.
        var expected = 0
        for entry in entries {
            guard entry.begin == expected else {
                throw fail("tensor data of '\(entry.name)' starts at \(entry.begin), expected \(expected): the offsets overlap or leave a gap")
            }
            expected = entry.end
        }
        guard dataStart + expected == data.count else {
            throw fail("the header describes \(expected) bytes of data but the file holds \(data.count - dataStart); it is truncated or has trailing bytes")
        }
        let tensors = entries.map { entry -> (name: String, tensor: Tensor) in
            let tensor = Tensor(uninitializedShape: entry.shape, dtype: entry.dtype)
            data.withUnsafeBytes { raw in
                let source = raw.baseAddress! + dataStart + entry.begin
                UnsafeMutableRawPointer(tensor.pointer(as: UInt8.self)).copyMemory(from: source, byteCount: entry.end - entry.begin)
            }
            if entry.dtype == .bool {
                // Any nonzero byte is true; normalize so Swift's Bool is always 0 or 1.
                let p = tensor.pointer(as: UInt8.self)
                for i in 0..<tensor.count where p[i] > 1 { p[i] = 1 }
            }
            return (entry.name, tensor)
        }
        return (tensors, metadata)
    }

    private static func code(for dtype: DType) -> String {
        switch dtype {
        case .float32: "F32"
        case .float64: "F64"
        case .int64: "I64"
        case .bool: "BOOL"
        }
    }

    private static func dtype(for code: String) -> DType? {
        switch code {
        case "F32": .float32
        case "F64": .float64
        case "I64": .int64
        case "BOOL": .bool
        default: nil
        }
    }

    /// An integer JSON number (JSONSerialization gives NSNumber); nil for fractions and huge values.
    private static func exactInt(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double == double.rounded(), abs(double) < 9e15 else { return nil }
        return number.intValue
    }
}

/// A safetensors file that cannot be read, naming the file and what is wrong with it.
public struct SafetensorsError: Error, CustomStringConvertible {
    public let file: String?
    public let message: String

    public init(file: String?, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String {
        "Fathom.safetensors: " + (file.map { "\($0): " } ?? "") + message
    }
}
