/// An error in how a tensor operation was called or in user-supplied data.
///
/// Operations on tensors in a program (a shape mismatch in `a + b`) are programmer
/// errors and stop the program with this message, as a failed precondition does.
/// Operations on user input (shapes read from a file, sizes from a flag) use the
/// `throws` variants and hand the same error back to the caller.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    /// The operation that failed, e.g. `"add"` or `"reshape"`.
    public let op: String
    /// What was wrong, naming the shapes or values involved, and how to fix it.
    public let message: String

    public init(op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "Fathom.\(op): \(message)" }
}

/// Runs a validating closure and stops the program with the error's message when it throws
/// (programmer errors). Package-wide, so every Fathom module reports them the same way.
@inline(__always)
package func orStop<T>(_ body: () throws(TensorError) -> T) -> T {
    do { return try body() } catch { fatalError(error.description) }
}

/// Formats a shape the way the error messages and `description` show it: `[2, 3]`.
func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
