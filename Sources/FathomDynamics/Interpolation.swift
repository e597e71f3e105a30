import FathomData
import FathomNN
import FathomTensor

/// The straight line θ(λ) = (1 − λ)·θA + λ·θB between two models of one architecture,
/// over their whole state (parameters and buffers), for linear mode connectivity studies.
///
/// The endpoints are detached copies taken at `init`, so the models may change afterwards.
/// Floating-point entries (weights, biases, BatchNorm running statistics) are interpolated;
/// integer entries (`num_batches_tracked`) are taken from the nearer endpoint.
public struct LinearPath {
    /// θA's state, by dotted name (copies).
    public let start: StateDict
    /// θB's state, by dotted name (copies).
    public let end: StateDict

    /// Copies the states of `a` and `b`, which must have the same keys and shapes.
    public init(from a: Module, to b: Module) {
        let sa = a.stateDict(), sb = b.stateDict()
        precondition(sa.keys == sb.keys,
                     "Fathom.LinearPath: the two models have different state keys (\(sa.keys.count) vs \(sb.keys.count)); interpolate models of the same architecture")
        for (key, tensor) in sa.entries {
            let other = sb[key]!
            precondition(tensor.shape == other.shape && tensor.dtype == other.dtype,
                         "Fathom.LinearPath: '\(key)' has shape \(tensor.shape) (\(tensor.dtype)) in the first model but \(other.shape) (\(other.dtype)) in the second")
        }
        start = StateDict(noGrad { sa.entries.map { ($0.key, $0.tensor.clone()) } })
        end = StateDict(noGrad { sb.entries.map { ($0.key, $0.tensor.clone()) } })
    }

    /// The state at `lambda`: exactly θA at 0 and exactly θB at 1.
    public func state(at lambda: Double) -> StateDict {
        StateDict(noGrad {
            zip(start.entries, end.entries).map { a, b in
                if lambda == 0 || !a.tensor.dtype.isFloatingPoint && lambda < 0.5 { return (a.key, a.tensor) }
                if lambda == 1 || !a.tensor.dtype.isFloatingPoint { return (a.key, b.tensor) }
                return (a.key, a.tensor * (1 - lambda) + b.tensor * lambda)
            }
        })
    }

    /// Writes θ(`lambda`) into `model` (parameters and buffers), in place.
    public func load(_ lambda: Double, into model: Module) {
        do { try model.load(stateDict: state(at: lambda)) } catch {
            fatalError("Fathom.LinearPath.load: the model does not fit the path: \(error)")
        }
    }

    /// The parameters alone at `lambda` (no buffers), as a `ParameterVector`.
    public func parameters(at lambda: Double, of model: Module) -> ParameterVector {
        let state = state(at: lambda)
        return ParameterVector(model.namedParameters().map { state[$0.name]! })
    }
}

/// Mean loss and error rate of a model over a set of batches.
public struct Evaluation: Codable, Equatable, Sendable {
    /// Mean cross-entropy per example.
    public var loss: Double
    /// Fraction of examples misclassified (argmax of the logits ≠ label).
    public var error: Double
    /// Number of examples.
    public var count: Int

    public init(loss: Double, error: Double, count: Int) {
        self.loss = loss
        self.error = error
        self.count = count
    }
}

/// Evaluates `model` in evaluation mode on `batches` without recording gradients:
/// the example-weighted mean cross-entropy and the error rate. Each module's mode is
/// restored afterwards.
public func evaluate(_ model: Layer, on batches: [Batch]) -> Evaluation {
    withModes(of: model, training: false) {
        noGrad {
            var loss = 0.0, wrong = 0, count = 0
            for batch in batches {
                let logits = model(batch.inputs)
                loss += crossEntropy(logits, batch.labels, reduction: .sum).item()
                wrong += Int(logits.argmax(axis: -1).eq(batch.labels).to(.int64).sum().item())
                count += batch.count
            }
            wrong = count - wrong
            precondition(count > 0, "Fathom.evaluate: no examples to evaluate on; pass at least one non-empty batch")
            return Evaluation(loss: loss / Double(count), error: Double(wrong) / Double(count), count: count)
        }
    }
}

/// Runs `body` with every module of `model` in training (`true`) or evaluation mode,
/// then restores each module's own mode.
func withModes<R>(of model: Module, training: Bool, _ body: () -> R) -> R {
    let saved = model.namedModules().map { ($0.module, $0.module.isTraining) }
    model.train(training)
    defer { for (module, mode) in saved { module.train(mode) } }
    return body()
}

/// How BatchNorm running statistics are set at each point of an interpolation.
public enum BatchNormHandling {
    /// Use the running statistics interpolated like any other state entry (the default).
    case interpolate
    /// Re-estimate them on these (training) batches at each λ, as Jordan et al. (REPAIR)
    /// and Ainsworth et al. (Git Re-Basin) do: see `reestimateBatchNormStatistics`.
    case reestimate([Batch])
}

/// Replaces every BatchNorm layer's running statistics by the cumulative average over
/// `batches` of the batch statistics (PyTorch's reset + `momentum=None` + a forward pass
/// per batch in training mode): running_mean = mean of the batch means, running_var =
/// mean of the unbiased batch variances, num_batches_tracked = the batch count.
///
/// Only the BatchNorm layers run in training mode (so each normalizes with its batch
/// statistics, as in PyTorch's recipe) while the rest, e.g. dropout, stays in evaluation
/// mode. Parameters are not touched and every module's mode is restored.
public func reestimateBatchNormStatistics(_ model: Layer, on batches: [Batch]) {
    let norms = model.namedModules().compactMap { $0.module as? BatchNorm }.filter { $0.runningMean != nil }
    guard !norms.isEmpty, !batches.isEmpty else { return }
    let saved = model.namedModules().map { ($0.module, $0.module.isTraining) }
    defer { for (module, mode) in saved { module.train(mode) } }
    model.eval()
    var sums: [ObjectIdentifier: (mean: Tensor, variance: Tensor)] = [:]
    var handles: [(BatchNorm, Int)] = []
    for norm in norms {
        norm.train(true)
        let id = ObjectIdentifier(norm)
        handles.append((norm, norm.addForwardHook { _, input, _ in
            let x = input.to(.float64)
            let axes = [0] + Array(2..<Swift.max(2, x.rank))
            let mean = x.mean(axes: axes), variance = x.variance(axes: axes, correction: 1)
            if let old = sums[id] { sums[id] = (old.mean + mean, old.variance + variance) } else { sums[id] = (mean, variance) }
        }))
    }
    noGrad { for batch in batches { _ = model(batch.inputs) } }
    for (norm, handle) in handles { norm.removeForwardHook(handle) }
    noGrad {
        for norm in norms {
            guard let (mean, variance) = sums[ObjectIdentifier(norm)] else { continue }
            norm.runningMean!.assign(mean / Double(batches.count))
            norm.runningVar!.assign(variance / Double(batches.count))
            norm.numBatchesTracked!.fill(Double(batches.count))
        }
    }
}

/// Loss and error along a linear path, one entry per λ.
public struct InterpolationCurve: Codable, Equatable, Sendable {
    public var lambdas: [Double]
    public var losses: [Double]
    public var errors: [Double]

    enum CodingKeys: String, CodingKey {
        case lambdas = "lambda", losses = "loss", errors = "error"
    }

    public init(lambdas: [Double], losses: [Double], errors: [Double]) {
        self.lambdas = lambdas
        self.losses = losses
        self.errors = errors
    }
}

/// `count` evenly spaced λ from 0 to 1 inclusive (`count` ≥ 2).
public func lambdaGrid(_ count: Int) -> [Double] {
    precondition(count >= 2, "Fathom.lambdaGrid: need at least 2 points (0 and 1), got \(count)")
    return (0..<count).map { Double($0) / Double(count - 1) }
}

/// Evaluates loss and error of θ(λ) on `data` for each λ in `lambdas`, loading each point
/// into `model` (whose state is restored afterwards).
///
/// - Parameters:
///   - model: a model of the path's architecture, used as the workspace.
///   - batchNorm: `.interpolate` keeps the interpolated running statistics;
///     `.reestimate(trainBatches)` recomputes them at every λ before evaluating.
public func interpolationCurve(_ model: Layer, along path: LinearPath, lambdas: [Double], on data: [Batch],
                               batchNorm: BatchNormHandling = .interpolate) -> InterpolationCurve {
    let original = StateDict(noGrad { model.stateDict().entries.map { ($0.key, $0.tensor.clone()) } })
    defer { try? model.load(stateDict: original) }
    var losses: [Double] = [], errors: [Double] = []
    for lambda in lambdas {
        path.load(lambda, into: model)
        if case .reestimate(let batches) = batchNorm { reestimateBatchNormStatistics(model, on: batches) }
        let result = evaluate(model, on: data)
        losses.append(result.loss)
        errors.append(result.error)
    }
    return InterpolationCurve(lambdas: lambdas, losses: losses, errors: errors)
}
