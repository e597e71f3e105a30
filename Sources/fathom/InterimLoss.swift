import Fathom

// Stand-in until FathomNN's fused crossEntropy is merged: mean or summed negative
// log-likelihood of the labels under logSoftmax.
enum InterimReduction { case mean, sum }

func crossEntropy(_ logits: Tensor, _ labels: Tensor, reduction: InterimReduction = .mean) -> Tensor {
    let picked = logits.logSoftmax(axis: 1).gather(axis: 1, index: labels.unsqueezed(axis: 1))
    return reduction == .mean ? -picked.mean() : -picked.sum()
}
