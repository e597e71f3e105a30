import FathomData
import FathomNN
import FathomTensor

/// The curvature of a model's loss at its current parameters, as a linear operator on
/// parameter space that is never formed: `apply(v)` gives H·v (or G·v) at the cost of
/// about two backward passes per batch.
///
/// Definitions (pinned):
/// - The objective is the loss averaged over every example of `batches`:
///   L(θ) = Σ_b n_b·loss_b(θ) / Σ_b n_b, where `loss` returns the batch mean and n_b is a
///   batch's first dimension — PyHessian's `dataloader_hvp` weighting. One batch gives the
///   Hessian of that batch's loss.
/// - `.exact`: H = ∇²L(θ), by double backward (Pearlmutter's trick, `hvp(of:wrt:vectors:)`).
/// - `.gaussNewton`: G = Σ_b (n_b/N)·J_bᵀ·H_out,b·J_b, where J_b = ∂f(x_b; θ)/∂θ is the
///   Jacobian of the model outputs and H_out,b = ∂²loss_b/∂f² the Hessian of the loss with
///   respect to those outputs (for cross-entropy, (diag(p) − ppᵀ)/n per example). G is
///   positive semi-definite for convex losses and equals H when the model is linear in θ.
///   J·v comes from reverse mode alone by the double-backward trick: with a dummy u of the
///   outputs' shape, Jᵀu = ∂(f·u)/∂θ is linear in u, so J·v = ∂[(Jᵀu)·v]/∂u (exact, no
///   finite differences). Then H_out·(Jv) by double backward on the loss of detached
///   outputs, and Jᵀ(·) by one more backward pass.
///
/// The model is used as it is: put it in evaluation mode first if it has dropout or batch
/// norm (`model.eval()`), as PyHessian does. Every parameter must require grad. Products
/// are in the parameters' dtype (float32 or float64).
public final class HessianOperator {
    /// Which curvature matrix `apply` multiplies by.
    public enum Kind: Sendable {
        /// The exact Hessian of the loss.
        case exact
        /// The generalized Gauss–Newton matrix Jᵀ·H_out·J.
        case gaussNewton
    }

    public let parameters: [Tensor]
    public let batches: [Batch]
    public let kind: Kind
    private let forward: (Tensor) -> Tensor
    private let loss: (Tensor, Tensor) -> Tensor

    /// An operator over explicit parameter tensors and a forward function.
    ///
    /// - Parameters:
    ///   - parameters: the tensors θ (leaves that require grad), in `ParameterVector` order.
    ///   - batches: examples as (inputs, targets); the targets go to `loss` unchanged.
    ///   - forward: the model's outputs for a batch of inputs, computed from `parameters`.
    ///   - loss: (outputs, targets) → the batch mean loss, e.g. `{ crossEntropy($0, $1) }`.
    public init(parameters: [Tensor], batches: [Batch], kind: Kind = .exact,
                forward: @escaping (Tensor) -> Tensor, loss: @escaping (Tensor, Tensor) -> Tensor) {
        precondition(!batches.isEmpty, "Fathom.HessianOperator: no batches; pass at least one batch of examples")
        precondition(!parameters.isEmpty, "Fathom.HessianOperator: the model has no parameters")
        for p in parameters where !p.requiresGrad {
            fatalError("Fathom.HessianOperator: a parameter of shape \(p.shape) does not require grad; unfreeze the model (model.unfreeze()) before measuring its curvature")
        }
        self.parameters = parameters
        self.batches = batches
        self.kind = kind
        self.forward = forward
        self.loss = loss
    }

    /// An operator over every parameter of `model` (in `namedParameters()` order).
    public convenience init(model: Layer, batches: [Batch], kind: Kind = .exact,
                            loss: @escaping (Tensor, Tensor) -> Tensor) {
        self.init(parameters: model.parameters(), batches: batches, kind: kind,
                  forward: { model($0) }, loss: loss)
    }

    /// The number of scalar parameters (the operator is dimension × dimension).
    public var dimension: Int { parameters.reduce(0) { $0 + $1.count } }

    /// The mean loss L(θ) over all batches, in float64.
    public func lossValue() -> Double {
        let total = Double(batches.reduce(0) { $0 + $1.inputs.shape[0] })
        return noGrad {
            batches.reduce(0.0) { $0 + Double($1.inputs.shape[0]) / total * loss(forward($1.inputs), $1.labels).item() }
        }
    }

    /// H·v (or G·v for `.gaussNewton`), with `v` shaped like the parameters. The result is
    /// detached, in the parameters' dtype.
    public func apply(_ v: ParameterVector) -> ParameterVector {
        precondition(v.tensors.count == parameters.count && zip(v.tensors, parameters).allSatisfy { $0.shape == $1.shape },
                     "Fathom.HessianOperator.apply: the vector does not match the parameters (\(v.tensors.count) tensors for \(parameters.count) parameters)")
        let vectors = zip(v.tensors, parameters).map { $0.dtype == $1.dtype ? $0.detach() : $0.to($1.dtype) }
        let total = Double(batches.reduce(0) { $0 + $1.inputs.shape[0] })
        var sum: [Tensor]? = nil
        for batch in batches {
            let weight = Double(batch.inputs.shape[0]) / total
            let product = GradMode.with(enabled: true) {
                kind == .exact ? exactProduct(batch, vectors) : gaussNewtonProduct(batch, vectors)
            }
            let weighted = noGrad { product.map { $0.detach() * weight } }
            sum = sum.map { s in noGrad { zip(s, weighted).map { $0 + $1 } } } ?? weighted
        }
        return ParameterVector(sum!)
    }

    private func exactProduct(_ batch: Batch, _ vectors: [Tensor]) -> [Tensor] {
        let value = loss(forward(batch.inputs), batch.labels)
        return hvp(of: value, wrt: parameters, vectors: vectors)
    }

    private func gaussNewtonProduct(_ batch: Batch, _ vectors: [Tensor]) -> [Tensor] {
        let outputs = forward(batch.inputs)
        // J·v by the double-backward trick: Jᵀu is linear in the dummy u, so its
        // derivative along u of (Jᵀu)·v is J·v.
        let dummy = Tensor.zeros(outputs.shape, dtype: outputs.dtype).requiringGrad()
        let transposed = gradients(of: [outputs], wrt: parameters, seeds: [dummy], createGraph: true)
        let products = zip(transposed, vectors).map { ($0 * $1).sum() }
        let dot = products.dropFirst().reduce(products[0], +)
        let jv = dot.requiresGrad ? gradients(of: [dot], wrt: [dummy])[0]
                                  : Tensor.zeros(outputs.shape, dtype: outputs.dtype)
        // H_out·(J·v): the loss's Hessian with respect to the outputs, at the outputs.
        let z = outputs.detach().requiringGrad()
        let hjv = hvp(of: loss(z, batch.labels), wrt: [z], vectors: [jv])[0]
        // Jᵀ·(H_out·J·v).
        return gradients(of: [outputs], wrt: parameters, seeds: [hjv.detach()])
    }

    /// The dense matrix (row-major, dimension²) built by applying the operator to every
    /// basis vector — for checks on small models only. Symmetrized entries are not
    /// averaged: column j is exactly apply(e_j).
    public func denseMatrix() -> [Double] {
        let n = dimension
        precondition(n <= 4096, "Fathom.HessianOperator.denseMatrix: \(n) parameters is too many to form the matrix; use the iterative methods")
        var matrix = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            let column = apply(basisVector(j)).flattenedDoubles()
            for i in 0..<n { matrix[i * n + j] = column[i] }
        }
        return matrix
    }

    /// The j-th standard basis vector, shaped like the parameters.
    func basisVector(_ j: Int) -> ParameterVector {
        var remaining = j
        return ParameterVector(parameters.map { p in
            var values = [Double](repeating: 0, count: p.count)
            if remaining >= 0 && remaining < p.count { values[remaining] = 1 }
            remaining -= p.count
            return Tensor(values, shape: p.shape, dtype: p.dtype)
        })
    }

    /// A zero vector shaped like the parameters.
    func zeros() -> ParameterVector {
        ParameterVector(parameters.map { Tensor.zeros($0.shape, dtype: $0.dtype) })
    }
}

extension HessianOperator {
    /// A Rademacher vector (entries ±1 with probability ½ each), shaped like the
    /// parameters, drawn from `generator`.
    func rademacher(_ generator: Generator) -> ParameterVector {
        ParameterVector(parameters.map { p in
            var values = [Double](repeating: 0, count: p.count)
            var bits: UInt64 = 0
            for i in 0..<p.count {
                if i % 64 == 0 { bits = generator.next() }
                values[i] = bits & 1 == 0 ? -1 : 1
                bits >>= 1
            }
            return Tensor(values, shape: p.shape, dtype: p.dtype)
        })
    }

    /// A standard normal vector shaped like the parameters, drawn from `generator`.
    func gaussian(_ generator: Generator) -> ParameterVector {
        ParameterVector(parameters.map { Tensor.randn($0.shape, dtype: $0.dtype, generator: generator) })
    }
}
