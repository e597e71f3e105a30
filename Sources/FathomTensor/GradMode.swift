#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether operations record themselves for autodiff, per thread (as in PyTorch).
public enum GradMode {
    /// A per-thread depth of `noGrad` scopes, stored in the key's pointer bits.
    private static let disabledDepthKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private static var disabledDepth: Int {
        get { Int(bitPattern: pthread_getspecific(disabledDepthKey)) }
        set { pthread_setspecific(disabledDepthKey, UnsafeRawPointer(bitPattern: newValue)) }
    }

    /// True unless the current thread is inside a `noGrad` scope.
    public static var isEnabled: Bool { disabledDepth == 0 }

    /// Runs `body` with recording switched on (`true`) or off (`false`) on this thread.
    public static func with<R>(enabled: Bool, _ body: () throws -> R) rethrows -> R {
        let saved = disabledDepth
        disabledDepth = enabled ? 0 : saved + 1
        defer { disabledDepth = saved }
        return try body()
    }
}

/// Runs `body` without recording operations for autodiff, like `torch.no_grad()`.
/// Use it for evaluation and for updating parameters in place.
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.with(enabled: false, body)
}
