import FathomTensor

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight
/// decay, with exactly PyTorch's `torch.optim.SGD` update:
///
///     g ← grad + weightDecay·p
///     b ← g (first step) or momentum·b + (1 − dampening)·g
///     g ← g + momentum·b (Nesterov) or b
///     p ← p − lr·g
public final class SGD: GroupedOptimizer<SGD.Options> {
    public struct Options: OptimizerOptions {
        public var lr: Double
        public var momentum: Double
        public var dampening: Double
        public var weightDecay: Double
        public var nesterov: Bool

        public init(lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
            precondition(lr >= 0, "Fathom.SGD: lr must be >= 0, got \(lr)")
            precondition(!nesterov || (momentum > 0 && dampening == 0),
                         "Fathom.SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
            self.lr = lr
            self.momentum = momentum
            self.dampening = dampening
            self.weightDecay = weightDecay
            self.nesterov = nesterov
        }
    }

    public convenience init(_ parameters: [Tensor], lr: Double, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false) {
        self.init(groups: [ParameterGroup(parameters, Options(lr: lr, momentum: momentum, dampening: dampening,
                                                              weightDecay: weightDecay, nesterov: nesterov))])
    }

    override func update(_ p: Tensor, gradient grad: Tensor, group g: Int, index i: Int, options o: Options) {
        let first = !state.hasBuffer("momentum_buffer", g, i)
        let buffer: Tensor? = o.momentum != 0 ? state.buffer("momentum_buffer", g, i, like: p) : nil
        dispatchFloat(p, op: "SGD.step",
                      float: { update(Float.self, p, grad, buffer, first, o) },
                      double: { update(Double.self, p, grad, buffer, first, o) })
    }

    /// One fused pass per parameter, in parallel chunks (elementwise, so the bits do not
    /// depend on the thread count); the branches are hoisted so each loop vectorizes.
    private func update<T: FloatScalar>(_: T.Type, _ p: Tensor, _ grad: Tensor, _ buffer: Tensor?, _ first: Bool, _ o: Options) {
        let lr = T(o.lr), wd = T(o.weightDecay), momentum = T(o.momentum), keep = T(1 - o.dampening)
        let nesterov = o.nesterov
        p.withUnsafeMutableBufferPointer(as: T.self) { w in
            grad.withUnsafeBufferPointer(as: T.self) { gs in
                guard let wp = w.baseAddress, let gp = gs.baseAddress else { return }
                guard let buffer else {
                    ThreadPool.shared.parallelFor(w.count, grain: ThreadPool.minParallelElements) { range in
                        for j in range { wp[j] -= lr * (gp[j] + wd * wp[j]) }
                    }
                    return
                }
                buffer.withUnsafeMutableBufferPointer(as: T.self) { b in
                    guard let bp = b.baseAddress else { return }
                    ThreadPool.shared.parallelFor(w.count, grain: ThreadPool.minParallelElements) { range in
                        switch (first, nesterov) {
                        case (true, false):
                            for j in range { let g = gp[j] + wd * wp[j]; bp[j] = g; wp[j] -= lr * g }
                        case (false, false):
                            for j in range {
                                let v = momentum * bp[j] + keep * (gp[j] + wd * wp[j])
                                bp[j] = v
                                wp[j] -= lr * v
                            }
                        case (true, true):
                            for j in range { let g = gp[j] + wd * wp[j]; bp[j] = g; wp[j] -= lr * (g + momentum * g) }
                        case (false, true):
                            for j in range {
                                let g = gp[j] + wd * wp[j]
                                let v = momentum * bp[j] + keep * g
                                bp[j] = v
                                wp[j] -= lr * (g + momentum * v)
                            }
                        }
                    }
                }
            }
        }
    }
}
