import FathomTensor

/// Parameters that share hyperparameters, like one entry of PyTorch's `param_groups`.
public struct ParameterGroup<Options> {
    public var parameters: [Tensor]
    public var options: Options

    public init(_ parameters: [Tensor], _ options: Options) {
        self.parameters = parameters
        self.options = options
    }
}

/// Hyperparameters every optimizer has: the learning rate schedulers change.
public protocol OptimizerOptions {
    var lr: Double { get set }
}

/// An optimizer updates parameters in place from their `grad`.
public protocol Optimizer: AnyObject {
    /// One update of every parameter that has a gradient.
    func step()
    /// The learning rate of each parameter group (schedulers read and set these).
    var learningRates: [Double] { get set }
    /// Everything needed to resume exactly: per-parameter buffers and step counts, with
    /// keys like `state.0.3.exp_avg` (group 0, parameter 3).
    func stateDict() -> [(name: String, tensor: Tensor)]
    /// Restores what `stateDict()` saved, for an optimizer built over the same parameters.
    func load(stateDict: [(name: String, tensor: Tensor)]) throws
    /// All parameters, in group order.
    var allParameters: [Tensor] { get }
}

extension Optimizer {
    /// Clears every parameter's gradient (`set_to_none=True`, PyTorch's default).
    public func zeroGrad() {
        for p in allParameters { p.grad = nil }
    }
}

/// What every optimizer here shares: parameter groups with their options, per-parameter
/// state, learning rates for schedulers, state dicts for checkpoints, and the step loop.
/// A concrete optimizer supplies `update`, one parameter's in-place step.
public class GroupedOptimizer<Options: OptimizerOptions>: Optimizer {
    public var groups: [ParameterGroup<Options>]
    let state = OptimizerState()

    public init(groups: [ParameterGroup<Options>]) { self.groups = groups }

    public var allParameters: [Tensor] { groups.flatMap(\.parameters) }

    public var learningRates: [Double] {
        get { groups.map(\.options.lr) }
        set { for i in groups.indices { groups[i].options.lr = newValue[i] } }
    }

    public func step() {
        noGrad {
            for (g, group) in groups.enumerated() {
                for (i, p) in group.parameters.enumerated() {
                    guard let grad = p.grad else { continue }
                    update(p, gradient: grad.contiguous(), group: g, index: i, options: group.options)
                }
            }
        }
    }

    /// Updates `parameter` in place (called inside `noGrad`, with a contiguous gradient).
    func update(_ parameter: Tensor, gradient: Tensor, group: Int, index: Int, options: Options) {
        fatalError("Fathom.GroupedOptimizer: \(type(of: self)) must override update")
    }

    public func stateDict() -> [(name: String, tensor: Tensor)] { state.entries() }

    public func load(stateDict: [(name: String, tensor: Tensor)]) throws {
        try state.load(stateDict, parameters: groups.map(\.parameters))
    }
}

/// Per-parameter state buffers, keyed by (group, parameter, name), shared by the optimizers.
final class OptimizerState {
    private(set) var buffers: [String: Tensor] = [:]
    /// Steps taken per (group, parameter), for bias corrections.
    var steps: [String: Int] = [:]

    static func key(_ group: Int, _ index: Int) -> String { "\(group).\(index)" }

    /// The buffer `name` of a parameter, created with zeros of its shape on first use.
    func buffer(_ name: String, _ group: Int, _ index: Int, like parameter: Tensor) -> Tensor {
        let key = "state.\(Self.key(group, index)).\(name)"
        if let existing = buffers[key] { return existing }
        let created = Tensor.zeros(parameter.shape, dtype: parameter.dtype)
        buffers[key] = created
        return created
    }

    func hasBuffer(_ name: String, _ group: Int, _ index: Int) -> Bool {
        buffers["state.\(Self.key(group, index)).\(name)"] != nil
    }

    func entries() -> [(name: String, tensor: Tensor)] {
        let stepEntries = steps.map { ("state.\($0.key).step", Tensor([Int64($0.value)])) }
        return (buffers.map { ($0.key, $0.value) } + stepEntries).sorted { $0.0 < $1.0 }
    }

    func load(_ entries: [(name: String, tensor: Tensor)], parameters: [[Tensor]]) throws {
        var newBuffers: [String: Tensor] = [:]
        var newSteps: [String: Int] = [:]
        for (name, tensor) in entries {
            let parts = name.split(separator: ".")
            guard parts.count == 4, parts[0] == "state", let g = Int(parts[1]), let i = Int(parts[2]),
                  g < parameters.count, i < parameters[g].count else {
                throw StateDictError.keysDiffer(missing: [], unexpected: [name])
            }
            if parts[3] == "step" {
                newSteps["\(g).\(i)"] = Int(tensor.item())
            } else {
                let parameter = parameters[g][i]
                guard tensor.shape == parameter.shape else {
                    throw StateDictError.shapeMismatch(key: name, expected: parameter.shape, found: tensor.shape)
                }
                newBuffers[name] = noGrad { tensor.to(parameter.dtype).contiguous() }.detach()
            }
        }
        buffers = newBuffers
        steps = newSteps
    }
}

/// Runs `body` with `T` = the parameter's float type; stops for other dtypes.
func dispatchFloat(_ parameter: Tensor, op: String, float: () -> Void, double: () -> Void) {
    switch parameter.dtype {
    case .float32: float()
    case .float64: double()
    default: fatalError("Fathom.\(op): parameters must be float32 or float64, got \(parameter.dtype)")
    }
}
