import FathomTensor

/// ⊥Grad ("ortho-grad", Prieto et al. 2025, "Grokking at the Edge of Numerical Stability"):
/// before each step of a base optimizer, every parameter tensor's gradient loses its
/// component along the tensor's own weights,
///
///     g⊥ = g − (w·g / (w·w + ε)) · w          (ε = 1e-30, per parameter tensor, flattened)
///
/// and, by default as in the authors' `OrthoGrad`, is rescaled to the original norm:
/// `g⊥ ← g⊥ · ‖g‖ / (‖g⊥‖ + ε)`. The base optimizer (SGD, Adam/AdamW, …) then steps with g⊥,
/// including its own weight decay. Removing the radial component stops "naive loss
/// minimization" — growing the weights' scale along their current direction, which drives
/// softmax towards collapse once the training set is fit.
///
/// The wrapper replaces each parameter's `grad` with the projected gradient (as the authors'
/// code does), so `grad` after `step()` is g⊥. Learning rates and state dicts are the base
/// optimizer's (the projection keeps no state).
public final class PerpendicularGradient: Optimizer {
    /// The optimizer that takes the step with the projected gradients.
    public let base: Optimizer
    /// Rescale g⊥ to ‖g‖ (the authors' code does; the paper's equation does not).
    public var renormalize: Bool

    /// Wraps `base`; e.g. `PerpendicularGradient(AdamW(model.parameters(), lr: 1e-3, weightDecay: 0))`.
    public init(_ base: Optimizer, renormalize: Bool = true) {
        self.base = base
        self.renormalize = renormalize
    }

    /// The ε of the projection's and the rescaling's denominators (the authors' 1e-30).
    public static let epsilon = 1e-30

    public func step() {
        noGrad {
            for p in base.allParameters {
                guard let g = p.grad else { continue }
                p.grad = PerpendicularGradient.project(g, onto: p, renormalize: renormalize)
            }
        }
        base.step()
    }

    public var learningRates: [Double] {
        get { base.learningRates }
        set { base.learningRates = newValue }
    }

    public func stateDict() -> [(name: String, tensor: Tensor)] { base.stateDict() }

    public func load(stateDict: [(name: String, tensor: Tensor)]) throws { try base.load(stateDict: stateDict) }

    public var allParameters: [Tensor] { base.allParameters }

    /// `gradient` with its component along `weights` removed (and rescaled to the original
    /// norm when `renormalize`), as a new contiguous tensor of the gradient's shape. Dot
    /// products accumulate in float64. Zero weights leave the gradient unchanged.
    public static func project(_ gradient: Tensor, onto weights: Tensor, renormalize: Bool = true) -> Tensor {
        guard gradient.shape == weights.shape, gradient.dtype == weights.dtype else {
            fatalError(TensorError(op: "PerpendicularGradient.project", "the gradient (\(shapeText(gradient.shape)), \(gradient.dtype)) must have the weights' shape and dtype (\(shapeText(weights.shape)), \(weights.dtype))").description)
        }
        let g = noGrad { gradient.contiguous() }, w = noGrad { weights.contiguous() }
        let out = Tensor.zeros(g.shape, dtype: g.dtype)
        func kernel<T: FloatScalar>(_: T.Type) {
            g.withUnsafeBufferPointer(as: T.self) { gs in
                w.withUnsafeBufferPointer(as: T.self) { ws in
                    out.withUnsafeMutableBufferPointer(as: T.self) { os in
                        var ww = 0.0, wg = 0.0, gg = 0.0
                        for j in 0..<gs.count {
                            let a = Double(ws[j]), b = Double(gs[j])
                            ww += a * a
                            wg += a * b
                            gg += b * b
                        }
                        let coefficient = wg / (ww + epsilon)
                        var oo = 0.0
                        for j in 0..<gs.count {
                            let v = Double(gs[j]) - coefficient * Double(ws[j])
                            os[j] = T(v)
                            oo += v * v
                        }
                        guard renormalize else { return }
                        let scale = T(gg.squareRoot() / (oo.squareRoot() + epsilon))
                        for j in 0..<os.count { os[j] *= scale }
                    }
                }
            }
        }
        switch g.dtype {
        case .float32: kernel(Float.self)
        case .float64: kernel(Double.self)
        default: fatalError("Fathom.PerpendicularGradient: parameters must be float32 or float64, got \(g.dtype)")
        }
        return out
    }
}
