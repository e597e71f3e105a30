import FathomTensor

/// A Monte-Carlo estimate: the sample mean and its standard error.
public struct TraceEstimate {
    /// The mean of the per-probe estimates vᵀHv.
    public var mean: Double
    /// The standard error of the mean, s/√n (s the sample standard deviation, n − 1 in
    /// the denominator); 0 for a single probe.
    public var standardError: Double
    /// The per-probe estimates, in draw order.
    public var samples: [Double]
}

extension HessianOperator {
    /// tr(H) by Hutchinson's estimator with Rademacher probes, as PyHessian's `trace()`:
    /// E[vᵀHv] = tr(H) when the entries of v are independent ±1. Runs exactly `samples`
    /// probes (PyHessian stops on a relative tolerance instead; the standard error here
    /// says how far to trust the mean). Probes come from `Generator(seed:)`.
    public func hutchinsonTrace(samples: Int = 100, seed: UInt64 = 0) -> TraceEstimate {
        precondition(samples >= 1, "Fathom.hutchinsonTrace: samples must be at least 1, got \(samples)")
        let generator = Generator(seed: seed)
        var values: [Double] = []
        for _ in 0..<samples {
            let v = rademacher(generator)
            values.append(apply(v).dot(v))
        }
        let n = Double(samples)
        let mean = values.reduce(0, +) / n
        let variance = samples > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        return TraceEstimate(mean: mean, standardError: (variance / n).squareRoot(), samples: values)
    }
}
