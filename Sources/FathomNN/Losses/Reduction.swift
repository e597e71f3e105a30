// How a loss turns per-element losses into its result, and the checks every loss shares.

import FathomTensor

/// How a loss combines its per-element values (PyTorch's `reduction=` argument).
public enum LossReduction: String, Sendable, CaseIterable {
    /// The per-element losses, unreduced.
    case none
    /// Their mean (for `crossEntropy` / `nllLoss` with class weights: the weighted mean,
    /// divided by the sum of the weights of the targets, as PyTorch does).
    case mean
    /// Their sum.
    case sum
    /// The sum divided by the batch size (the first axis); only `klDiv` takes it, and it
    /// is the reduction that gives the true KL divergence per sample.
    case batchMean
}

/// Applies `reduction` to elementwise losses; `.batchMean` only where `op` allows it.
func reduceLoss(_ loss: Tensor, _ reduction: LossReduction) -> Tensor {
    switch reduction {
    case .none: return loss
    case .mean: return loss.mean()
    case .sum: return loss.sum()
    case .batchMean: return loss.sum() / Double(loss.rank == 0 ? 1 : loss.shape[0])
    }
}

/// Throws unless `reduction` is one that `op` accepts (`.batchMean` is klDiv's alone).
func checkReduction(_ reduction: LossReduction, op: String, allowBatchMean: Bool = false) throws(TensorError) {
    if reduction == .batchMean && !allowBatchMean {
        throw TensorError(op: op, "reduction .batchMean is only defined for klDiv; use .mean, .sum or .none")
    }
}

/// Throws unless `x` is float32 or float64.
func requireFloatingPoint(_ x: Tensor, op: String, name: String) throws(TensorError) {
    guard x.dtype.isFloatingPoint else {
        throw TensorError(op: op, "\(name) must be float32 or float64, got \(x.dtype); convert with .to(.float32)")
    }
}

/// Validates an (input, target) pair of an elementwise loss: both floating point and of the
/// same shape. Returns the target in the input's dtype.
func elementwiseTarget(_ input: Tensor, _ target: Tensor, op: String) throws(TensorError) -> Tensor {
    try requireFloatingPoint(input, op: op, name: "input")
    try requireFloatingPoint(target, op: op, name: "target")
    guard input.shape == target.shape else {
        throw TensorError(op: op, "input has shape \(shapeText(input.shape)) but target has shape \(shapeText(target.shape)); they must match (reshape one, e.g. a [N, 1] prediction against [N] targets)")
    }
    return target.dtype == input.dtype ? target : target.to(input.dtype)
}

/// `[2, 3]`, as the messages show shapes.
func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
