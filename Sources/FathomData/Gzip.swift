import CZlib
import Foundation

/// The contents of `url`, decompressed if it is gzip, refusing to produce more than
/// `limit` bytes (a corrupt or malicious file cannot make Fathom allocate without bound).
func readPossiblyGzipped(_ url: URL, limit: Int) throws -> Data {
    let raw: Data
    do {
        raw = try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
        throw DataError(file: url.path, "cannot read the file: \(error.localizedDescription)")
    }
    guard raw.count >= 2, raw[raw.startIndex] == 0x1f, raw[raw.startIndex + 1] == 0x8b else {
        guard raw.count <= limit else {
            throw DataError(file: url.path, "the file has \(raw.count) bytes, more than the \(limit) expected")
        }
        return raw
    }
    return try inflate(raw, limit: limit, file: url.path)
}

/// Decompresses a gzip (or zlib) stream into at most `limit` bytes.
func inflate(_ compressed: Data, limit: Int, file: String) throws -> Data {
    var stream = z_stream()
    guard fathom_inflate_init(&stream) == Z_OK else {
        throw DataError(file: file, "zlib could not start decompressing")
    }
    defer { inflateEnd(&stream) }
    var output = Data()
    let chunk = 1 << 20
    var buffer = [UInt8](repeating: 0, count: chunk)
    var status: Int32 = Z_OK
    try compressed.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
        stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
        stream.avail_in = uInt(input.count)
        repeat {
            let produced: Int = buffer.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(chunk)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                return chunk - Int(stream.avail_out)
            }
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                throw DataError(file: file, "the gzip data is corrupt (zlib status \(status)); delete the file and download it again")
            }
            guard output.count + produced <= limit else {
                throw DataError(file: file, "decompresses to more than the \(limit) bytes expected; the file is corrupt or not what its name says")
            }
            output.append(contentsOf: buffer[0..<produced])
            if produced == 0 && status != Z_STREAM_END {
                throw DataError(file: file, "the gzip data ends early (truncated file); delete it and download it again")
            }
        } while status != Z_STREAM_END
    }
    return output
}
