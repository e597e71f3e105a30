// The reverse-mode engine: walks the recorded graph from the outputs back to the leaves.

extension Tensor {
    /// Computes the gradient of `self` with respect to every leaf that requires grad and
    /// adds it to that leaf's `grad`, like PyTorch's `tensor.backward()`.
    ///
    /// - Parameters:
    ///   - gradient: the seed, d(something)/d(self). Omit it for a one-element tensor (the
    ///     seed is 1); required otherwise, with `self`'s shape.
    ///   - createGraph: record the backward pass so that the gradients can be
    ///     differentiated again (grad of grad, Hessian-vector products).
    public func backward(_ gradient: Tensor? = nil, createGraph: Bool = false) {
        let seed = orStop { () throws(TensorError) in try seedGradient(for: self, gradient, op: "backward") }
        _ = runBackward(roots: [self], seeds: [seed], targets: nil, createGraph: createGraph)
    }

    /// A tensor sharing this one's memory but cut from the graph: gradients do not flow
    /// through it.
    public func detach() -> Tensor { view(shape: shape, strides: strides, offset: offset) }

    /// Marks this leaf as requiring grad and returns it, for chaining at creation.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }
}

/// Gradients of `outputs` with respect to `inputs`, like `torch.autograd.grad`: leaves'
/// `grad` fields are not touched.
///
/// - Parameters:
///   - seeds: d(something)/d(output) for each output; defaults to 1 for one-element outputs.
///   - createGraph: record the computation so the returned gradients can be
///     differentiated again.
/// - Returns: one gradient per input; zeros for inputs the outputs do not depend on.
public func gradients(of outputs: [Tensor], wrt inputs: [Tensor], seeds: [Tensor]? = nil,
                      createGraph: Bool = false) -> [Tensor] {
    precondition(seeds == nil || seeds!.count == outputs.count,
                 "Fathom.gradients: \(outputs.count) outputs but \(seeds!.count) seeds; pass one seed per output")
    for input in inputs where !input.requiresGrad {
        fatalError(TensorError(op: "gradients", "an input of shape \(describe(input.shape)) does not require grad; call requiringGrad() on it before computing the outputs").description)
    }
    let seedList = outputs.indices.map { i in
        orStop { () throws(TensorError) in try seedGradient(for: outputs[i], seeds?[i], op: "gradients") }
    }
    let found = runBackward(roots: outputs, seeds: seedList, targets: inputs, createGraph: createGraph)
    return inputs.map { input in found[ObjectIdentifier(input)] ?? Tensor.zeros(input.shape, dtype: input.dtype) }
}

/// Checks or makes the seed gradient of a backward pass.
private func seedGradient(for output: Tensor, _ seed: Tensor?, op: String) throws(TensorError) -> Tensor {
    guard output.requiresGrad else {
        throw TensorError(op: op, "the tensor of shape \(describe(output.shape)) does not require grad: no input it was computed from had requiresGrad = true (or it was computed inside noGrad)")
    }
    if let seed {
        guard seed.shape == output.shape else {
            throw TensorError(op: op, "seed gradient has shape \(describe(seed.shape)) but the output has shape \(describe(output.shape)); pass a seed of the output's shape")
        }
        return seed.dtype == output.dtype ? seed : seed.to(output.dtype)
    }
    guard output.count == 1 else {
        throw TensorError(op: op, "the output has shape \(describe(output.shape)); a gradient can only be implied for one-element outputs, so pass a seed gradient of that shape")
    }
    return Tensor.ones(output.shape, dtype: output.dtype)
}

/// Runs the backward pass. With `targets == nil`, accumulates into leaves' `grad`;
/// otherwise returns the gradients of the targets, keyed by identity.
private func runBackward(roots: [Tensor], seeds: [Tensor], targets: [Tensor]?,
                         createGraph: Bool) -> [ObjectIdentifier: Tensor] {
    let order = topologicalOrder(roots)
    var pending: [ObjectIdentifier: Tensor] = [:]
    for (root, seed) in zip(roots, seeds) { accumulate(seed, into: &pending, for: root) }
    let targetIDs = Set((targets ?? []).map(ObjectIdentifier.init))
    var found: [ObjectIdentifier: Tensor] = [:]

    GradMode.with(enabled: createGraph) {
        // `order` lists every tensor after all the tensors computed from it.
        for tensor in order {
            let id = ObjectIdentifier(tensor)
            guard let gradOutput = pending.removeValue(forKey: id) else { continue }
            if targets != nil {
                if targetIDs.contains(id) { found[id] = gradOutput }
            } else if tensor.isLeaf {
                let g = createGraph ? gradOutput : gradOutput.detach()
                tensor.grad = tensor.grad.map { $0 + g } ?? g
            }
            guard let fn = tensor.gradFn else { continue }
            let inputGrads = fn.backward(gradOutput, tensor)
            for (input, inputGrad) in zip(fn.inputs, inputGrads) where input.requiresGrad {
                guard let inputGrad else { continue }
                precondition(inputGrad.shape == input.shape,
                             "Fathom internal error: backward of \(fn.name) gave a gradient of shape \(describe(inputGrad.shape)) for an input of shape \(describe(input.shape))")
                accumulate(inputGrad, into: &pending, for: input)
            }
        }
    }
    return found
}

private func accumulate(_ grad: Tensor, into pending: inout [ObjectIdentifier: Tensor], for tensor: Tensor) {
    let id = ObjectIdentifier(tensor)
    if let existing = pending[id] {
        pending[id] = existing + grad
    } else {
        pending[id] = grad
    }
}

/// Tensors reachable from `roots` through recorded operations, each after every tensor
/// that was computed from it (reverse post-order of an iterative depth-first search, so
/// deep graphs do not overflow the stack).
private func topologicalOrder(_ roots: [Tensor]) -> [Tensor] {
    var visited = Set<ObjectIdentifier>()
    var postOrder: [Tensor] = []
    var stack: [(tensor: Tensor, nextInput: Int)] = []
    for root in roots where root.requiresGrad && visited.insert(ObjectIdentifier(root)).inserted {
        stack.append((root, 0))
        while let (tensor, next) = stack.last {
            let inputs = tensor.gradFn?.inputs ?? []
            if next < inputs.count {
                stack[stack.count - 1].nextInput += 1
                let input = inputs[next]
                if input.requiresGrad && visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                postOrder.append(tensor)
                stack.removeLast()
            }
        }
    }
    return postOrder.reversed()
}
