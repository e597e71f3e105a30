import FathomNN
import FathomTensor

/// Builds models by the names the command line takes.
public enum ModelZoo {
    /// The names `make` accepts.
    public static let names = ["mlp"]

    /// A freshly initialized model.
    ///
    /// - Parameters:
    ///   - inputShape: one example's shape, `[channels, height, width]`.
    ///   - hidden: hidden widths, for `mlp`.
    /// - Throws: `ModelZooError` for an unknown name or an input the model cannot take.
    public static func make(_ name: String, inputShape: [Int], classCount: Int, hidden: [Int]? = nil) throws -> Layer {
        switch name {
        case "mlp":
            return MLP(inputFeatures: inputShape.reduce(1, *), hidden: hidden ?? [512, 512], classCount: classCount)
        default:
            throw ModelZooError("unknown model '\(name)'; choose one of \(names.joined(separator: ", "))")
        }
    }
}

/// A model that cannot be built as asked.
public struct ModelZooError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = "Fathom.ModelZoo: " + message }
}
