// `print(tensor)` in PyTorch's format: the same layout rules (4 decimals, scientific
// notation when magnitudes need it, whole floats as `1.`, summaries with `...` above 1000
// elements, 80-column wrapping), with Swift spellings in the suffixes:
//
//     tensor([[1.5000, 2.0000],
//             [3.0000, 4.2500]], dtype=float64, requiresGrad=true)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// PyTorch's print options (`torch.set_printoptions` defaults).
private enum PrintOptions {
    static let precision = 4
    static let threshold = 1000
    static let edgeItems = 3
    static let lineWidth = 80
}

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// The tensor as PyTorch prints it, e.g. `tensor([1.5000, 2.0000], dtype=float64)`.
    public var description: String {
        let prefix = "tensor("
        let indent = prefix.count
        var suffixes: [String] = []
        let body: String
        if count == 0 {
            if rank != 1 { suffixes.append("size=" + describe(shape)) }
            // Nothing to infer the dtype from, so anything but float32 is named.
            if dtype != .float32 { suffixes.append("dtype=\(dtype)") }
            body = "[]"
        } else {
            if dtype == .float64 { suffixes.append("dtype=\(dtype)") }
            body = TensorPrinter(self).render(indent: indent)
        }
        if let gradFn {
            suffixes.append("gradFn=<\(gradFn.name)>")
        } else if requiresGrad {
            suffixes.append("requiresGrad=true")
        }
        return addSuffixes(prefix + body, suffixes, indent: indent)
    }

    public var debugDescription: String { description }
}

/// Appends `, suffix` pieces, wrapping to a new line when the line would pass 80 columns.
private func addSuffixes(_ text: String, _ suffixes: [String], indent: Int) -> String {
    var result = text
    let lastNewline = text.lastIndex(of: "\n").map { text.distance(from: text.startIndex, to: $0) } ?? -1
    var lineLength = text.count - lastNewline + 1
    for suffix in suffixes {
        if lineLength + suffix.count + 2 > PrintOptions.lineWidth {
            result += ",\n" + String(repeating: " ", count: indent) + suffix
            lineLength = indent + suffix.count
        } else {
            result += ", " + suffix
            lineLength += suffix.count + 2
        }
    }
    return result + ")"
}

/// Renders the elements of one tensor, reading them in place (no copy of a large tensor).
private struct TensorPrinter {
    let tensor: Tensor
    let summarize: Bool
    let formatter: ElementFormatter

    init(_ tensor: Tensor) {
        self.tensor = tensor
        summarize = tensor.count > PrintOptions.threshold
        var shown: [PrintedValue] = []
        TensorPrinter.collect(tensor, axis: 0, offset: tensor.offset, summarize: summarize, into: &shown)
        formatter = ElementFormatter(shown, dtype: tensor.dtype)
    }

    /// The element at storage position `offset` (int64 kept exact).
    static func element(_ tensor: Tensor, _ offset: Int) -> PrintedValue {
        let base = tensor.storage.bytes
        switch tensor.dtype {
        case .float32: return .real(Double(base.assumingMemoryBound(to: Float.self)[offset]))
        case .float64: return .real(base.assumingMemoryBound(to: Double.self)[offset])
        case .int64: return .integer(base.assumingMemoryBound(to: Int64.self)[offset])
        case .bool: return .boolean(base.assumingMemoryBound(to: Bool.self)[offset])
        }
    }

    /// The positions shown along an axis of `size`: all, or the edges when summarizing.
    static func shownIndices(_ size: Int, summarize: Bool) -> (head: Range<Int>, tail: Range<Int>?) {
        if summarize && size > 2 * PrintOptions.edgeItems {
            return (0..<PrintOptions.edgeItems, (size - PrintOptions.edgeItems)..<size)
        }
        return (0..<size, nil)
    }

    /// The values that will be printed (what the formatter sizes its columns by).
    static func collect(_ tensor: Tensor, axis: Int, offset: Int, summarize: Bool, into values: inout [PrintedValue]) {
        if axis == tensor.rank {
            values.append(element(tensor, offset))
            return
        }
        let (head, tail) = shownIndices(tensor.shape[axis], summarize: summarize)
        for i in Array(head) + Array(tail ?? 0..<0) {
            collect(tensor, axis: axis + 1, offset: offset + i * tensor.strides[axis], summarize: summarize, into: &values)
        }
    }

    func render(indent: Int) -> String {
        render(axis: 0, offset: tensor.offset, indent: indent)
    }

    private func render(axis: Int, offset: Int, indent: Int) -> String {
        let remaining = tensor.rank - axis
        if remaining == 0 {
            return formatter.format(TensorPrinter.element(tensor, offset))
        }
        let (head, tail) = TensorPrinter.shownIndices(tensor.shape[axis], summarize: summarize)
        let step = tensor.strides[axis]
        if remaining == 1 {
            var items = head.map { formatter.format(TensorPrinter.element(tensor, offset + $0 * step)) }
            if let tail {
                items.append(" ...")
                items += tail.map { formatter.format(TensorPrinter.element(tensor, offset + $0 * step)) }
            }
            let perLine = max(1, (PrintOptions.lineWidth - indent) / (formatter.width + 2))
            let lines = stride(from: 0, to: items.count, by: perLine).map {
                items[$0..<min($0 + perLine, items.count)].joined(separator: ", ")
            }
            return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
        }
        var slices = head.map { render(axis: axis + 1, offset: offset + $0 * step, indent: indent + 1) }
        if let tail {
            slices.append("...")
            slices += tail.map { render(axis: axis + 1, offset: offset + $0 * step, indent: indent + 1) }
        }
        let separator = "," + String(repeating: "\n", count: remaining - 1) + String(repeating: " ", count: indent + 1)
        return "[" + slices.joined(separator: separator) + "]"
    }
}

/// One element as read for printing.
private enum PrintedValue {
    case real(Double)
    case integer(Int64)
    case boolean(Bool)

    var text: String {
        switch self {
        case .real(let value): "\(value)"
        case .integer(let value): String(value)
        case .boolean(let value): value ? "true" : "false"
        }
    }
}

/// PyTorch's `_Formatter`: chooses fixed, whole-number or scientific notation from the
/// nonzero finite values shown, and pads every element to one width.
private struct ElementFormatter {
    enum Mode { case plain, fixed, wholeFloat, scientific }
    let mode: Mode
    let width: Int

    init(_ shown: [PrintedValue], dtype: DType) {
        guard dtype.isFloatingPoint else {
            // Integers and bools print as themselves.
            mode = .plain
            width = shown.map(\.text.count).max() ?? 1
            return
        }
        let values = shown.map { if case .real(let v) = $0 { v } else { Double.nan } }
        let finite = values.filter { $0.isFinite && $0 != 0 }
        guard let largest = finite.map(abs).max(), let smallest = finite.map(abs).min() else {
            // Only zeros and non-finite values: PyTorch shows them as whole floats (`0.`).
            mode = .wholeFloat
            width = 1
            return
        }
        let whole = finite.allSatisfy { $0 == $0.rounded(.up) }
        let scientific = largest / smallest > 1000 || largest > 1e8 || (!whole && smallest < 1e-4)
        if scientific {
            mode = .scientific
            width = finite.map { formatC($0, "e").count }.max()!
        } else if whole {
            mode = .wholeFloat
            width = finite.map { formatC($0, ".0f").count + 1 }.max()!
        } else {
            mode = .fixed
            width = finite.map { formatC($0, "f").count }.max()!
        }
    }

    func format(_ element: PrintedValue) -> String {
        let text: String
        guard case .real(let value) = element else { return pad(element.text) }
        switch mode {
        case .plain: text = element.text
        case .fixed: text = value.isFinite ? formatC(value, "f") : nonFinite(value)
        case .scientific: text = value.isFinite ? formatC(value, "e") : nonFinite(value)
        case .wholeFloat: text = value.isFinite ? formatC(value, ".0f") + "." : nonFinite(value)
        }
        return pad(text)
    }

    private func pad(_ text: String) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    private func nonFinite(_ value: Double) -> String {
        value.isNaN ? "nan" : value > 0 ? "inf" : "-inf"
    }
}

/// `value` printed by C's printf with `%.4f` / `%.4e` (`conversion` "f" or "e", with the
/// default precision) or a full spec like ".0f"; the same digits as Python's `format`.
private func formatC(_ value: Double, _ conversion: String) -> String {
    let spec = conversion.count == 1 ? "%.\(PrintOptions.precision)\(conversion)" : "%" + conversion
    var buffer = [CChar](repeating: 0, count: 64)
    let written = withVaList([value]) { args in
        buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, 64, spec, args) }
    }
    precondition(written >= 0 && written < 64)
    return String(decoding: buffer[0..<Int(written)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
