/// One recorded operation of the autodiff tape: the inputs it read and how to turn the
/// gradient of its output into gradients of those inputs.
///
/// `backward` is written with ordinary tensor operations, so when the engine runs it with
/// grad mode on (`createGraph: true`) the backward pass is itself recorded and can be
/// differentiated again: that is what makes Hessian-vector products exact.
final class GradFn {
    /// The operation's name, shown in errors and in `Tensor.description`.
    let name: String
    let inputs: [Tensor]
    /// `(gradient of the output, the output itself) -> gradient of each input` (nil: none).
    /// The output is passed in rather than captured so that no tensor owns itself.
    let backward: (_ gradOutput: Tensor, _ output: Tensor) -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor, Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// True when an operation on these inputs must be recorded.
@inline(__always)
func needsGrad(_ a: Tensor) -> Bool { a.requiresGrad && GradMode.isEnabled }
@inline(__always)
func needsGrad(_ a: Tensor, _ b: Tensor) -> Bool { (a.requiresGrad || b.requiresGrad) && GradMode.isEnabled }
@inline(__always)
func needsGrad(_ tensors: [Tensor]) -> Bool { GradMode.isEnabled && tensors.contains { $0.requiresGrad } }

extension Tensor {
    /// Records that `self` was produced by `name` from `inputs`. Call only when `needsGrad`.
    @discardableResult
    func recorded(_ name: String, _ inputs: [Tensor],
                  backward: @escaping (_ gradOutput: Tensor, _ output: Tensor) -> [Tensor?]) -> Tensor {
        gradFn = GradFn(name: name, inputs: inputs, backward: backward)
        return self
    }
}
