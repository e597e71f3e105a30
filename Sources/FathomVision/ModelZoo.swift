import FathomNN
import FathomTensor

/// Builds models by the names the command line takes.
public enum ModelZoo {
    /// The names `make` accepts.
    public static let names = ["mlp", "lenet5", "vgg11", "vgg16", "resnet20", "resnet32", "resnet56",
                                "resnet18", "resnet34", "resnet50"]

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
        case "lenet5":
            guard inputShape.count == 3, inputShape[1] >= 20, inputShape[2] >= 20 else {
                throw ModelZooError("lenet5 needs images of at least 20×20, got input shape \(inputShape)")
            }
            return LeNet5(inputShape: inputShape, classCount: classCount)
        case "vgg11", "vgg16":
            guard inputShape.count == 3, inputShape[1] >= 32, inputShape[2] >= 32 else {
                throw ModelZooError("\(name) needs images of at least 32×32 (five poolings), got \(inputShape)")
            }
            return VGG(plan: name == "vgg11" ? VGG.vgg11 : VGG.vgg16, inputShape: inputShape, classCount: classCount)
        case "resnet20", "resnet32", "resnet56":
            guard inputShape.count == 3 else { throw ModelZooError("\(name) needs [channels, height, width] inputs, got \(inputShape)") }
            return CIFARResNet(depth: Int(name.dropFirst(6))!, inputChannels: inputShape[0], classCount: classCount)
        case "resnet18", "resnet34", "resnet50":
            guard inputShape.count == 3 else { throw ModelZooError("\(name) needs [channels, height, width] inputs, got \(inputShape)") }
            let plan: [String: (ResNet.Block, [Int])] = [
                "resnet18": (.basic, [2, 2, 2, 2]), "resnet34": (.basic, [3, 4, 6, 3]), "resnet50": (.bottleneck, [3, 4, 6, 3]),
            ]
            let (block, layers) = plan[name]!
            return ResNet(block: block, layers: layers, inputChannels: inputShape[0], classCount: classCount)
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
