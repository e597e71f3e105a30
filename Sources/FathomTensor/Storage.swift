#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reference-counted, 64-byte-aligned block of memory that tensors view.
///
/// Views (reshape, permute, slices) share one storage; the memory is freed when the
/// last view goes away.
final class TensorStorage: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int

    /// Allocates uninitialized memory. Kernels that read before writing must zero it.
    init(byteCount: Int) {
        self.byteCount = byteCount
        var pointer: UnsafeMutableRawPointer?
        let status = posix_memalign(&pointer, 64, max(byteCount, 64))
        guard status == 0, let pointer else {
            fatalError("Fathom: out of memory allocating \(byteCount) bytes for a tensor")
        }
        self.bytes = pointer
    }

    deinit { free(bytes) }
}
