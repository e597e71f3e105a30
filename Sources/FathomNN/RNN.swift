import FathomTensor

/// The nonlinearity of a plain `RNN`.
public enum RNNNonlinearity: Sendable {
    case tanh, relu
}

/// An Elman recurrent network, `torch.nn.RNN`: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)
/// with act = tanh or relu, stacked `numLayers` deep.
///
/// Parameters and state-dict keys are PyTorch's (`weight_ih_l0` `[H, inputSize]`, …).
/// Unlike PyTorch, `batchFirst` defaults to true: inputs are `[N, T, inputSize]`.
public final class RNN: RecurrentBase {
    public let nonlinearity: RNNNonlinearity

    /// - Parameters:
    ///   - dropout: dropout on each layer's outputs except the last, in training mode.
    ///   - dtype: the parameters' dtype (inputs must match).
    ///   - generator: draws the initial weights and the dropout masks.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh,
                bias: Bool = true, batchFirst: Bool = true, dropout: Double = 0, bidirectional: Bool = false,
                dtype: DType = .float32, generator: Generator? = nil) {
        self.nonlinearity = nonlinearity
        super.init(kind: "RNN", gateCount: 1, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
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

    override func cell(_ projected: Tensor, _ state: [Tensor], hiddenT: Tensor, hiddenBias: Tensor?) -> [Tensor] {
        let pre = projected + state[0].matmul(hiddenT)
        switch nonlinearity {
        case .tanh: return [pre.tanh()]
        case .relu: return [pre.relu()]
        }
    }
}
