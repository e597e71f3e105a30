import FathomTensor

/// The base class of layers and models, like `torch.nn.Module`.
///
/// Parameters (`@Parameter`), buffers (`@Buffer`) and child modules (stored properties of
/// a `Module` type, optionals of one, or arrays of them) are found by reflection, so a
/// layer declares its state once and gets PyTorch's dotted names for free:
/// `layer1.0.conv1.weight`. Subclasses add their own `callAsFunction`; single-input layers
/// subclass `Layer`, which also runs forward hooks.
open class Module {
    /// True in training mode (dropout active, batch norm uses batch statistics).
    public private(set) var isTraining = true

    public init() {}

    // MARK: discovery

    /// Direct children with their property names (array elements are `name.index`).
    open func namedChildren() -> [(name: String, module: Module)] {
        var result: [(String, Module)] = []
        visitProperties { name, value in
            if let module = value as? Module {
                result.append((name, module))
            } else if let modules = value as? [Module] {
                for (i, module) in modules.enumerated() { result.append(("\(name).\(i)", module)) }
            }
        }
        return result
    }

    /// Every parameter of this module and its descendants, with dotted names, in
    /// declaration order (this module's own first, then each child's).
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        collect { $0.ownParameters() }
    }

    /// Every buffer of this module and its descendants, with dotted names.
    public func namedBuffers() -> [(name: String, tensor: Tensor)] {
        collect { $0.reflected { ($0 as? Buffer)?.wrappedValue } }
    }

    /// This module's own parameters (not its children's), with their names: by default
    /// the `@Parameter` and `@OptionalParameter` properties under their property names.
    /// Override it where PyTorch's names are computed rather than declared (an LSTM's
    /// `weight_ih_l0`, `weight_ih_l1`, …), returning the tensors themselves.
    open func ownParameters() -> [(name: String, tensor: Tensor)] {
        reflected { ($0 as? Parameter)?.wrappedValue ?? ($0 as? OptionalParameter)?.wrappedValue }
    }

    /// The parameters, in `namedParameters()` order (what an optimizer takes).
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// The parameters that currently require grad (not frozen).
    public func trainableParameters() -> [Tensor] { parameters().filter(\.requiresGrad) }

    /// The number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// This module and all descendants, depth-first, with dotted names ("" for self).
    public func namedModules() -> [(name: String, module: Module)] {
        var result: [(String, Module)] = [("", self)]
        for (name, child) in namedChildren() {
            result += child.namedModules().map { (join(name, $0.name), $0.module) }
        }
        return result
    }

    // MARK: modes

    /// Switches this module and its descendants to training (`true`) or evaluation mode.
    public func train(_ training: Bool = true) {
        for (_, module) in namedModules() { module.isTraining = training }
    }

    /// Switches to evaluation mode, like `model.eval()`.
    public func eval() { train(false) }

    /// Stops gradients for every parameter (e.g. a pretrained backbone).
    public func freeze() { for p in parameters() { p.requiresGrad = false } }

    /// Makes every parameter trainable again.
    public func unfreeze() { for p in parameters() { p.requiresGrad = true } }

    // MARK: state

    /// Parameters and buffers by dotted name, in declaration order, like PyTorch's
    /// `state_dict()`. The tensors are the module's own (not copies).
    public func stateDict() -> StateDict {
        StateDict(namedParameters() + namedBuffers())
    }

    /// Copies the values of `state` into this module's parameters and buffers, in place.
    ///
    /// - Parameter strict: require exactly the same keys (missing or unexpected keys throw).
    /// - Throws: `StateDictError` naming the keys and shapes that do not fit.
    public func load(stateDict state: StateDict, strict: Bool = true) throws(StateDictError) {
        let own = stateDict()
        let missing = own.keys.filter { state[$0] == nil }
        let unexpected = state.keys.filter { own[$0] == nil }
        if strict && (!missing.isEmpty || !unexpected.isEmpty) {
            throw StateDictError.keysDiffer(missing: missing, unexpected: unexpected)
        }
        for (key, target) in own.entries {
            guard let value = state[key] else { continue }
            guard value.shape == target.shape else {
                throw StateDictError.shapeMismatch(key: key, expected: target.shape, found: value.shape)
            }
        }
        noGrad {
            for (key, target) in own.entries {
                if let value = state[key] { target.assign(value) }
            }
        }
    }

    // MARK: reflection

    /// The name under which the stored property `propertyName` (a parameter, buffer or
    /// child module) appears in `namedParameters()`, `namedBuffers()`, `namedChildren()`
    /// and `stateDict()`. The default is the property name itself; override it to match
    /// another naming scheme, e.g. PyTorch's `running_mean` for `runningMean`.
    open func stateKey(forProperty propertyName: String) -> String { propertyName }

    /// Calls `body(name, value)` for each stored property, walking superclasses first;
    /// property-wrapper storage (`_weight`) is reported under the wrapped name (`weight`),
    /// mapped through `stateKey(forProperty:)`.
    private func visitProperties(_ body: (String, Any) -> Void) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        for m in mirrors.reversed() {
            for child in m.children {
                guard var name = child.label else { continue }
                if name.hasPrefix("_") { name.removeFirst() }
                if case Optional<Any>.some(let unwrapped) = child.value as Any? {
                    body(stateKey(forProperty: name), unwrapOptional(unwrapped))
                }
            }
        }
    }

    /// The stored properties that `extract` turns into tensors, by property name.
    private func reflected(_ extract: (Any) -> Tensor?) -> [(name: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = []
        visitProperties { name, value in
            if let tensor = extract(value) { result.append((name, tensor)) }
        }
        return result
    }

    /// `own(module)` for this module and every descendant, with dotted names.
    private func collect(_ own: (Module) -> [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
        var result = own(self)
        for (name, child) in namedChildren() {
            result += child.collect(own).map { (join(name, $0.name), $0.tensor) }
        }
        return result
    }
}

/// `nil` optionals vanish; a present optional becomes its value.
private func unwrapOptional(_ value: Any) -> Any {
    let mirror = Mirror(reflecting: value)
    guard mirror.displayStyle == .optional else { return value }
    return mirror.children.first.map { unwrapOptional($0.value) } ?? ()
}

private func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : (name.isEmpty ? prefix : "\(prefix).\(name)")
}
