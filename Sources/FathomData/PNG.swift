import CZlib
import Foundation
import FathomTensor

/// An 8-bit image with interleaved channels, as PNG files store it.
public struct PNGImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
    public let channels: Int
    /// `height × width × channels` bytes, row-major, channels interleaved.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && (1...4).contains(channels),
                     "Fathom.PNGImage: need positive width and height and 1...4 channels, got \(width)×\(height)×\(channels)")
        precondition(pixels.count == width * height * channels,
                     "Fathom.PNGImage: \(pixels.count) bytes for a \(width)×\(height)×\(channels) image (need \(width * height * channels))")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The image as a float32 tensor `[channels, height, width]` with values in [0, 1].
    public var tensor: Tensor {
        let plane = width * height
        var values = [Float](repeating: 0, count: channels * plane)
        pixels.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    for i in 0..<plane { dst[c * plane + i] = Float(src[i * channels + c]) * (1 / 255) }
                }
            }
        }
        return Tensor(values, shape: [channels, height, width])
    }

    /// The image of a tensor `[channels, height, width]` or `[height, width]` (1...4
    /// channels, any float dtype), values clamped to [0, 1] and rounded to 8 bits.
    public init(tensor: Tensor) throws(TensorError) {
        let shape = tensor.shape.count == 2 ? [1] + tensor.shape : tensor.shape
        guard shape.count == 3, (1...4).contains(shape[0]), shape[1] > 0, shape[2] > 0 else {
            throw TensorError(op: "PNGImage(tensor:)", "need a tensor [channels, height, width] with 1...4 channels or [height, width], got shape \(tensor.shape)")
        }
        guard tensor.dtype == .float32 || tensor.dtype == .float64 else {
            throw TensorError(op: "PNGImage(tensor:)", "need a float32 or float64 tensor with values in [0, 1], got \(tensor.dtype)")
        }
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let values = tensor.doubles
        var pixels = [UInt8](repeating: 0, count: c * h * w)
        for ch in 0..<c {
            for i in 0..<(h * w) {
                let v = values[ch * h * w + i]
                // NaN becomes 0 rather than trapping in the conversion.
                let clamped = v.isNaN ? 0 : Swift.min(1, Swift.max(0, v))
                pixels[i * c + ch] = UInt8((clamped * 255).rounded())
            }
        }
        self.init(width: w, height: h, channels: c, pixels: pixels)
    }
}

/// Reading and writing PNG files (ISO/IEC 15948), without outside image libraries.
///
/// Reads 8-bit gray, gray + alpha, RGB and RGBA, and palette (1/2/4/8-bit, with `tRNS`
/// transparency) and 1/2/4-bit gray images, non-interlaced, with all five row filters.
/// Palette images become RGB (RGBA when the palette has transparency); low-bit gray is
/// scaled to 8 bits. 16-bit and interlaced (Adam7) files are refused with a message that
/// says so. Writes 8-bit gray, gray + alpha, RGB or RGBA, zlib-compressed, choosing each
/// row's filter by the usual minimum-sum-of-absolute-differences rule.
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Decoded images larger than this many bytes are refused before any allocation
    /// (a corrupt header cannot make Fathom allocate without bound). 256 MiB.
    public static let defaultByteLimit = 1 << 28

    /// Reads the PNG at `url`.
    public static func read(_ url: URL, byteLimit: Int = defaultByteLimit) throws -> PNGImage {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DataError(file: url.path, "cannot read the file: \(error.localizedDescription)")
        }
        return try decode(data, file: url.path, byteLimit: byteLimit)
    }

    /// Reads the PNG at `url` as a float32 tensor `[channels, height, width]` in [0, 1].
    public static func readTensor(_ url: URL, byteLimit: Int = defaultByteLimit) throws -> Tensor {
        try read(url, byteLimit: byteLimit).tensor
    }

    /// Writes `image` to `url` as a PNG.
    public static func write(_ image: PNGImage, to url: URL) throws {
        do {
            try encode(image).write(to: url)
        } catch let error as DataError {
            throw error
        } catch {
            throw DataError(file: url.path, "cannot write the file: \(error.localizedDescription)")
        }
    }

    /// Writes a tensor `[channels, height, width]` (or `[height, width]`) with values in
    /// [0, 1] to `url` as an 8-bit PNG.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try write(PNGImage(tensor: tensor), to: url)
    }

    // MARK: Decoding

    /// Decodes PNG bytes; `file` names the source in error messages.
    public static func decode(_ data: Data, file: String = "<PNG data>", byteLimit: Int = defaultByteLimit) throws -> PNGImage {
        let bytes = [UInt8](data)
        func fail(_ message: String) -> DataError { DataError(file: file, message) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
            throw fail("not a PNG file (the 8-byte PNG signature is missing)")
        }
        var position = 8
        var header: (width: Int, height: Int, bitDepth: Int, colorType: Int)?
        var palette: [UInt8] = []
        var transparency: [UInt8] = []
        var compressed: [UInt8] = []
        var sawEnd = false
        while !sawEnd {
            guard position + 12 <= bytes.count else {
                throw fail("the file ends at byte \(bytes.count) inside a chunk header, before the IEND chunk (truncated file)")
            }
            let length = Int(readUInt32(bytes, position))
            let typeBytes = Array(bytes[(position + 4)..<(position + 8)])
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= bytes.count - position - 12 else {
                throw fail("chunk \(type) at byte \(position) claims \(length) bytes but the file ends first (truncated file)")
            }
            let start = position + 8, end = start + length
            let stored = readUInt32(bytes, end)
            let computed = bytes.withUnsafeBufferPointer { buffer in
                UInt32(crc32(0, buffer.baseAddress! + position + 4, uInt(length + 4)))
            }
            guard stored == computed else {
                throw fail("chunk \(type) at byte \(position) has CRC \(hex(stored)) but its contents give \(hex(computed)) (corrupt file)")
            }
            let body = bytes[start..<end]
            switch type {
            case "IHDR":
                guard length == 13 else { throw fail("the IHDR chunk has \(length) bytes, not 13") }
                let width = Int(readUInt32(bytes, start)), height = Int(readUInt32(bytes, start + 4))
                let bitDepth = Int(bytes[start + 8]), colorType = Int(bytes[start + 9])
                let compression = bytes[start + 10], filter = bytes[start + 11], interlace = bytes[start + 12]
                guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
                    throw fail("the image size \(width)×\(height) is invalid")
                }
                guard compression == 0, filter == 0 else {
                    throw fail("unknown compression method \(compression) or filter method \(filter) (only 0 is defined)")
                }
                guard interlace == 0 else {
                    throw fail("interlaced (Adam7) PNGs are not supported; save the image without interlacing")
                }
                guard bitDepth != 16 else {
                    throw fail("16-bit PNGs are not supported; convert the image to 8 bits per channel")
                }
                let allowed: [Int: [Int]] = [0: [1, 2, 4, 8], 2: [8], 3: [1, 2, 4, 8], 4: [8], 6: [8]]
                guard let depths = allowed[colorType] else { throw fail("unknown PNG color type \(colorType)") }
                guard depths.contains(bitDepth) else {
                    throw fail("bit depth \(bitDepth) is not valid for color type \(colorType)")
                }
                let outChannels = [0: 1, 2: 3, 3: 4, 4: 2, 6: 4][colorType]!
                let (product, overflow) = width.multipliedReportingOverflow(by: height)
                guard !overflow, product <= byteLimit / outChannels else {
                    throw fail("the image is \(width)×\(height)×\(outChannels), more than the \(byteLimit) bytes allowed (corrupt header or a very large image; raise byteLimit if it is real)")
                }
                header = (width, height, bitDepth, colorType)
            case "PLTE":
                guard length % 3 == 0, length > 0, length <= 768 else {
                    throw fail("the palette chunk has \(length) bytes; it must hold 1...256 RGB entries")
                }
                palette = Array(body)
            case "tRNS":
                transparency = Array(body)
            case "IDAT":
                guard header != nil else { throw fail("image data (IDAT) comes before the IHDR header") }
                compressed.append(contentsOf: body)
            case "IEND":
                sawEnd = true
            default:
                // Bit 5 of the first byte clear: a critical chunk we cannot skip safely.
                if typeBytes[0] & 0x20 == 0 {
                    throw fail("unknown critical chunk \(type); this PNG needs features Fathom does not read")
                }
            }
            if header == nil && type != "IHDR" {
                throw fail("the first chunk is \(type), not IHDR")
            }
            position = end + 4
        }
        guard let h = header else { throw fail("no IHDR chunk") }
        guard !compressed.isEmpty else { throw fail("no image data (IDAT chunks)") }
        if h.colorType == 3 && palette.isEmpty { throw fail("a palette image without a PLTE chunk") }

        let samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][h.colorType]!
        let bitsPerPixel = samples * h.bitDepth
        let rowBytes = (h.width * bitsPerPixel + 7) / 8
        let filterStride = Swift.max(1, bitsPerPixel / 8)
        let expected = h.height * (rowBytes + 1)
        let raw: Data
        do {
            raw = try inflate(Data(compressed), limit: expected, file: file)
        } catch let error as DataError {
            throw fail("the compressed image data (IDAT) cannot be decompressed to the \(expected) bytes a \(h.width)×\(h.height) image needs (corrupt or truncated file): \(error.message)")
        }
        guard raw.count == expected else {
            throw fail("the image data decompresses to \(raw.count) bytes, but a \(h.width)×\(h.height) image needs \(expected) (truncated or corrupt file)")
        }
        let rows = try unfilter([UInt8](raw), rowBytes: rowBytes, height: h.height, stride: filterStride, file: file)
        return try expand(rows, rowBytes: rowBytes, width: h.width, height: h.height, bitDepth: h.bitDepth,
                          colorType: h.colorType, palette: palette, transparency: transparency, file: file)
    }

    /// Undoes the per-row filters in place; returns the `height × rowBytes` plain bytes.
    static func unfilter(_ data: [UInt8], rowBytes: Int, height: Int, stride: Int, file: String) throws -> [UInt8] {
        // One zero row in front stands for the row above the first (no branch per byte).
        var out = [UInt8](repeating: 0, count: rowBytes * (height + 1))
        try data.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let filter = src[y * (rowBytes + 1)]
                    let inRow = src.baseAddress! + y * (rowBytes + 1) + 1
                    let row = dst.baseAddress! + (y + 1) * rowBytes
                    let prior = row - rowBytes
                    switch filter {
                    case 0:
                        for x in 0..<rowBytes { row[x] = inRow[x] }
                    case 1:
                        for x in 0..<rowBytes { row[x] = inRow[x] &+ (x >= stride ? row[x - stride] : 0) }
                    case 2:
                        for x in 0..<rowBytes { row[x] = inRow[x] &+ prior[x] }
                    case 3:
                        for x in 0..<rowBytes {
                            let a = Int(x >= stride ? row[x - stride] : 0), b = Int(prior[x])
                            row[x] = inRow[x] &+ UInt8((a + b) / 2)
                        }
                    case 4:
                        for x in 0..<rowBytes {
                            let a = x >= stride ? row[x - stride] : 0, b = prior[x]
                            let c = x >= stride ? prior[x - stride] : 0
                            row[x] = inRow[x] &+ paeth(a, b, c)
                        }
                    default:
                        throw DataError(file: file, "row \(y) has unknown filter type \(filter) (only 0...4 exist; corrupt file)")
                    }
                }
            }
        }
        return Array(out[rowBytes...])
    }

    /// Unpacks sub-byte samples and palette indices into 8-bit interleaved pixels.
    static func expand(_ rows: [UInt8], rowBytes: Int, width: Int, height: Int, bitDepth: Int, colorType: Int,
                       palette: [UInt8], transparency: [UInt8], file: String) throws -> PNGImage {
        switch colorType {
        case 2, 4, 6:
            return PNGImage(width: width, height: height, channels: rows.count / (width * height), pixels: rows)
        case 0 where bitDepth == 8:
            return PNGImage(width: width, height: height, channels: 1, pixels: rows)
        default:
            break
        }
        // Gray or palette with 1/2/4/8 bits per pixel: read one index per pixel.
        let mask = (1 << bitDepth) - 1
        func sample(_ y: Int, _ x: Int) -> Int {
            let bit = x * bitDepth
            let byte = rows[y * rowBytes + bit / 8]
            return (Int(byte) >> (8 - bitDepth - bit % 8)) & mask
        }
        if colorType == 0 {
            let scale = 255 / mask
            var pixels = [UInt8](repeating: 0, count: width * height)
            for y in 0..<height { for x in 0..<width { pixels[y * width + x] = UInt8(sample(y, x) * scale) } }
            return PNGImage(width: width, height: height, channels: 1, pixels: pixels)
        }
        let entries = palette.count / 3
        let channels = transparency.isEmpty ? 3 : 4
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                let index = sample(y, x)
                guard index < entries else {
                    throw DataError(file: file, "pixel (\(x), \(y)) uses palette entry \(index) but the palette has \(entries) (corrupt file)")
                }
                let o = (y * width + x) * channels
                pixels[o] = palette[3 * index]
                pixels[o + 1] = palette[3 * index + 1]
                pixels[o + 2] = palette[3 * index + 2]
                if channels == 4 { pixels[o + 3] = index < transparency.count ? transparency[index] : 255 }
            }
        }
        return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    @inline(__always)
    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    // MARK: Encoding

    /// Encodes `image` as PNG bytes (8-bit, color type by channel count, not interlaced).
    public static func encode(_ image: PNGImage, compressionLevel: Int32 = 6) throws -> Data {
        let channels = image.channels, rowBytes = image.width * channels
        let filtered = filterRows(image.pixels, rowBytes: rowBytes, height: image.height, stride: channels)
        var bound = compressBound(uLong(filtered.count))
        var zlibData = [UInt8](repeating: 0, count: Int(bound))
        let status = compress2(&zlibData, &bound, filtered, uLong(filtered.count), compressionLevel)
        guard status == Z_OK else {
            throw DataError(file: "<PNG encoder>", "zlib could not compress the image (status \(status))")
        }
        zlibData.removeSubrange(Int(bound)...)

        var out = signature
        var ihdr: [UInt8] = []
        appendUInt32(&ihdr, UInt32(image.width))
        appendUInt32(&ihdr, UInt32(image.height))
        ihdr += [8, [1: 0, 2: 4, 3: 2, 4: 6][channels]!, 0, 0, 0]
        appendChunk(&out, "IHDR", ihdr)
        appendChunk(&out, "IDAT", zlibData)
        appendChunk(&out, "IEND", [])
        return Data(out)
    }

    /// Filters each row with the filter whose output has the smallest sum of absolute
    /// values (as signed bytes), the heuristic the PNG specification recommends.
    static func filterRows(_ pixels: [UInt8], rowBytes: Int, height: Int, stride: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * (rowBytes + 1))
        var candidate = [UInt8](repeating: 0, count: rowBytes)
        pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let row = src.baseAddress! + y * rowBytes
                let prior: UnsafePointer<UInt8>? = y > 0 ? row - rowBytes : nil
                var bestCost = Int.max
                for filter in 0...4 {
                    var cost = 0
                    for x in 0..<rowBytes {
                        let a = x >= stride ? row[x - stride] : 0, b = prior?[x] ?? 0
                        let c = x >= stride ? (prior?[x - stride] ?? 0) : 0
                        let predicted: UInt8
                        switch filter {
                        case 0: predicted = 0
                        case 1: predicted = a
                        case 2: predicted = b
                        case 3: predicted = UInt8((Int(a) + Int(b)) / 2)
                        default: predicted = paeth(a, b, c)
                        }
                        let value = row[x] &- predicted
                        candidate[x] = value
                        cost += abs(Int(Int8(bitPattern: value)))
                    }
                    if cost < bestCost {
                        bestCost = cost
                        out[y * (rowBytes + 1)] = UInt8(filter)
                        for x in 0..<rowBytes { out[y * (rowBytes + 1) + 1 + x] = candidate[x] }
                    }
                }
            }
        }
        return out
    }

    static func appendChunk(_ out: inout [UInt8], _ type: String, _ body: [UInt8]) {
        appendUInt32(&out, UInt32(body.count))
        let typed = Array(type.utf8) + body
        out += typed
        let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        appendUInt32(&out, crc)
    }

    static func appendUInt32(_ out: inout [UInt8], _ value: UInt32) {
        out += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func readUInt32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }
}
