// Knowledge distillation (Hinton, Vinyals & Dean 2015) and feature distillation (FitNets-style
// MSE between features), composed of differentiable tensor ops.

import FathomTensor

/// Hinton et al.'s distillation loss ("Distilling the Knowledge in a Neural Network", 2015):
///
///     ℓ = T² · KL( softmax(t/T) ‖ softmax(s/T) ) = T² · Σ_c p_c (log p_c − log q_c)
///
/// with `p = softmax(teacherLogits/T)`, `q = softmax(studentLogits/T)` over the last axis.
/// The T² factor keeps the gradient scale independent of T (as the paper prescribes when
/// mixing with the hard-label loss). One value per row (every index but the last);
/// `.mean` averages the rows — for `[N, C]` logits that is PyTorch's
/// `kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean") · T²`.
///
/// Both arguments are differentiated; pass `teacherLogits.detach()` (or compute them under
/// `noGrad`) for a frozen teacher.
public func distillationLoss(student studentLogits: Tensor, teacher teacherLogits: Tensor, temperature: Double,
                             reduction: LossReduction = .mean) -> Tensor {
    let op = "distillationLoss"
    let teacher = orStop { () throws(TensorError) in
        try checkReduction(reduction, op: op)
        guard temperature > 0 else { throw TensorError(op: op, "temperature is \(temperature); it must be positive") }
        guard studentLogits.rank >= 1 else {
            throw TensorError(op: op, "the logits are 0-d; they need a class axis (the last)")
        }
        return try elementwiseTarget(studentLogits, teacherLogits, op: op)
    }
    let logQ = (studentLogits / temperature).logSoftmax(axis: -1)
    let logP = (teacher / temperature).logSoftmax(axis: -1)
    let perRow = (logP.exp() * (logP - logQ)).sum(axis: -1) * (temperature * temperature)
    return reduceLoss(perRow, reduction)
}

/// Feature distillation: the mean squared error between (optionally projected) student
/// features and teacher features, `mseLoss(projection(student), teacher)` (FitNets, Romero
/// et al. 2015, with the regressor left to the caller: pass a `Linear` or 1×1 convolution
/// as `projection` when the widths differ, and give its parameters to the optimizer).
/// `.mean` averages over every element, as `mseLoss`.
public func featureDistillationLoss(student: Tensor, teacher: Tensor, projection: ((Tensor) -> Tensor)? = nil,
                                    reduction: LossReduction = .mean) -> Tensor {
    mseLoss(projection?(student) ?? student, teacher, reduction: reduction)
}
