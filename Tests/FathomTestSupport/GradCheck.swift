import XCTest
import FathomTensor

/// Compares the autodiff gradient of `f` with central differences, in float64.
///
/// `f` may return any shape: it is reduced to a scalar with fixed pseudo-random weights,
/// so every output element's gradient is checked. Inputs must be float64.
public func checkGradients(_ inputs: [Tensor], epsilon: Double = 1e-6, tolerance: Double = 1e-5,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ f: @escaping ([Tensor]) -> Tensor) {
    for input in inputs {
        precondition(input.dtype == .float64, "gradient checks run in float64")
    }
    var weights: Tensor?
    func scalarized(_ xs: [Tensor]) -> Tensor {
        let y = f(xs)
        if weights == nil {
            let n = y.count
            weights = Tensor((0..<n).map { 0.5 + Double(($0 * 7919) % 13) / 13.0 }, shape: y.shape)
        }
        return (y * weights!).sum()
    }
    let leaves = inputs.map { $0.detach().contiguous().detach().requiringGrad() }
    let analytic = gradients(of: [scalarized(leaves)], wrt: leaves)
    for (k, input) in inputs.enumerated() {
        let base = input.contiguous().doubles
        var numeric = [Double](repeating: 0, count: base.count)
        for i in base.indices {
            func evaluate(_ delta: Double) -> Double {
                var values = base
                values[i] += delta
                var xs = leaves
                xs[k] = Tensor(values, shape: input.shape).requiringGrad()
                return scalarized(xs).item()
            }
            numeric[i] = (evaluate(epsilon) - evaluate(-epsilon)) / (2 * epsilon)
        }
        let got = analytic[k].doubles
        XCTAssertEqual(got.count, numeric.count, "gradient \(k) has the wrong size", file: file, line: line)
        for i in numeric.indices {
            let scale = max(1, abs(numeric[i]))
            if abs(got[i] - numeric[i]) > tolerance * scale {
                XCTFail("input \(k) element \(i): autodiff \(got[i]) vs numeric \(numeric[i])", file: file, line: line)
                return
            }
        }
    }
}

/// Checks second derivatives: the gradient of v·∇f (the backward pass recorded with
/// `createGraph`) against central differences of v·∇f.
public func checkSecondOrder(_ inputs: [Tensor], tolerance: Double = 1e-4,
                      file: StaticString = #filePath, line: UInt = #line,
                      _ f: @escaping ([Tensor]) -> Tensor) {
    let vectors = inputs.map { input in
        Tensor((0..<input.count).map { 0.3 + Double(($0 * 31) % 7) / 7.0 }, shape: input.shape)
    }
    checkGradients(inputs, tolerance: tolerance, file: file, line: line) { xs in
        let y = f(xs)
        let seed = Tensor((0..<y.count).map { 1.0 + Double($0 % 3) / 3.0 }, shape: y.shape)
        let grads = gradients(of: [y], wrt: xs, seeds: [seed], createGraph: true)
        return zip(grads, vectors).map { ($0 * $1).sum() }.reduce(Tensor.scalar(0, dtype: .float64), +)
    }
}

/// A float64 tensor of the given shape with distinct, well-conditioned values.
public func sample(_ shape: [Int], offset: Double = 0, scale: Double = 1) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor((0..<n).map { i in offset + scale * sin(Double(i) * 1.7 + 0.3) }, shape: shape)
}
