import FathomTensor

/// Multi-head scaled dot-product attention, `torch.nn.MultiheadAttention`:
/// softmax(Q·Kᵀ/√d + mask)·V in each of `numHeads` heads of size d = embedDim / numHeads,
/// with input projections before and an output projection after.
///
/// Parameters and state-dict keys are PyTorch's: the packed `in_proj_weight` `[3E, E]`
/// (rows for q, k, v) — or `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when keys or
/// values have other sizes (`kdim`, `vdim`) — then `in_proj_bias` `[3E]`,
/// `out_proj.weight`, `out_proj.bias`; initialized as PyTorch does (Xavier-uniform input
/// projections, zero biases). Unlike PyTorch, `batchFirst` defaults to true.
public final class MultiheadAttention: Module {
    public let embedDim: Int, numHeads: Int, kdim: Int, vdim: Int
    /// Inputs and outputs are `[N, L, E]` when true, `[L, N, E]` otherwise.
    public let batchFirst: Bool
    /// Dropout probability on the attention weights, in training mode.
    public let dropout: Double
    /// The generator for initialization and dropout (the default generator when nil).
    public let generator: Generator?

    /// `in_proj_weight` `[3E, E]` when keys and values have `embedDim` features, else nil.
    var inProjWeight: Tensor?
    /// `q_proj_weight` `[E, E]`, `k_proj_weight` `[E, kdim]`, `v_proj_weight` `[E, vdim]`
    /// when keys or values have another size, else nil.
    var separateProjWeights: [Tensor]?
    /// `in_proj_bias` `[3E]`, nil with `bias: false`.
    var inProjBias: Tensor?
    /// The output projection (`out_proj.weight`, `out_proj.bias`).
    public let outProj: Linear

    /// The size of each head, embedDim / numHeads.
    public var headDim: Int { embedDim / numHeads }

    /// - Parameters:
    ///   - embedDim: E, the features of queries and outputs; must be divisible by `numHeads`.
    ///   - kdim, vdim: the features of keys and values (E when nil).
    ///   - dtype: the parameters' dtype (inputs must match).
    public init(embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true, batchFirst: Bool = true,
                kdim: Int? = nil, vdim: Int? = nil, dtype: DType = .float32, generator: Generator? = nil) {
        precondition(embedDim > 0 && numHeads > 0 && embedDim % numHeads == 0,
                     "Fathom.MultiheadAttention: embedDim (\(embedDim)) must be a positive multiple of numHeads (\(numHeads))")
        precondition(dropout >= 0 && dropout <= 1, "Fathom.MultiheadAttention: dropout must be in [0, 1], got \(dropout)")
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.kdim = kdim ?? embedDim
        self.vdim = vdim ?? embedDim
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.generator = generator
        let e = embedDim
        if self.kdim == e && self.vdim == e {
            inProjWeight = Init.xavierUniform([3 * e, e], generator: generator).to(dtype).requiringGrad()
        } else {
            separateProjWeights = [[e, e], [e, self.kdim], [e, self.vdim]].map {
                Init.xavierUniform($0, generator: generator).to(dtype).requiringGrad()
            }
        }
        inProjBias = bias ? Tensor.zeros([3 * e], dtype: dtype).requiringGrad() : nil
        // PyTorch keeps Linear's default weight and zeroes the bias.
        let projection = Linear(e, e, bias: bias, generator: generator)
        projection.weight = projection.weight.to(dtype)
        if bias { projection.bias = Tensor.zeros([e], dtype: dtype) }
        outProj = projection
        super.init()
    }

    public override func ownParameters() -> [(name: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = []
        if let w = inProjWeight { result.append(("in_proj_weight", w)) }
        if let ws = separateProjWeights {
            result += zip(["q_proj_weight", "k_proj_weight", "v_proj_weight"], ws).map { ($0, $1) }
        }
        if let b = inProjBias { result.append(("in_proj_bias", b)) }
        return result
    }

    public override func namedChildren() -> [(name: String, module: Module)] { [("out_proj", outProj)] }

    /// Attends from `query` to `key`/`value`.
    ///
    /// - Parameters:
    ///   - query: `[N, L, E]` (`[L, N, E]` without `batchFirst`; `[L, E]` unbatched).
    ///   - key: `[N, S, kdim]`; `value`: `[N, S, vdim]`.
    ///   - keyPaddingMask: `[N, S]`; bool (true: ignore that key) or float (added to the scores).
    ///   - attnMask: `[L, S]` or `[N · numHeads, L, S]`; bool (true: not allowed) or float (added).
    ///   - needWeights: also return the attention weights.
    ///   - averageAttnWeights: average the weights over heads (`[N, L, S]`) rather than
    ///     returning each head's (`[N, numHeads, L, S]`).
    /// - Returns: the output `[N, L, E]` and, when asked, the attention weights (after
    ///   dropout, as PyTorch returns them). Rows whose keys are all masked give NaN, as in PyTorch.
    public func callAsFunction(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor? = nil,
                               attnMask: Tensor? = nil, needWeights: Bool = true,
                               averageAttnWeights: Bool = true) -> (output: Tensor, weights: Tensor?) {
        do {
            try validate(query: query, key: key, value: value, keyPaddingMask: keyPaddingMask, attnMask: attnMask)
        } catch { fatalError(error.description) }
        let batched = query.rank == 3
        func batchFirstView(_ x: Tensor) -> Tensor {
            batched ? (batchFirst ? x : x.transposed(0, 1)) : x.unsqueezed(axis: 0)
        }
        let (q0, k0, v0) = (batchFirstView(query), batchFirstView(key), batchFirstView(value))
        let n = q0.shape[0], l = q0.shape[1], s = k0.shape[1], e = embedDim, h = numHeads, d = headDim

        // Input projections; self-attention shares one product for q, k and v.
        let weights = inProjWeight.map { $0.chunk(3, axis: 0) } ?? separateProjWeights!
        let biases = inProjBias?.chunk(3, axis: 0)
        var q: Tensor, k: Tensor, v: Tensor
        if let packed = inProjWeight, query === key, key === value {
            var qkv = q0.matmul(packed.transposed())
            if let b = inProjBias { qkv = qkv + b }
            let parts = qkv.chunk(3, axis: -1)
            (q, k, v) = (parts[0], parts[1], parts[2])
        } else {
            func project(_ x: Tensor, _ i: Int) -> Tensor {
                let y = x.matmul(weights[i].transposed())
                return biases.map { y + $0[i] } ?? y
            }
            (q, k, v) = (project(q0, 0), project(k0, 1), project(v0, 2))
        }
        // [N, len, E] -> [N, heads, len, d]; q is scaled before the product, as PyTorch does.
        func heads(_ x: Tensor, _ length: Int) -> Tensor { x.reshaped([n, length, h, d]).permuted([0, 2, 1, 3]) }
        q = heads(q * (1 / Double(d).squareRoot()), l)
        k = heads(k, s)
        v = heads(v, s)

        var scores = q.matmul(k.transposed())  // [N, h, L, S]
        if let mask = attnMask {
            let m = mask.rank == 3 ? mask.reshaped([n, h, l, s]) : mask
            scores = m.dtype == .bool ? scores.maskedFill(mask: m, value: -.infinity) : scores + m.to(scores.dtype)
        }
        if let mask = keyPaddingMask {
            let m = mask.reshaped([n, 1, 1, s])
            scores = m.dtype == .bool ? scores.maskedFill(mask: m, value: -.infinity) : scores + m.to(scores.dtype)
        }
        var attention = scores.softmax(axis: -1)
        if dropout > 0 && isTraining {
            attention = FathomNN.dropout(attention, p: dropout, training: true, generator: generator)
        }
        var output = attention.matmul(v).permuted([0, 2, 1, 3]).reshaped([n, l, e])
        output = outProj(output)
        var averaged: Tensor? = needWeights ? (averageAttnWeights ? attention.mean(axis: 1) : attention) : nil
        if batched {
            if !batchFirst { output = output.transposed(0, 1) }
        } else {
            output = output.squeezed(axis: 0)
            averaged = averaged?.squeezed(axis: 0)
        }
        return (output, averaged)
    }

    /// Checks the shapes and dtypes of a call.
    func validate(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor?, attnMask: Tensor?) throws(TensorError) {
        let op = "MultiheadAttention"
        let rank = query.rank
        guard rank == 2 || rank == 3, key.rank == rank, value.rank == rank else {
            throw TensorError(op: op, "query, key and value must all be 3-d (\(batchFirst ? "[N, L, E]" : "[L, N, E]")) or all 2-d (unbatched), got shapes \(query.shape), \(key.shape) and \(value.shape)")
        }
        guard query.shape.last == embedDim, key.shape.last == kdim, value.shape.last == vdim else {
            throw TensorError(op: op, "query, key and value have \(query.shape.last!), \(key.shape.last!) and \(value.shape.last!) features but the layer expects \(embedDim), \(kdim) and \(vdim)")
        }
        let lengthAxis = rank == 3 && batchFirst ? 1 : 0
        let batchAxis = 1 - lengthAxis
        guard key.shape[lengthAxis] == value.shape[lengthAxis], rank == 2 || (key.shape[batchAxis] == query.shape[batchAxis] && value.shape[batchAxis] == query.shape[batchAxis]) else {
            throw TensorError(op: op, "key of shape \(key.shape) and value of shape \(value.shape) must have the same length, and the same batch size as query of shape \(query.shape)")
        }
        let dtype = outProj.weight.dtype
        guard query.dtype == dtype, key.dtype == dtype, value.dtype == dtype else {
            throw TensorError(op: op, "query, key and value are \(query.dtype), \(key.dtype) and \(value.dtype) but the parameters are \(dtype)")
        }
        let n = rank == 3 ? query.shape[batchAxis] : 1
        let l = query.shape[lengthAxis], s = key.shape[lengthAxis]
        if let mask = keyPaddingMask {
            let expected = rank == 3 ? [n, s] : [s]
            guard mask.shape == expected else {
                throw TensorError(op: op, "keyPaddingMask of shape \(mask.shape) must be \(expected) ([N, S]) for key of shape \(key.shape)")
            }
        }
        if let mask = attnMask {
            guard mask.shape == [l, s] || mask.shape == [n * numHeads, l, s] else {
                throw TensorError(op: op, "attnMask of shape \(mask.shape) must be [L, S] = \([l, s]) or [N · numHeads, L, S] = \([n * numHeads, l, s])")
            }
        }
    }
}
