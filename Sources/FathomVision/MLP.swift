import FathomNN
import FathomTensor

/// A multilayer perceptron on flattened inputs: Linear → ReLU for each hidden width, then
/// a Linear classifier (`mlp` in the CLI: 784-512-512-10 by default).
public final class MLP: Layer {
    public let layers: Sequential

    /// - Parameters:
    ///   - inputFeatures: features after flattening (784 for MNIST).
    ///   - hidden: widths of the hidden layers.
    ///   - classCount: outputs.
    public init(inputFeatures: Int, hidden: [Int] = [512, 512], classCount: Int) {
        var stack: [Layer] = [Flatten()]
        var width = inputFeatures
        for h in hidden {
            stack += [Linear(width, h), ReLU()]
            width = h
        }
        stack.append(Linear(width, classCount))
        layers = Sequential(stack)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { layers(input) }

    public override func namedChildren() -> [(name: String, module: Module)] { layers.namedChildren() }
}
