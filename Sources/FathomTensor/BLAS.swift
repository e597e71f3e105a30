#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBLAS
import Synchronization

/// OpenBLAS, configured for this CPU and for Fathom's thread pool.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent AMD processors (Zen 4) and falls back
/// to generic kernels that run SGEMM 5–10× below the hardware's speed. At first use Fathom
/// checks the CPU's instruction sets and, when OpenBLAS picked a core type that does not use
/// them, re-selects kernels (`SkylakeX` with AVX-512, `Haswell` with AVX2 + FMA). A user-set
/// `OPENBLAS_CORETYPE` is always respected. OpenBLAS runs single-threaded inside Fathom's
/// pool (see `threading`).
public enum BLAS {
    /// The kernel family OpenBLAS uses, e.g. `"SkylakeX"` (after Fathom's CPU check).
    public static var coreName: String {
        ensureConfigured()
        return String(cString: openblas_get_corename())
    }

    /// The kernel family OpenBLAS chose by itself, before Fathom's correction.
    public static var detectedCoreName: String {
        ensureConfigured()
        return configuration.detected
    }

    /// Whether Fathom re-selected OpenBLAS's kernels for this CPU.
    public static var didOverrideCore: Bool {
        ensureConfigured()
        return configuration.overridden
    }

    /// Threads OpenBLAS runs with.
    public static var threadCount: Int {
        ensureConfigured()
        return Int(openblas_get_num_threads())
    }

    /// Who runs a GEMM on several threads.
    enum Threading: Equatable {
        /// OpenBLAS's own thread server (its threads spin-yield between calls).
        case openBLAS
        /// Fathom's pool: the output is cut into fixed blocks (`GemmTiling`), each a
        /// single-threaded OpenBLAS call.
        case pool
    }

    /// `FATHOM_GEMM_THREADING=openblas|pool` (default `pool`), read once.
    static let threading: Threading = {
        let text = getenv("FATHOM_GEMM_THREADING").map { String(cString: $0).lowercased() }
        return text == "openblas" ? .openBLAS : .pool
    }()

    /// Configures OpenBLAS once; every BLAS call site calls this first (a cheap check).
    @inline(__always)
    static func ensureConfigured() { _ = configuration }

    /// Runs `body` with OpenBLAS on one thread, then restores its thread count: for GEMMs
    /// that the pool runs side by side (one per image), which would otherwise each split
    /// across both cores and synchronize. Splitting only M/N, never K (see `gemm`), makes
    /// the results the same either way.
    static func withSingleThread<R>(_ body: () -> R) -> R {
        ensureConfigured()
        if threading == .pool { return body() }
        let threads = openblas_get_num_threads()
        if threads <= 1 { return body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(threads) }
        return body()
    }

    /// Called by the pool when its size changes.
    static func threadCountDidChange(_ n: Int) {
        pendingThreads.store(n, ordering: .relaxed)
        if configured.load(ordering: .acquiring) && threading == .openBLAS { openblas_set_num_threads(Int32(n)) }
    }

    private static let pendingThreads = Atomic<Int>(0)
    private static let configured = Atomic<Bool>(false)

    private static let configuration: (detected: String, overridden: Bool) = {
        let detected = String(cString: openblas_get_corename())
        var overridden = false
        if getenv("OPENBLAS_CORETYPE") == nil, let wanted = preferredCore(detected: detected) {
            reselectCore(wanted)
            overridden = true
        }
        let threads = pendingThreads.load(ordering: .relaxed)
        openblas_set_num_threads(threading == .pool ? 1 : Int32(threads > 0 ? threads : ThreadPool.shared.threadCount))
        configured.store(true, ordering: .releasing)
        return (detected, overridden)
    }()

    /// Makes OpenBLAS re-select its kernels as core type `name` (e.g. `"SkylakeX"`).
    /// Not thread-safe against concurrent BLAS calls: only at start-up and in tests.
    static func reselectCore(_ name: String) {
        setenv("OPENBLAS_CORETYPE", name, 1)
        gotoblas_dynamic_quit()
        gotoblas_dynamic_init()
    }

    /// The core type to force, or nil when OpenBLAS's choice already uses the CPU's vector units.
    static func preferredCore(detected: String) -> String? {
        let flags = cpuFlags()
        let core = detected.lowercased()
        let avx512Cores = ["skylakex", "cooperlake", "sapphirerapids"]
        if ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(flags.contains) {
            return avx512Cores.contains(core) ? nil : "SkylakeX"
        }
        if ["avx2", "fma"].allSatisfy(flags.contains) {
            let avx2Cores = avx512Cores + ["haswell", "zen"]
            return avx2Cores.contains(core) ? nil : "Haswell"
        }
        return nil
    }

    /// The instruction-set flags of the first CPU in /proc/cpuinfo (empty elsewhere).
    static func cpuFlags() -> Set<String> {
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            if text.hasPrefix("flags") {
                guard let colon = text.firstIndex(of: ":") else { continue }
                return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
            }
        }
        return []
    }
}

