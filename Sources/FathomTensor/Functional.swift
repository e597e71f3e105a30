// Function transforms in the style of JAX and MLX: they take a function of tensors and
// return a function that also gives gradients. They compose: grad(grad(f)) works,
// because an input that already requires grad is differentiated with its graph kept.

/// Returns a function computing `f(x)` and df/dx. `f` must return a one-element tensor.
public func valueAndGrad(_ f: @escaping (Tensor) -> Tensor) -> (Tensor) -> (value: Tensor, grad: Tensor) {
    let many = valueAndGrad { (xs: [Tensor]) in f(xs[0]) }
    return { x in
        let (value, grads) = many([x])
        return (value, grads[0])
    }
}

/// Returns a function computing `f(xs)` and the gradient with respect to each of `xs`.
public func valueAndGrad(_ f: @escaping ([Tensor]) -> Tensor) -> ([Tensor]) -> (value: Tensor, grads: [Tensor]) {
    return { xs in
        // Inside an outer transform the inputs already require grad: keep their graph.
        let nested = GradMode.isEnabled && xs.contains { $0.requiresGrad }
        let inputs = xs.map { $0.requiresGrad ? $0 : $0.detach().requiringGrad() }
        let value = GradMode.with(enabled: true) { f(inputs) }
        let grads = gradients(of: [value], wrt: inputs, createGraph: nested)
        return (nested ? value : value.detach(), grads)
    }
}

/// Returns a function computing df/dx. `f` must return a one-element tensor.
public func grad(_ f: @escaping (Tensor) -> Tensor) -> (Tensor) -> Tensor {
    let vg = valueAndGrad(f)
    return { vg($0).grad }
}

/// The exact Hessian-vector product H·v of a scalar `loss` with respect to `parameters`,
/// by double backward (Pearlmutter's trick): H·v = ∇(∇loss · v).
///
/// `loss` must have been computed with grad recording on from `parameters`. Costs about
/// two backward passes; the Hessian is never formed.
public func hvp(of loss: Tensor, wrt parameters: [Tensor], vectors: [Tensor]) -> [Tensor] {
    precondition(vectors.count == parameters.count,
                 "Fathom.hvp: \(parameters.count) parameters but \(vectors.count) vectors; pass one vector per parameter")
    for (p, v) in zip(parameters, vectors) where p.shape != v.shape {
        fatalError(TensorError(op: "hvp", "a vector of shape \(describe(v.shape)) was paired with a parameter of shape \(describe(p.shape)); each vector must match its parameter").description)
    }
    let grads = gradients(of: [loss], wrt: parameters, createGraph: true)
    let products = zip(grads, vectors).map { ($0 * $1.detach()).sum() }
    let dot = products.dropFirst().reduce(products[0], +)
    guard dot.requiresGrad else {
        // The gradient does not depend on the parameters: the loss is linear, H = 0.
        return parameters.map { Tensor.zeros($0.shape, dtype: $0.dtype) }
    }
    return gradients(of: [dot], wrt: parameters)
}

/// H·v for `f` at `x`: the function form of `hvp(of:wrt:vectors:)`.
public func hvp(_ f: ([Tensor]) -> Tensor, at xs: [Tensor], vectors: [Tensor]) -> [Tensor] {
    let inputs = xs.map { $0.detach().requiringGrad() }
    let loss = GradMode.with(enabled: true) { f(inputs) }
    return hvp(of: loss, wrt: inputs, vectors: vectors)
}
