import FathomTensor
import Foundation

/// The IDX format of MNIST and Fashion-MNIST: a magic number (two zero bytes, a type
/// code, the number of dimensions), big-endian 32-bit sizes, then the data.
public enum IDX {
    /// Reads an IDX file of unsigned bytes (gzip or raw) into a `UInt8` array and its shape.
    ///
    /// - Parameter limit: the most bytes the data may hold once decompressed.
    /// - Throws: `DataError` for a missing, truncated or malformed file.
    public static func readBytes(_ url: URL, limit: Int = 1 << 30) throws -> (bytes: [UInt8], shape: [Int]) {
        let data = try readPossiblyGzipped(url, limit: limit)
        return try parse(data, file: url.path)
    }

    /// Parses IDX bytes; see `readBytes`.
    static func parse(_ data: Data, file: String) throws -> (bytes: [UInt8], shape: [Int]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataError(file: file, "not an IDX file (bad magic number); expected an MNIST-style idx file, gzip or raw")
        }
        guard bytes[2] == 0x08 else {
            throw DataError(file: file, "IDX element type 0x\(String(bytes[2], radix: 16)) is not unsigned bytes (0x08), the only type MNIST uses")
        }
        let rank = Int(bytes[3])
        guard rank >= 1, rank <= 4, bytes.count >= 4 + 4 * rank else {
            throw DataError(file: file, "IDX header claims \(rank) dimensions but the file is too short for them")
        }
        var shape: [Int] = []
        var count = 1
        for axis in 0..<rank {
            let p = 4 + 4 * axis
            let size = Int(bytes[p]) << 24 | Int(bytes[p + 1]) << 16 | Int(bytes[p + 2]) << 8 | Int(bytes[p + 3])
            shape.append(size)
            count = count.multipliedReportingOverflow(by: size).overflow ? Int.max : count * size
        }
        let headerSize = 4 + 4 * rank
        guard count == bytes.count - headerSize else {
            throw DataError(file: file, "IDX header promises shape \(shape) (\(count) bytes) but the file holds \(bytes.count - headerSize) bytes of data; the file is truncated or corrupt")
        }
        return (Array(bytes[headerSize...]), shape)
    }
}
