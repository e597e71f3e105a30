/// A data file or directory that cannot be used, naming the file, what is wrong, and the fix.
public struct DataError: Error, CustomStringConvertible {
    public let file: String
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "Fathom.data: \(file): \(message)" }
}
