import FathomTensor

/// Marks a module property as a trainable parameter, like `torch.nn.Parameter`:
/// `@Parameter var weight: Tensor`. The tensor requires grad, is found by
/// `Module.namedParameters()` under the property's name, and is saved in `stateDict()`.
@propertyWrapper
public final class Parameter {
    public var wrappedValue: Tensor {
        didSet { wrappedValue.requiresGrad = true }
    }

    public init(wrappedValue: Tensor) {
        wrappedValue.requiresGrad = true
        self.wrappedValue = wrappedValue
    }
}

/// A parameter that may be absent, like a bias created with `bias: false`:
/// `@OptionalParameter var bias: Tensor?`. Absent parameters have no state-dict key.
@propertyWrapper
public final class OptionalParameter {
    public var wrappedValue: Tensor? {
        didSet { wrappedValue?.requiresGrad = true }
    }

    public init(wrappedValue: Tensor?) {
        wrappedValue?.requiresGrad = true
        self.wrappedValue = wrappedValue
    }
}

/// Marks a module property as a buffer: state that is saved in `stateDict()` but not
/// trained, such as batch norm's running statistics (`register_buffer` in PyTorch).
@propertyWrapper
public final class Buffer {
    public var wrappedValue: Tensor

    public init(wrappedValue: Tensor) {
        self.wrappedValue = wrappedValue
    }
}
