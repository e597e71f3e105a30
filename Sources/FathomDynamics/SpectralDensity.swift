import Foundation
import FathomTensor

/// An estimated eigenvalue density of a curvature operator on a uniform grid.
public struct SpectralDensity {
    /// Grid points, ascending and evenly spaced.
    public var grid: [Double]
    /// Density at each grid point; Σ density·Δ = 1 with Δ the grid spacing.
    public var density: [Double]
    /// Each run's quadrature nodes (Ritz values) and weights (summing to 1).
    public var nodes: [[Double]]
    public var weights: [[Double]]

    /// The grid spacing Δ.
    public var spacing: Double { grid.count > 1 ? grid[1] - grid[0] : 0 }
}

extension HessianOperator {
    /// The eigenvalue density by stochastic Lanczos quadrature (Ghorbani et al. 2019;
    /// PyHessian's `density()`).
    ///
    /// Each of `runs` runs does `steps` Lanczos steps (full reorthogonalization) from a
    /// Rademacher start vector; T's eigenvalues λ_i are the nodes and the squared first
    /// components of its eigenvectors the weights w_i, so that Σ w_i·f(λ_i) ≈ vᵀf(H)v/|v|²
    /// ≈ (1/n)·tr f(H). The density is the average over runs of Σ w_i·N(x; λ_i, σ²),
    /// evaluated on `gridCount` evenly spaced points from (mean over runs of each run's
    /// smallest node) − `padding` to (mean of largest nodes) + `padding`, then
    /// renormalized so that Σ density·Δ = 1 (PyHessian's `density_generate`). `sigma` is
    /// the Gaussian broadening's standard deviation; nil takes PyHessian's default, a
    /// variance of 1e-5·max(1, high − low), i.e. σ = (1e-5·max(1, high − low))^½.
    /// Run r starts from `Generator(seed: seed + r)`.
    public func spectralDensity(steps: Int = 90, runs: Int = 1, gridCount: Int = 10_000,
                                sigma: Double? = nil, padding: Double = 0.01,
                                seed: UInt64 = 0) -> SpectralDensity {
        precondition(runs >= 1, "Fathom.spectralDensity: runs must be at least 1, got \(runs)")
        precondition(gridCount >= 2, "Fathom.spectralDensity: gridCount must be at least 2, got \(gridCount)")
        var nodes: [[Double]] = [], weights: [[Double]] = []
        for r in 0..<runs {
            let result = lanczos(steps: steps, seed: seed &+ UInt64(r), ritzVectors: false)
            nodes.append(result.ritzValues)
            weights.append(result.quadratureWeights)
        }
        return SpectralDensity(nodes: nodes, weights: weights, gridCount: gridCount, sigma: sigma, padding: padding)
    }
}

extension SpectralDensity {
    /// Gaussian-broadened density from quadrature nodes and weights (one array per run).
    public init(nodes: [[Double]], weights: [[Double]], gridCount: Int, sigma: Double?, padding: Double) {
        let runs = Double(nodes.count)
        let high = nodes.reduce(0) { $0 + $1.max()! } / runs + padding
        let low = nodes.reduce(0) { $0 + $1.min()! } / runs - padding
        let width = sigma ?? (1e-5 * Swift.max(1, high - low)).squareRoot()
        let step = (high - low) / Double(gridCount - 1)
        let grid = (0..<gridCount).map { low + Double($0) * step }
        var density = [Double](repeating: 0, count: gridCount)
        let norm = 1 / (width * (2 * Double.pi).squareRoot())
        for (runNodes, runWeights) in zip(nodes, weights) {
            for (lambda, w) in zip(runNodes, runWeights) {
                for (j, x) in grid.enumerated() {
                    let z = (x - lambda) / width
                    density[j] += w * norm * Foundation.exp(-0.5 * z * z) / runs
                }
            }
        }
        let total = density.reduce(0, +) * step
        if total > 0 { density = density.map { $0 / total } }
        self.init(grid: grid, density: density, nodes: nodes, weights: weights)
    }
}
