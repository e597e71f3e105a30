import FathomTensor

/// A module with one input and one output, the kind `Sequential` chains.
///
/// Subclasses override `forward`; callers write `layer(x)`, which also runs the forward
/// hooks — the way research tools read any layer's output by name (see `namedModules()`).
open class Layer: Module {
    private var forwardHooks: [(id: Int, hook: (Layer, Tensor, Tensor) -> Void)] = []
    private var nextHookID = 0

    public override init() { super.init() }

    /// The computation. Override it; call the layer as `layer(x)`.
    open func forward(_ input: Tensor) -> Tensor {
        fatalError("Fathom.Layer: \(type(of: self)) must override forward(_:)")
    }

    /// Runs `forward`, then every forward hook with (layer, input, output).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let output = forward(input)
        for entry in forwardHooks { entry.hook(self, input, output) }
        return output
    }

    /// Calls `hook(layer, input, output)` after each forward pass, like PyTorch's
    /// `register_forward_hook`. Returns a handle for `removeForwardHook`.
    @discardableResult
    public func addForwardHook(_ hook: @escaping (Layer, Tensor, Tensor) -> Void) -> Int {
        nextHookID += 1
        forwardHooks.append((nextHookID, hook))
        return nextHookID
    }

    /// Removes the hook that `addForwardHook` returned `handle` for.
    public func removeForwardHook(_ handle: Int) {
        forwardHooks.removeAll { $0.id == handle }
    }
}

/// Layers applied in order, like `torch.nn.Sequential`; children are named `0`, `1`, ….
public final class Sequential: Layer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) {
        self.layers = layers
        super.init()
    }

    public convenience init(_ layers: Layer...) { self.init(layers) }

    public override func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { x, layer in layer(x) }
    }

    public override func namedChildren() -> [(name: String, module: Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }
}
