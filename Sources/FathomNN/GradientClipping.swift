import FathomTensor

/// Scales all gradients so their joint L2 norm is at most `maxNorm` (PyTorch
/// `clip_grad_norm_`, with its 1e-6 guard) and returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Double) -> Double {
    let grads = parameters.compactMap(\.grad)
    let total = noGrad { grads.map { ($0 * $0).sum().to(.float64).item() }.reduce(0, +) }.squareRoot()
    let factor = maxNorm / (total + 1e-6)
    if factor < 1 {
        noGrad {
            for p in parameters where p.grad != nil { p.grad = p.grad! * factor }
        }
    }
    return total
}

/// Clamps every gradient element into `-maxValue...maxValue` (PyTorch `clip_grad_value_`).
public func clipGradValue(_ parameters: [Tensor], maxValue: Double) {
    noGrad {
        for p in parameters {
            guard let grad = p.grad else { continue }
            let copy = grad.clone()
            switch copy.dtype {
            case .float32:
                copy.withUnsafeMutableBufferPointer(as: Float.self) { b in
                    for i in b.indices { b[i] = Swift.min(Swift.max(b[i], Float(-maxValue)), Float(maxValue)) }
                }
            case .float64:
                copy.withUnsafeMutableBufferPointer(as: Double.self) { b in
                    for i in b.indices { b[i] = Swift.min(Swift.max(b[i], -maxValue), maxValue) }
                }
            default: break
            }
            p.grad = copy
        }
    }
}
