import FathomTensor

/// RMSprop with PyTorch's update (`torch.optim.RMSprop`):
///
///     g ← grad + weightDecay·p
///     s ← αs + (1 − α)g²;   centered: ḡ ← αḡ + (1 − α)g, d ← √(s − ḡ²) + ε, else d ← √s + ε
///     momentum > 0: b ← momentum·b + g/d, p ← p − lr·b;   else p ← p − lr·g/d
public final class RMSprop: GroupedOptimizer<RMSprop.Options> {
    public struct Options: OptimizerOptions {
        public var lr: Double
        public var alpha: Double
        public var epsilon: Double
        public var weightDecay: Double
        public var momentum: Double
        public var centered: Bool

        public init(lr: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0,
                    momentum: Double = 0, centered: Bool = false) {
            precondition(lr >= 0 && alpha >= 0 && epsilon >= 0 && momentum >= 0,
                         "Fathom.RMSprop: lr, alpha, epsilon and momentum must be >= 0")
            self.lr = lr
            self.alpha = alpha
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.momentum = momentum
            self.centered = centered
        }
    }

    public convenience init(_ parameters: [Tensor], lr: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8,
                            weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
        self.init(groups: [ParameterGroup(parameters, Options(lr: lr, alpha: alpha, epsilon: epsilon, weightDecay: weightDecay,
                                                              momentum: momentum, centered: centered))])
    }

    override func update(_ p: Tensor, gradient grad: Tensor, group g: Int, index i: Int, options o: Options) {
        let square = state.buffer("square_avg", g, i, like: p)
        let mean = o.centered ? state.buffer("grad_avg", g, i, like: p) : nil
        let buffer = o.momentum > 0 ? state.buffer("momentum_buffer", g, i, like: p) : nil
        dispatchFloat(p, op: "RMSprop.step",
                      float: { update(Float.self, p, grad, square, mean, buffer, o) },
                      double: { update(Double.self, p, grad, square, mean, buffer, o) })
    }

    private func update<T: FloatScalar>(_: T.Type, _ p: Tensor, _ grad: Tensor, _ square: Tensor, _ mean: Tensor?,
                                        _ buffer: Tensor?, _ o: Options) {
        let alpha = T(o.alpha), eps = T(o.epsilon), wd = T(o.weightDecay), lr = T(o.lr), momentum = T(o.momentum)
        let n = p.count
        let w = p.withUnsafeMutableBufferPointer(as: T.self) { $0 }
        let gs = grad.withUnsafeBufferPointer(as: T.self) { $0 }
        let s = square.withUnsafeMutableBufferPointer(as: T.self) { $0 }
        let ga = mean?.withUnsafeMutableBufferPointer(as: T.self) { $0 }
        let b = buffer?.withUnsafeMutableBufferPointer(as: T.self) { $0 }
        // The tensors outlive this loop (held by the caller), so the pointers stay valid.
        withExtendedLifetime((p, grad, square, mean, buffer)) {
            for j in 0..<n {
                let g = gs[j] + wd * w[j]
                s[j] = alpha * s[j] + (1 - alpha) * g * g
                var denominator: T
                if let ga {
                    ga[j] = alpha * ga[j] + (1 - alpha) * g
                    denominator = (s[j] - ga[j] * ga[j]).squareRoot() + eps
                } else {
                    denominator = s[j].squareRoot() + eps
                }
                if let b {
                    b[j] = momentum * b[j] + g / denominator
                    w[j] -= lr * b[j]
                } else {
                    w[j] -= lr * g / denominator
                }
            }
        }
    }
}
