import RealModule

/// The element type of a tensor, chosen at run time.
///
/// `float32` is the compute type; `float64` serves gradient checks and reference math;
/// `int64` holds indices and labels; `bool` holds masks. New types (float16, bfloat16)
/// are added as new cases without changing the `Tensor` API.
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float64, int64, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32: 4
        case .float64, .int64: 8
        case .bool: 1
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    public var description: String { rawValue }
}

/// Where a tensor's memory lives. Only the CPU exists today; the tag is carried at run
/// time so that an accelerator can be added later without changing user code.
public enum Device: String, Sendable, CustomStringConvertible {
    case cpu
    public var description: String { rawValue }
}

/// A Swift type that can be the element of a tensor.
public protocol TensorScalar: Sendable, Equatable {
    static var dtype: DType { get }
    /// Conversion through `Double`, the widest type every element fits in (int64 above
    /// 2^53 loses precision, as in NumPy's float conversion).
    init(fromDouble value: Double)
    var asDouble: Double { get }
}

/// A floating-point tensor element: the types kernels and autodiff are written for.
public protocol FloatScalar: TensorScalar, BinaryFloatingPoint, Real, SIMDScalar, Codable {}

extension Float: FloatScalar {
    public static var dtype: DType { .float32 }
    @inlinable public init(fromDouble value: Double) { self = Float(value) }
    @inlinable public var asDouble: Double { Double(self) }
}

extension Double: FloatScalar {
    public static var dtype: DType { .float64 }
    @inlinable public init(fromDouble value: Double) { self = value }
    @inlinable public var asDouble: Double { self }
}

extension Int64: TensorScalar {
    public static var dtype: DType { .int64 }
    @inlinable public init(fromDouble value: Double) { self = Int64(value) }
    @inlinable public var asDouble: Double { Double(self) }
}

extension Bool: TensorScalar {
    public static var dtype: DType { .bool }
    @inlinable public init(fromDouble value: Double) { self = value != 0 }
    @inlinable public var asDouble: Double { self ? 1 : 0 }
}
