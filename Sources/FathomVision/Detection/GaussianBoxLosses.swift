// Gaussian losses for rotated boxes (MMRotate mmrotate/models/losses/gaussian_dist_loss.py and
// kf_iou_loss.py). A box (cx, cy, w, h, θ) becomes N(μ, Σ) with μ = (cx, cy) and
// Σ = R diag(w²/4, h²/4) Rᵀ, R the rotation by θ; w and h are clamped to [1e-7, 1e7] as
// MMRotate's xy_wh_r_2_xy_sigma does. Σ is carried as its three entries (a, b; b, c) so every
// loss is plain elementwise tensor arithmetic: differentiable to any order, and unchanged by
// θ → θ + π and by (w, h, θ) → (h, w, θ + π/2), the box's own symmetries.

import FathomNN
import FathomTensor

/// The non-linear map f applied to a Gaussian distance before τ-normalisation.
public enum GaussianDistanceTransform: String, Sendable, CaseIterable {
    /// f(d) = d.
    case none
    /// f(d) = √d.
    case sqrt
    /// f(d) = log(1 + d).
    case log1p
}

/// A batch of 2-D Gaussians in components: means (x, y) and covariances [[a, b], [b, c]], each `[N]`.
struct GaussianComponents {
    let x, y, a, b, c: Tensor
    var determinant: Tensor { a * c - b.square() }
}

func gaussianComponents(_ boxes: Tensor) -> GaussianComponents {
    let col = boxes.unbind(axis: 1)
    let w2 = col[2].clamp(min: 1e-7, max: 1e7).square() * 0.25, h2 = col[3].clamp(min: 1e-7, max: 1e7).square() * 0.25
    let cosT = col[4].cos(), sinT = col[4].sin()
    let cos2 = cosT.square(), sin2 = sinT.square()
    return GaussianComponents(x: col[0], y: col[1], a: cos2 * w2 + sin2 * h2, b: cosT * sinT * (w2 - h2), c: sin2 * w2 + cos2 * h2)
}

/// The Gaussian of each `[N, 5]` rotated box: means `[N, 2]` and covariances `[N, 2, 2]`,
/// Σ = R diag(w²/4, h²/4) Rᵀ. Differentiable.
public func rotatedBoxToGaussian(_ boxes: Tensor) -> (mean: Tensor, covariance: Tensor) {
    requireBoxes(boxes, width: 5, op: "rotatedBoxToGaussian")
    let g = gaussianComponents(boxes)
    let row0 = Tensor.stack([g.a, g.b], axis: 1), row1 = Tensor.stack([g.b, g.c], axis: 1)
    return (Tensor.stack([g.x, g.y], axis: 1), Tensor.stack([row0, row1], axis: 1))
}

/// MMRotate's `postprocess`: f(d), then 1 − 1/(τ + f(d)) when τ ≥ 1, else f(d) itself.
func gaussianPostprocess(_ distance: Tensor, _ transform: GaussianDistanceTransform, tau: Double) -> Tensor {
    let f: Tensor
    switch transform {
    case .none: f = distance
    case .sqrt: f = distance.sqrt()
    case .log1p: f = distance.log1p()
    }
    return tau >= 1 ? 1 - 1 / (f + tau) : f
}

/// Validates a box loss's pred/target pair ([N, 5] or [N, 4] rows) and reduction; the target
/// in pred's dtype.
func boxLossTarget(_ pred: Tensor, _ target: Tensor, width: Int, reduction: LossReduction, op: String) -> Tensor {
    requireAlignedBoxes(pred, target, width: width, op: op)
    if reduction == .batchMean {
        fatalError(TensorError(op: op, "reduction .batchMean is only defined for klDiv; use .mean, .sum or .none").description)
    }
    return target.dtype == pred.dtype ? target : target.to(pred.dtype)
}

func reduceBoxLoss(_ loss: Tensor, _ reduction: LossReduction) -> Tensor {
    switch reduction {
    case .none: return loss
    case .sum: return loss.sum()
    case .mean, .batchMean: return loss.mean()
    }
}

/// Options of `gwdLoss`. Defaults are MMRotate's `GDLoss(loss_type='gwd')` as its GWD configs
/// use it: f = log1p, τ = 0 (the GDLoss class default, so the loss is f(d) itself), α = 1,
/// normalize = true.
public struct GWDLossOptions: Sendable {
    public var transform: GaussianDistanceTransform = .log1p
    /// τ ≥ 1 maps the distance to 1 − 1/(τ + f(d)); τ < 1 leaves f(d).
    public var tau: Double = 0
    /// Weight of the shape term: d² = |Δμ|² + α²·(shape term).
    public var alpha: Double = 1
    /// Divide d by 2·(det Σp · det Σt)^(1/8), making the distance scale-free.
    public var normalize: Bool = true
    public init(transform: GaussianDistanceTransform = .log1p, tau: Double = 0, alpha: Double = 1, normalize: Bool = true) {
        self.transform = transform; self.tau = tau; self.alpha = alpha; self.normalize = normalize
    }
}

/// Gaussian Wasserstein distance loss (Yang et al., ICML 2021) between `[N, 5]` rotated boxes:
/// d² = |μp − μt|² + α²·(tr Σp + tr Σt − 2·√(tr(ΣpΣt) + 2√(det Σp det Σt))), with the 2×2
/// identity Tr((Σp^½ Σt Σp^½)^½) = √(tr(ΣpΣt) + 2√det(ΣpΣt)); then `options` (see
/// `GWDLossOptions`). Differentiable in both arguments.
public func gwdLoss(_ pred: Tensor, _ target: Tensor, options: GWDLossOptions = GWDLossOptions(),
                    reduction: LossReduction = .mean) -> Tensor {
    let t = boxLossTarget(pred, target, width: 5, reduction: reduction, op: "gwdLoss")
    let p = gaussianComponents(pred), g = gaussianComponents(t)
    let xyDistance = (p.x - g.x).square() + (p.y - g.y).square()
    let traceProduct = p.a * g.a + 2 * p.b * g.b + p.c * g.c
    let detSqrt = (p.determinant * g.determinant).clamp(min: 0).sqrt()
    let shape = p.a + p.c + g.a + g.c - 2 * (traceProduct + 2 * detSqrt).clamp(min: 0).sqrt()
    var distance = (xyDistance + options.alpha * options.alpha * shape).clamp(min: 0).sqrt()
    if options.normalize {
        distance = distance / (detSqrt.sqrt().sqrt().clamp(min: 1e-7) * 2)
    }
    return reduceBoxLoss(gaussianPostprocess(distance, options.transform, tau: options.tau), reduction)
}

/// Which Kullback–Leibler divergence `kldLoss` measures between the predicted Gaussian N_p and
/// the target N_t.
public enum KLDDirection: String, Sendable, CaseIterable {
    /// KL(N_t ‖ N_p): Σp is inverted. MMRotate `GDLoss(loss_type='kld')` (gaussian_dist_loss.py).
    case targetToPrediction
    /// KL(N_p ‖ N_t): Σt is inverted, as the KLD paper (Yang et al., NeurIPS 2021) writes it and
    /// MMRotate's `GDLoss_v1` computes (v1 omits the ½, i.e. uses 2·KL).
    case predictionToTarget
    /// Jeffreys divergence ½(KL(N_t‖N_p) + KL(N_p‖N_t)) (MMRotate `jd`).
    case symmetric
    /// max of the two directions (MMRotate `kld_symmax`).
    case symmetricMax
    /// min of the two directions (MMRotate `kld_symmin`).
    case symmetricMin
}

/// Options of `kldLoss`. Defaults are MMRotate's `GDLoss(loss_type='kld', fun='log1p', tau=1)`
/// as its KLD configs set it (the functional `kld_loss` defaults): KL(N_t ‖ N_p), √ of the
/// divergence, f = log1p, τ = 1, α = 1. The "kld-stable" configs set `sqrt = false`.
public struct KLDLossOptions: Sendable {
    public var direction: KLDDirection = .targetToPrediction
    public var transform: GaussianDistanceTransform = .log1p
    public var tau: Double = 1
    /// The centre term is divided by α².
    public var alpha: Double = 1
    /// Take √(max(KL, 0)) before f.
    public var sqrt: Bool = true
    public init(direction: KLDDirection = .targetToPrediction, transform: GaussianDistanceTransform = .log1p,
                tau: Double = 1, alpha: Double = 1, sqrt: Bool = true) {
        self.direction = direction; self.transform = transform; self.tau = tau; self.alpha = alpha; self.sqrt = sqrt
    }
}

/// KL(N_from ‖ N_to) = ½·Δμᵀ Σ_to⁻¹ Δμ / α² + ½·tr(Σ_to⁻¹ Σ_from) + ½·ln(det Σ_to / det Σ_from) − 1.
func gaussianKL(from f: GaussianComponents, to q: GaussianComponents, alpha: Double) -> Tensor {
    let det = q.determinant
    let dx = f.x - q.x, dy = f.y - q.y
    let mahalanobis = (q.c * dx.square() - 2 * q.b * dx * dy + q.a * dy.square()) / det
    let trace = (q.c * f.a - 2 * q.b * f.b + q.a * f.c) / det
    return mahalanobis * (0.5 / (alpha * alpha)) + trace * 0.5 + (det.log() - f.determinant.log()) * 0.5 - 1
}

/// Kullback–Leibler divergence loss (Yang et al., NeurIPS 2021) between `[N, 5]` rotated boxes
/// as Gaussians, in the direction and with the transform of `options` (see `KLDLossOptions`).
/// Invariant to scaling both boxes (centres and sizes) by the same factor. Differentiable.
public func kldLoss(_ pred: Tensor, _ target: Tensor, options: KLDLossOptions = KLDLossOptions(),
                    reduction: LossReduction = .mean) -> Tensor {
    let t = boxLossTarget(pred, target, width: 5, reduction: reduction, op: "kldLoss")
    let p = gaussianComponents(pred), g = gaussianComponents(t)
    func root(_ d: Tensor) -> Tensor { options.sqrt ? d.clamp(min: 0).sqrt() : d }
    let distance: Tensor
    switch options.direction {
    case .targetToPrediction: distance = root(gaussianKL(from: g, to: p, alpha: options.alpha))
    case .predictionToTarget: distance = root(gaussianKL(from: p, to: g, alpha: options.alpha))
    case .symmetric:
        distance = root((gaussianKL(from: g, to: p, alpha: options.alpha) + gaussianKL(from: p, to: g, alpha: options.alpha)) * 0.5)
    case .symmetricMax:
        distance = maximum(root(gaussianKL(from: g, to: p, alpha: options.alpha)), root(gaussianKL(from: p, to: g, alpha: options.alpha)))
    case .symmetricMin:
        distance = minimum(root(gaussianKL(from: g, to: p, alpha: options.alpha)), root(gaussianKL(from: p, to: g, alpha: options.alpha)))
    }
    return reduceBoxLoss(gaussianPostprocess(distance, options.transform, tau: options.tau), reduction)
}

/// The map from KFIoU to loss (MMRotate `KFLoss(fun=...)`, default `.none`).
public enum KFIoUTransform: String, Sendable, CaseIterable {
    /// 1 − KFIoU.
    case none
    /// −ln(KFIoU + eps).
    case ln
    /// exp(1 − KFIoU) − 1.
    case exp
}

/// The Kalman-filter IoU (Yang et al., ICLR 2023) of aligned `[N, 5]` rotated boxes, `[N]`:
/// V(Σ) = 4√det Σ, Σ_overlap = Σp − Σp(Σp + Σt)⁻¹Σp (so det Σ_overlap = det Σp det Σt / det(Σp + Σt)),
/// KFIoU = V_overlap / (V_p + V_t − V_overlap + eps). It is 1/3 for identical boxes. Differentiable.
public func kalmanFilterIoU(_ pred: Tensor, _ target: Tensor, eps: Double = 1e-6) -> Tensor {
    requireAlignedBoxes(pred, target, width: 5, op: "kalmanFilterIoU")
    let p = gaussianComponents(pred), g = gaussianComponents(target.dtype == pred.dtype ? target : target.to(pred.dtype))
    let detP = p.determinant, detT = g.determinant
    let detSum = (p.a + g.a) * (p.c + g.c) - (p.b + g.b).square()
    let vp = 4 * detP.sqrt(), vt = 4 * detT.sqrt(), vOverlap = 4 * (detP * detT / detSum).clamp(min: 0).sqrt()
    return vOverlap / (vp + vt - vOverlap + eps)
}

/// KFIoU loss (MMRotate `kfiou_loss`): Smooth-L1 (β = 1/9) on the centres, summed over x and y,
/// plus the transformed KFIoU of the boxes, clamped at 0. The centre term compares
/// `predDeltas`/`targetDeltas` (the encoded regression targets, as MMRotate passes them) when
/// given, else the boxes' own centres. Differentiable.
public func kfiouLoss(_ pred: Tensor, _ target: Tensor, predDeltas: Tensor? = nil, targetDeltas: Tensor? = nil,
                      transform: KFIoUTransform = .none, beta: Double = 1.0 / 9.0, eps: Double = 1e-6,
                      reduction: LossReduction = .mean) -> Tensor {
    let t = boxLossTarget(pred, target, width: 5, reduction: reduction, op: "kfiouLoss")
    let centreP = (predDeltas ?? pred).select([.all, .range(start: 0, end: 2, step: 1)])
    let centreT = (targetDeltas ?? t).select([.all, .range(start: 0, end: 2, step: 1)])
    let centreLoss = smoothL1Loss(centreP, centreT.dtype == centreP.dtype ? centreT : centreT.to(centreP.dtype),
                                  beta: beta, reduction: .none).sum(axis: 1)
    let kf = kalmanFilterIoU(pred, t, eps: eps)
    let kfLoss: Tensor
    switch transform {
    case .none: kfLoss = 1 - kf
    case .ln: kfLoss = -(kf + eps).log()
    case .exp: kfLoss = (1 - kf).exp() - 1
    }
    return reduceBoxLoss((centreLoss + kfLoss).clamp(min: 0), reduction)
}
