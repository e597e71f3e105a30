import FathomTensor
import Foundation

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), with PyTorch's update:
///
///     Adam:  g ← grad + weightDecay·p          AdamW: p ← p·(1 − lr·weightDecay)
///     m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
///     p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)
public final class Adam: GroupedOptimizer<Adam.Options> {
    public struct Options: OptimizerOptions {
        public var lr: Double
        public var beta1: Double
        public var beta2: Double
        public var epsilon: Double
        public var weightDecay: Double
        /// Decoupled weight decay (AdamW) instead of L2 added to the gradient.
        public var decoupledWeightDecay: Bool

        public init(lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                    weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
            precondition(lr >= 0 && epsilon >= 0 && (0..<1).contains(beta1) && (0..<1).contains(beta2),
                         "Fathom.Adam: need lr >= 0, epsilon >= 0 and betas in [0, 1); got lr \(lr), betas (\(beta1), \(beta2)), epsilon \(epsilon)")
            self.lr = lr
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.decoupledWeightDecay = decoupledWeightDecay
        }
    }

    public convenience init(_ parameters: [Tensor], lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                            epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.init(groups: [ParameterGroup(parameters, Options(lr: lr, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                                              weightDecay: weightDecay))])
    }

    override func update(_ p: Tensor, gradient grad: Tensor, group g: Int, index i: Int, options o: Options) {
        let key = OptimizerState.key(g, i)
        let t = (state.steps[key] ?? 0) + 1
        state.steps[key] = t
        let m = state.buffer("exp_avg", g, i, like: p), v = state.buffer("exp_avg_sq", g, i, like: p)
        dispatchFloat(p, op: "Adam.step",
                      float: { update(Float.self, p, grad, m, v, t, o) },
                      double: { update(Double.self, p, grad, m, v, t, o) })
    }

    private func update<T: FloatScalar>(_: T.Type, _ p: Tensor, _ grad: Tensor, _ m: Tensor, _ v: Tensor, _ t: Int, _ o: Options) {
        let b1 = T(o.beta1), b2 = T(o.beta2), eps = T(o.epsilon)
        let stepSize = T(o.lr / (1 - Foundation.pow(o.beta1, Double(t))))
        let correction2 = T((1 - Foundation.pow(o.beta2, Double(t))).squareRoot())
        let decay = o.decoupledWeightDecay ? T(1 - o.lr * o.weightDecay) : 1
        let l2 = o.decoupledWeightDecay ? 0 : T(o.weightDecay)
        p.withUnsafeMutableBufferPointer(as: T.self) { w in
            grad.withUnsafeBufferPointer(as: T.self) { gs in
                m.withUnsafeMutableBufferPointer(as: T.self) { ms in
                    v.withUnsafeMutableBufferPointer(as: T.self) { vs in
                        for j in 0..<w.count {
                            let g = gs[j] + l2 * w[j]
                            ms[j] = b1 * ms[j] + (1 - b1) * g
                            vs[j] = b2 * vs[j] + (1 - b2) * g * g
                            w[j] = w[j] * decay - stepSize * ms[j] / (vs[j].squareRoot() / correction2 + eps)
                        }
                    }
                }
            }
        }
    }
}

/// AdamW: Adam with decoupled weight decay (PyTorch's default weight decay 0.01).
public func AdamW(_ parameters: [Tensor], lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                  epsilon: Double = 1e-8, weightDecay: Double = 0.01) -> Adam {
    Adam(groups: [ParameterGroup(parameters, Adam.Options(lr: lr, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                                          weightDecay: weightDecay, decoupledWeightDecay: true))])
}
