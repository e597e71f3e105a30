import FathomTensor

/// A long short-term memory network, `torch.nn.LSTM`, stacked `numLayers` deep:
///
///     i, f, g, o = σ, σ, tanh, σ applied to the four row blocks of x_t·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh
///     c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
///
/// Parameters and state-dict keys are PyTorch's (`weight_ih_l0` `[4H, inputSize]` with the
/// gates in the order i, f, g, o, …). Unlike PyTorch, `batchFirst` defaults to true.
public final class LSTM: RecurrentBase {
    /// - Parameters:
    ///   - dropout: dropout on each layer's outputs except the last, in training mode.
    ///   - dtype: the parameters' dtype (inputs must match).
    ///   - generator: draws the initial weights and the dropout masks.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                batchFirst: Bool = true, dropout: Double = 0, bidirectional: Bool = false,
                dtype: DType = .float32, generator: Generator? = nil) {
        super.init(kind: "LSTM", gateCount: 4, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional,
                   dtype: dtype, generator: generator)
    }

    /// Runs the network over `input` (`[N, T, inputSize]`, or `[T, N, inputSize]` without
    /// `batchFirst`, or `[T, inputSize]` unbatched) from the initial state (`h` and `c`, each
    /// `[numLayers · directions, N, H]`; zeros when nil).
    ///
    /// - Returns: the last layer's hidden state at every step (`[N, T, directions · H]`)
    ///   and the final `h` and `c` of every layer.
    public func callAsFunction(_ input: Tensor, _ state: (h: Tensor, c: Tensor)? = nil)
        -> (output: Tensor, state: (h: Tensor, c: Tensor)) {
        let (output, final) = run(input, state.map { [$0.h, $0.c] }, weights: weights)
        return (output, (final[0], final[1]))
    }

    override var stateCount: Int { 2 }

    override func cell(_ projected: Tensor, _ state: [Tensor], hiddenT: Tensor, hiddenBias: Tensor?) -> [Tensor] {
        let gates = projected + state[0].matmul(hiddenT)
        let parts = gates.chunk(4, axis: 1)
        let c = parts[1].sigmoid() * state[1] + parts[0].sigmoid() * parts[2].tanh()
        return [parts[3].sigmoid() * c.tanh(), c]
    }
}
