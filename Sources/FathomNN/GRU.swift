import FathomTensor

/// A gated recurrent unit network, `torch.nn.GRU`, stacked `numLayers` deep:
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),   h' = (1 − z) ⊙ n + z ⊙ h
///
/// (the reset gate multiplies `W_hn h + b_hn`, as in PyTorch and cuDNN). Parameters and
/// state-dict keys are PyTorch's (`weight_ih_l0` `[3H, inputSize]` with the gates in the
/// order r, z, n, …). Unlike PyTorch, `batchFirst` defaults to true.
public final class GRU: RecurrentBase {
    /// - Parameters:
    ///   - dropout: dropout on each layer's outputs except the last, in training mode.
    ///   - dtype: the parameters' dtype (inputs must match).
    ///   - generator: draws the initial weights and the dropout masks.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                batchFirst: Bool = true, dropout: Double = 0, bidirectional: Bool = false,
                dtype: DType = .float32, generator: Generator? = nil) {
        super.init(kind: "GRU", gateCount: 3, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional,
                   dtype: dtype, generator: generator)
    }

    /// Runs the network over `input` (`[N, T, inputSize]`, or `[T, N, inputSize]` without
    /// `batchFirst`, or `[T, inputSize]` unbatched) from the initial hidden state `h0`
    /// (`[numLayers · directions, N, H]`, zeros when nil).
    ///
    /// - Returns: the last layer's hidden state at every step (`[N, T, directions · H]`)
    ///   and the final hidden state of every layer (`h0`'s shape).
    public func callAsFunction(_ input: Tensor, _ h0: Tensor? = nil) -> (output: Tensor, state: Tensor) {
        let (output, state) = run(input, h0.map { [$0] }, weights: weights)
        return (output, state[0])
    }

    // b_hn sits inside r ⊙ (…), so b_hh cannot join the input projection.
    override var foldsHiddenBias: Bool { false }

    override func cell(_ projected: Tensor, _ state: [Tensor], hiddenT: Tensor, hiddenBias: Tensor?) -> [Tensor] {
        let h = state[0], size = hiddenSize
        var hidden = h.matmul(hiddenT)
        if let b = hiddenBias { hidden = hidden + b }
        let x = projected.split([2 * size, size], axis: 1)
        let hh = hidden.split([2 * size, size], axis: 1)
        let rz = (x[0] + hh[0]).sigmoid().chunk(2, axis: 1)
        let n = (x[1] + rz[0] * hh[1]).tanh()
        return [n + rz[1] * (h - n)]
    }
}
