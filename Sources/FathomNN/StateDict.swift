import FathomTensor

/// Named tensors in a fixed order, like the `OrderedDict` PyTorch's `state_dict()` returns.
public struct StateDict {
    public private(set) var entries: [(key: String, tensor: Tensor)]
    private var index: [String: Int]

    public init(_ entries: [(String, Tensor)] = []) {
        self.entries = []
        self.index = [:]
        for (key, tensor) in entries { self[key] = tensor }
    }

    public var keys: [String] { entries.map(\.key) }
    public var count: Int { entries.count }

    public subscript(key: String) -> Tensor? {
        get { index[key].map { entries[$0].tensor } }
        set {
            if let i = index[key] {
                if let newValue { entries[i].tensor = newValue } else { remove(key) }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    private mutating func remove(_ key: String) {
        guard let i = index.removeValue(forKey: key) else { return }
        entries.remove(at: i)
        for (k, j) in index where j > i { index[k] = j - 1 }
    }
}

/// Why a state dict could not be loaded into a module.
public enum StateDictError: Error, CustomStringConvertible, Equatable {
    case keysDiffer(missing: [String], unexpected: [String])
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .keysDiffer(missing, unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys \(missing)") }
            if !unexpected.isEmpty { parts.append("unexpected keys \(unexpected)") }
            return "Fathom.load(stateDict:): " + parts.joined(separator: " and ")
                + "; check that the checkpoint is for this model, or pass strict: false to load the keys that match"
        case let .shapeMismatch(key, expected, found):
            return "Fathom.load(stateDict:): '\(key)' has shape \(found) in the state dict but \(expected) in the model; the checkpoint was saved from a model of another size"
        }
    }
}
