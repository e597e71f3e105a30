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
        _ = TensorStorage.allocatorTuned
        self.byteCount = byteCount
        var pointer: UnsafeMutableRawPointer?
        let status = posix_memalign(&pointer, 64, max(byteCount, 64))
        guard status == 0, let pointer else {
            fatalError("Fathom: out of memory allocating \(byteCount) bytes for a tensor")
        }
        self.bytes = pointer
    }

    deinit { free(bytes) }

    /// Keeps tensor-sized blocks in glibc's heap instead of a fresh mmap per allocation:
    /// each new mapping page-faults on first touch (~10% of a large elementwise op), while
    /// a freed heap block is reused warm by the next step. Process-wide, like PyTorch's
    /// caching allocator.
    private static let allocatorTuned: Void = {
        #if canImport(Glibc)
        _ = glibcMallopt(-3, 32 << 20)  // M_MMAP_THRESHOLD, at glibc's 64-bit maximum
        _ = glibcMallopt(-1, 1 << 30)   // M_TRIM_THRESHOLD
        #endif
    }()
}

#if canImport(Glibc)
/// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not export).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
