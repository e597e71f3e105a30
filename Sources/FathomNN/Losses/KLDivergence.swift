// The Kullback–Leibler divergence loss with PyTorch's conventions (torch.nn.functional.kl_div).

import FathomTensor

/// KL divergence loss `target·(log target − input)` (`torch.nn.functional.kl_div`).
///
/// As in PyTorch, `input` holds **log**-probabilities (e.g. `logSoftmax`) and `target`
/// probabilities — or log-probabilities when `logTarget` is true, giving
/// `exp(target)·(target − input)`. Elements with target 0 contribute 0.
/// Use `reduction: .batchMean` for the true KL divergence per sample (sum / batch size);
/// `.mean` divides by the number of elements, as PyTorch's `mean` does.
/// Differentiable in both arguments.
public func klDiv(_ input: Tensor, _ target: Tensor, reduction: LossReduction = .mean, logTarget: Bool = false) -> Tensor {
    let t = orStop { () throws(TensorError) in
        try checkReduction(reduction, op: "klDiv", allowBatchMean: true)
        return try elementwiseTarget(input, target, op: "klDiv")
    }
    let loss: Tensor
    if logTarget {
        loss = t.exp() * (t - input)
    } else {
        // xlogy(t, t) with 0 at t = 0; the log reads 1 there so no NaN reaches the gradient.
        let positive = t .> 0
        let safe = Tensor.where(positive, t, 1.0)
        loss = Tensor.where(positive, t * safe.log(), 0.0) - t * input
    }
    return reduceLoss(loss, reduction)
}
