// Regression losses (torch.nn.functional.mse_loss, l1_loss, smooth_l1_loss, huber_loss),
// written in differentiable tensor ops: gradients flow to the input and to the target,
// and second derivatives work.

import FathomTensor

/// Mean squared error `(input − target)²`, reduced (`torch.nn.functional.mse_loss`).
/// `input` and `target` must have the same shape.
public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: LossReduction = .mean) -> Tensor {
    let y = orStop { () throws(TensorError) in try validatedTarget(input, target, reduction, op: "mseLoss") }
    return reduceLoss((input - y).square(), reduction)
}

/// Mean absolute error `|input − target|`, reduced (`torch.nn.functional.l1_loss`).
public func l1Loss(_ input: Tensor, _ target: Tensor, reduction: LossReduction = .mean) -> Tensor {
    let y = orStop { () throws(TensorError) in try validatedTarget(input, target, reduction, op: "l1Loss") }
    return reduceLoss((input - y).abs(), reduction)
}

/// Smooth L1 (`torch.nn.functional.smooth_l1_loss`): with d = input − target,
/// `0.5·d²/β` where |d| < β, `|d| − 0.5·β` elsewhere; β = 0 is the L1 loss.
public func smoothL1Loss(_ input: Tensor, _ target: Tensor, beta: Double = 1, reduction: LossReduction = .mean) -> Tensor {
    let y = orStop { () throws(TensorError) in
        guard beta >= 0 else { throw TensorError(op: "smoothL1Loss", "beta is \(beta); it must be non-negative") }
        return try validatedTarget(input, target, reduction, op: "smoothL1Loss")
    }
    let d = input - y, ad = d.abs()
    if beta == 0 { return reduceLoss(ad, reduction) }
    return reduceLoss(Tensor.where(ad .< beta, d.square() * (0.5 / beta), ad - 0.5 * beta), reduction)
}

/// Huber loss (`torch.nn.functional.huber_loss`): with d = input − target, `0.5·d²`
/// where |d| < δ, `δ·(|d| − 0.5·δ)` elsewhere. Equals δ · smoothL1Loss(beta: δ).
public func huberLoss(_ input: Tensor, _ target: Tensor, delta: Double = 1, reduction: LossReduction = .mean) -> Tensor {
    let y = orStop { () throws(TensorError) in
        guard delta > 0 else { throw TensorError(op: "huberLoss", "delta is \(delta); it must be positive") }
        return try validatedTarget(input, target, reduction, op: "huberLoss")
    }
    let d = input - y, ad = d.abs()
    return reduceLoss(Tensor.where(ad .< delta, d.square() * 0.5, (ad - 0.5 * delta) * delta), reduction)
}

/// Module form of `mseLoss`, like `torch.nn.MSELoss`.
public struct MSELoss {
    public var reduction: LossReduction
    public init(reduction: LossReduction = .mean) { self.reduction = reduction }
    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor { mseLoss(input, target, reduction: reduction) }
}

/// Module form of `l1Loss`, like `torch.nn.L1Loss`.
public struct L1Loss {
    public var reduction: LossReduction
    public init(reduction: LossReduction = .mean) { self.reduction = reduction }
    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor { l1Loss(input, target, reduction: reduction) }
}

/// Validates an elementwise regression loss's arguments; the target in the input's dtype.
func validatedTarget(_ input: Tensor, _ target: Tensor, _ reduction: LossReduction, op: String) throws(TensorError) -> Tensor {
    try checkReduction(reduction, op: op)
    return try elementwiseTarget(input, target, op: op)
}
