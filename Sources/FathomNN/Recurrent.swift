import FathomTensor

// What `RNN`, `LSTM` and `GRU` share (PyTorch's `RNNBase`): parameters named and laid out
// as PyTorch's, so state dicts match one to one, and the loop over layers, directions and
// time steps. Each subclass supplies only its cell (one time step).
//
// Everything is built from differentiable tensor ops, so gradients, grad-of-grad and
// Hessian-vector products flow through the recurrence with no extra code.

/// The weights of one recurrent layer in one direction, in PyTorch's layout.
struct RecurrentWeights {
    /// `weight_ih_l{k}`: `[gates·H, inputs]`.
    var inputHidden: Tensor
    /// `weight_hh_l{k}`: `[gates·H, H]`.
    var hiddenHidden: Tensor
    /// `bias_ih_l{k}`: `[gates·H]`, absent with `bias: false`.
    var inputBias: Tensor?
    /// `bias_hh_l{k}`: `[gates·H]`, absent with `bias: false`.
    var hiddenBias: Tensor?

    var all: [Tensor] { [inputHidden, hiddenHidden] + [inputBias, hiddenBias].compactMap { $0 } }
}

/// The base of `RNN`, `LSTM` and `GRU` (PyTorch's `RNNBase`); use one of those.
///
/// Parameters are `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` for
/// each layer `k` (with a `_reverse` suffix for the backward direction when
/// bidirectional), drawn from U(−1/√H, 1/√H) as PyTorch does.
public class RecurrentBase: Module {
    public let inputSize: Int, hiddenSize: Int, numLayers: Int
    /// Whether the layers have `bias_ih` and `bias_hh`.
    public let bias: Bool
    /// Inputs and outputs are `[N, T, features]` when true, `[T, N, features]` otherwise.
    public let batchFirst: Bool
    /// Dropout probability on the outputs of every layer but the last, in training mode.
    public let dropout: Double
    /// Whether each layer also runs over the sequence backwards (outputs concatenated).
    public let bidirectional: Bool
    /// The generator for initialization and dropout (the default generator when nil).
    public let generator: Generator?

    let kind: String
    let gateCount: Int
    /// Weights per layer and direction, at `layer * numDirections + direction`.
    var weights: [RecurrentWeights]

    /// 1, or 2 when bidirectional.
    public var numDirections: Int { bidirectional ? 2 : 1 }

    init(kind: String, gateCount: Int, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool,
         batchFirst: Bool, dropout: Double, bidirectional: Bool, dtype: DType, generator: Generator?) {
        precondition(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                     "Fathom.\(kind): inputSize (\(inputSize)), hiddenSize (\(hiddenSize)) and numLayers (\(numLayers)) must be positive")
        precondition(dropout >= 0 && dropout <= 1, "Fathom.\(kind): dropout must be in [0, 1], got \(dropout)")
        precondition(dtype.isFloatingPoint, "Fathom.\(kind): parameters must be float32 or float64, got \(dtype)")
        self.kind = kind
        self.gateCount = gateCount
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.bias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.generator = generator
        // PyTorch's reset_parameters: every parameter from U(−1/√H, 1/√H), in state-dict order.
        let bound = 1 / Double(hiddenSize).squareRoot()
        func draw(_ shape: [Int]) -> Tensor {
            Tensor.uniform(shape, low: -bound, high: bound, dtype: dtype, generator: generator).requiringGrad()
        }
        let rows = gateCount * hiddenSize, directions = bidirectional ? 2 : 1
        var weights: [RecurrentWeights] = []
        for layer in 0..<numLayers {
            let inputs = layer == 0 ? inputSize : hiddenSize * directions
            for _ in 0..<directions {
                weights.append(RecurrentWeights(inputHidden: draw([rows, inputs]), hiddenHidden: draw([rows, hiddenSize]),
                                                inputBias: bias ? draw([rows]) : nil, hiddenBias: bias ? draw([rows]) : nil))
            }
        }
        self.weights = weights
        super.init()
    }

    /// PyTorch's names: `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`,
    /// (`weight_ih_l0_reverse`, …), `weight_ih_l1`, ….
    public override func ownParameters() -> [(name: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = []
        for (index, w) in weights.enumerated() {
            let suffix = "l\(index / numDirections)" + (index % numDirections == 1 ? "_reverse" : "")
            result.append(("weight_ih_\(suffix)", w.inputHidden))
            result.append(("weight_hh_\(suffix)", w.hiddenHidden))
            if let b = w.inputBias { result.append(("bias_ih_\(suffix)", b)) }
            if let b = w.hiddenBias { result.append(("bias_hh_\(suffix)", b)) }
        }
        return result
    }

    // MARK: subclass hooks

    /// How many state tensors the cell carries: 1 (h), or 2 for the LSTM (h, c).
    var stateCount: Int { 1 }

    /// Whether `bias_hh` may be added to the input projection (true unless the cell uses
    /// `W_hh·h + b_hh` on its own, as the GRU's candidate gate does).
    var foldsHiddenBias: Bool { true }

    /// One time step: `projected` is `x·W_ihᵀ + b_ih` (plus `b_hh` when
    /// `foldsHiddenBias`), `state` is `[h]` or `[h, c]`, each `[N, H]`, `hiddenT` is
    /// `W_hhᵀ` and `hiddenBias` is `b_hh` when it was not folded into `projected`.
    func cell(_ projected: Tensor, _ state: [Tensor], hiddenT: Tensor, hiddenBias: Tensor?) -> [Tensor] {
        fatalError("Fathom.\(kind): the cell must be overridden")
    }

    // MARK: the loop

    /// Benchmark switch: one input product over all steps instead of one per step.
    nonisolated(unsafe) static var projectAllSteps = false

    /// Checks the input and initial state shapes.
    func validate(_ input: Tensor, _ state: [Tensor]?) throws(TensorError) {
        guard input.rank == 2 || input.rank == 3 else {
            throw TensorError(op: kind, "input of shape \(input.shape) must be \(batchFirst ? "[N, T, \(inputSize)]" : "[T, N, \(inputSize)]") (or [T, \(inputSize)] unbatched)")
        }
        guard input.shape.last == inputSize else {
            throw TensorError(op: kind, "input of shape \(input.shape) has \(input.shape.last!) features but the layer was built with inputSize \(inputSize)")
        }
        guard input.dtype == weights[0].inputHidden.dtype else {
            throw TensorError(op: kind, "input is \(input.dtype) but the parameters are \(weights[0].inputHidden.dtype); convert the input with .to(.\(weights[0].inputHidden.dtype))")
        }
        let batch = input.rank == 3 ? [input.shape[batchFirst ? 0 : 1]] : []
        let expected = [numLayers * numDirections] + batch + [hiddenSize]
        for s in state ?? [] where s.shape != expected {
            throw TensorError(op: kind, "initial state of shape \(s.shape) must be \(expected) ([numLayers · directions, N, hiddenSize]) for input of shape \(input.shape)")
        }
    }

    /// Runs every layer over the sequence. `initial` holds `stateCount` tensors of shape
    /// `[numLayers · directions, N, H]` (or without N for unbatched input); nil means zeros.
    /// Returns the last layer's outputs and the final states, shaped like `initial`.
    func run(_ input: Tensor, _ initial: [Tensor]?, weights: [RecurrentWeights]) -> (output: Tensor, state: [Tensor]) {
        do { try validate(input, initial) } catch { fatalError(error.description) }
        let batched = input.rank == 3
        let timeAxis = batchFirst ? 1 : 0
        let x = batched ? input : input.unsqueezed(axis: 1 - timeAxis)
        let steps = x.shape[timeAxis], batch = x.shape[1 - timeAxis]
        let h = hiddenSize, directions = numDirections
        let initial = initial.map { batched ? $0 : $0.map { $0.unsqueezed(axis: 1) } }
        let zeros = Tensor.zeros([batch, h], dtype: x.dtype)

        // Each layer reads the previous layer's per-step outputs, so no big tensor is
        // sliced per step (a slice's backward would allocate the whole tensor each time).
        var layerInput: [Tensor] = (0..<steps).map { t in timeAxis == 1 ? x[.all, t] : x[t] }
        var finals: [[Tensor]] = Array(repeating: [], count: stateCount)
        for layer in 0..<numLayers {
            var outputs = [[Tensor]](repeating: [], count: directions)
            for direction in 0..<directions {
                let index = layer * directions + direction
                let w = weights[index]
                var state = (0..<stateCount).map { k in initial.map { $0[k][index] } ?? zeros }
                let projections = project(layerInput, w)
                // One transposed view per sequence, so the per-step gradients of W_hhᵀ add
                // up contiguously and are transposed back once.
                let hiddenT = w.hiddenHidden.transposed()
                let hiddenBias = foldsHiddenBias ? nil : w.hiddenBias
                var stepOutputs = [Tensor?](repeating: nil, count: steps)
                for t in (direction == 0 ? Array(0..<steps) : Array((0..<steps).reversed())) {
                    state = cell(projections[t], state, hiddenT: hiddenT, hiddenBias: hiddenBias)
                    stepOutputs[t] = state[0]
                }
                outputs[direction] = stepOutputs.map { $0! }
                for k in 0..<stateCount { finals[k].append(state[k]) }
            }
            layerInput = (0..<steps).map { t in directions == 1 ? outputs[0][t] : Tensor.cat([outputs[0][t], outputs[1][t]], axis: 1) }
            if layer < numLayers - 1 && dropout > 0 && isTraining {
                layerInput = layerInput.map { FathomNN.dropout($0, p: dropout, training: true, generator: generator) }
            }
        }
        var output = steps == 0
            ? Tensor.zeros(batchFirst ? [batch, 0, h * directions] : [0, batch, h * directions], dtype: x.dtype)
            : Tensor.stack(layerInput, axis: timeAxis)
        var state = finals.map { Tensor.stack($0, axis: 0) }
        if !batched {
            output = output.squeezed(axis: 1 - timeAxis)
            state = state.map { $0.squeezed(axis: 1) }
        }
        return (output, state)
    }

    /// `x_t·W_ihᵀ + b` for every step: one matrix product per step (see `run` for why not
    /// one product over all steps).
    private func project(_ inputs: [Tensor], _ w: RecurrentWeights) -> [Tensor] {
        let weight = w.inputHidden.transposed()
        var b = w.inputBias
        if foldsHiddenBias, let hb = w.hiddenBias { b = b.map { $0 + hb } ?? hb }
        if RecurrentBase.projectAllSteps && !inputs.isEmpty {
            let n = inputs[0].shape[0]
            let x = Tensor.stack(inputs, axis: 0)
            var y = x.reshaped([inputs.count * n, x.shape[2]]).matmul(weight)
            if let b { y = y + b }
            return y.reshaped([inputs.count, n, weight.shape[1]]).unbind(axis: 0)
        }
        return inputs.map { x in
            let y = x.matmul(weight)
            return b.map { y + $0 } ?? y
        }
    }
}
