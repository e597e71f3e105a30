import FathomTensor

/// What `BatchNorm1d` and `BatchNorm2d` share, like PyTorch's `_BatchNorm`: learnable
/// per-channel `weight` (ones) and `bias` (zeros), and running statistics updated in
/// training and used in evaluation. State-dict keys are PyTorch's: `weight`, `bias`,
/// `running_mean`, `running_var`, `num_batches_tracked`.
public class BatchNorm: Layer {
    @OptionalParameter public var weight: Tensor?
    @OptionalParameter public var bias: Tensor?
    // Optional buffers: absent (no state-dict key) without trackRunningStats, as in PyTorch.
    private let _runningMean: Buffer?
    private let _runningVar: Buffer?
    private let _numBatchesTracked: Buffer?

    public let numFeatures: Int
    public let eps: Double
    /// The weight of the newest batch in the running statistics; nil for a cumulative
    /// average over all batches so far (PyTorch's `momentum=None`).
    public let momentum: Double?
    public let affine: Bool
    public let trackRunningStats: Bool

    /// The running mean of each channel (`[numFeatures]`), nil without trackRunningStats.
    public var runningMean: Tensor? { _runningMean?.wrappedValue }
    /// The running unbiased variance of each channel, nil without trackRunningStats.
    public var runningVar: Tensor? { _runningVar?.wrappedValue }
    /// Training batches seen (an int64 scalar), nil without trackRunningStats.
    public var numBatchesTracked: Tensor? { _numBatchesTracked?.wrappedValue }

    /// The layer's name in messages.
    var layerName: String { "BatchNorm" }

    /// - Parameters:
    ///   - numFeatures: the channel count C (axis 1 of the input).
    ///   - eps: added to the variance before the square root.
    ///   - momentum: the newest batch's weight in the running statistics (nil: cumulative average).
    ///   - affine: learn a per-channel `weight` and `bias`.
    ///   - trackRunningStats: keep running statistics for evaluation; without them the
    ///     batch's statistics are used in evaluation too.
    ///   - dtype: the dtype of the parameters and buffers (the input's dtype must match).
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, dtype: DType = .float32) {
        precondition(numFeatures > 0, "Fathom.BatchNorm: numFeatures must be positive, got \(numFeatures)")
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.trackRunningStats = trackRunningStats
        _weight = OptionalParameter(wrappedValue: affine ? Tensor.ones([numFeatures], dtype: dtype) : nil)
        _bias = OptionalParameter(wrappedValue: affine ? Tensor.zeros([numFeatures], dtype: dtype) : nil)
        _runningMean = trackRunningStats ? Buffer(wrappedValue: Tensor.zeros([numFeatures], dtype: dtype)) : nil
        _runningVar = trackRunningStats ? Buffer(wrappedValue: Tensor.ones([numFeatures], dtype: dtype)) : nil
        _numBatchesTracked = trackRunningStats ? Buffer(wrappedValue: Tensor.zeros([], dtype: .int64)) : nil
        super.init()
    }

    public override func stateKey(forProperty propertyName: String) -> String {
        switch propertyName {
        case "runningMean": "running_mean"
        case "runningVar": "running_var"
        case "numBatchesTracked": "num_batches_tracked"
        default: propertyName
        }
    }

    /// Resets the running statistics to mean 0, variance 1 and no batches.
    public func resetRunningStats() {
        noGrad {
            runningMean?.fill(0)
            runningVar?.fill(1)
            numBatchesTracked?.fill(0)
        }
    }

    /// Checks the input's rank (the subclasses' layouts) and channel count.
    func checkInput(_ input: Tensor) {
        guard input.rank >= 2, input.shape[1] == numFeatures else {
            fatalError("Fathom.\(layerName): the input of shape \(input.shape) has \(input.rank >= 2 ? "\(input.shape[1])" : "no") channels (axis 1) but the layer is \(layerName)(\(numFeatures)); pass [N, \(numFeatures), ...]")
        }
    }

    public override func forward(_ input: Tensor) -> Tensor {
        checkInput(input)
        var factor = momentum ?? 0
        if isTraining, let count = numBatchesTracked {
            count.withUnsafeMutableBufferPointer(as: Int64.self) { $0[0] += 1 }
            factor = momentum ?? 1 / Double(count.item(as: Int64.self))
        }
        // Batch statistics in training, and always when no running statistics are kept.
        return batchNorm(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                         training: isTraining || runningMean == nil, momentum: factor, eps: eps)
    }
}

/// Batch normalization of `[N, C]` or `[N, C, L]` inputs over the batch (and length)
/// axes, like `torch.nn.BatchNorm1d`.
public final class BatchNorm1d: BatchNorm {
    override var layerName: String { "BatchNorm1d" }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2 || input.rank == 3,
                     "Fathom.BatchNorm1d: expected a 2-d [N, C] or 3-d [N, C, L] input, got shape \(input.shape)")
        return super.forward(input)
    }
}

/// Batch normalization of `[N, C, H, W]` inputs over the batch and spatial axes, like
/// `torch.nn.BatchNorm2d`.
public final class BatchNorm2d: BatchNorm {
    override var layerName: String { "BatchNorm2d" }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "Fathom.BatchNorm2d: expected a 4-d [N, C, H, W] input, got shape \(input.shape)")
        return super.forward(input)
    }
}

/// Layer normalization over the trailing `normalizedShape` axes, like
/// `torch.nn.LayerNorm`, with an elementwise `weight` (ones) and `bias` (zeros) of that shape.
public final class LayerNorm: Layer {
    @OptionalParameter public var weight: Tensor?
    @OptionalParameter public var bias: Tensor?
    public let normalizedShape: [Int]
    public let eps: Double

    /// - Parameters:
    ///   - normalizedShape: the sizes of the trailing axes that are normalized together.
    ///   - elementwiseAffine: learn `weight` (and `bias`, unless `bias: false`).
    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                dtype: DType = .float32) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                     "Fathom.LayerNorm: normalizedShape must be a non-empty list of positive sizes, got \(normalizedShape)")
        self.normalizedShape = normalizedShape
        self.eps = eps
        _weight = OptionalParameter(wrappedValue: elementwiseAffine ? Tensor.ones(normalizedShape, dtype: dtype) : nil)
        _bias = OptionalParameter(wrappedValue: elementwiseAffine && bias ? Tensor.zeros(normalizedShape, dtype: dtype) : nil)
        super.init()
    }

    /// Normalizes over the last axis of size `features`.
    public convenience init(_ features: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                            dtype: DType = .float32) {
        self.init([features], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias, dtype: dtype)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }
}

/// Group normalization of `[N, C, *]` inputs, like `torch.nn.GroupNorm`: the channels are
/// split into `numGroups` groups normalized separately per sample, then scaled and
/// shifted per channel by `weight` (ones) and `bias` (zeros).
public final class GroupNorm: Layer {
    @OptionalParameter public var weight: Tensor?
    @OptionalParameter public var bias: Tensor?
    public let numGroups: Int, numChannels: Int
    public let eps: Double

    /// - Parameters:
    ///   - numGroups: how many groups the channels are split into (it must divide numChannels).
    ///   - numChannels: the channel count C (axis 1 of the input).
    ///   - affine: learn a per-channel `weight` and `bias`.
    public init(_ numGroups: Int, _ numChannels: Int, eps: Double = 1e-5, affine: Bool = true, dtype: DType = .float32) {
        precondition(numGroups > 0 && numChannels % numGroups == 0,
                     "Fathom.GroupNorm: numChannels (\(numChannels)) must be a multiple of numGroups (\(numGroups))")
        self.numGroups = numGroups
        self.numChannels = numChannels
        self.eps = eps
        _weight = OptionalParameter(wrappedValue: affine ? Tensor.ones([numChannels], dtype: dtype) : nil)
        _bias = OptionalParameter(wrappedValue: affine ? Tensor.zeros([numChannels], dtype: dtype) : nil)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] == numChannels,
                     "Fathom.GroupNorm: the input of shape \(input.shape) does not have \(numChannels) channels on axis 1; the layer is GroupNorm(\(numGroups), \(numChannels))")
        return groupNorm(input, groups: numGroups, weight: weight, bias: bias, eps: eps)
    }
}
