import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomDynamics

final class CurvatureTests: XCTestCase {
    // MARK: fixtures

    /// Linear(4,5)-Tanh-Linear(5,3) in `dtype` (43 parameters), eight examples, cross-entropy.
    private func tinyMLP(_ dtype: DType = .float64) -> (model: Sequential, batch: Batch) {
        let generator = Generator(seed: 7)
        let first = Linear(4, 5, generator: generator), second = Linear(5, 3, generator: generator)
        for layer in [first, second] {
            layer.weight = (layer.weight * 2).to(dtype)  // larger weights: a less degenerate spectrum
            layer.bias = layer.bias!.to(dtype)
        }
        let inputs = Tensor.randn([8, 4], dtype: .float64, seed: 11).to(dtype)
        let labels = Tensor([0, 2, 1, 1, 0, 2, 2, 1] as [Int64])
        return (Sequential(first, Tanh(), second), Batch(inputs: inputs, labels: labels))
    }

    private func operatorForTinyMLP(_ kind: HessianOperator.Kind = .exact, dtype: DType = .float64) -> HessianOperator {
        let (model, batch) = tinyMLP(dtype)
        return HessianOperator(model: model, batches: [batch], kind: kind) { crossEntropy($0, $1) }
    }

    private func randomSymmetric(_ n: Int, seed: UInt64) -> [Double] {
        let g = Tensor.randn([n, n], dtype: .float64, seed: seed).doubles
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = g[i * n + j] + g[j * n + i] } }
        return a
    }

    /// The dense eigenvalues sorted by decreasing magnitude.
    private func byMagnitude(_ values: [Double]) -> [Double] { values.sorted { Swift.abs($0) > Swift.abs($1) } }

    // MARK: dense solver

    func testSymmetricEigenOnKnownMatrices() {
        let diagonal = SymmetricEigen([3, 0, 0, 0, -1, 0, 0, 0, 2], n: 3)
        XCTAssertEqual(diagonal.values, [-1, 2, 3])
        XCTAssertEqual(diagonal.vectors[0].map(Swift.abs), [0, 1, 0])

        // [[a, b], [b, c]]: (a + c)/2 ± √(((a − c)/2)² + b²).
        let (a, b, c) = (2.0, 0.7, -1.5)
        let pair = SymmetricEigen([a, b, b, c], n: 2)
        let center = (a + c) / 2, radius = (((a - c) / 2) * ((a - c) / 2) + b * b).squareRoot()
        XCTAssertEqual(pair.values[0], center - radius, accuracy: 1e-14)
        XCTAssertEqual(pair.values[1], center + radius, accuracy: 1e-14)

        let n = 12
        let m = randomSymmetric(n, seed: 3)
        let eigen = SymmetricEigen(m, n: n)
        XCTAssertEqual(eigen.values, eigen.values.sorted())
        for i in 0..<n {
            for j in 0..<n {
                // A = QΛQᵀ and QᵀQ = I.
                let reconstructed = (0..<n).reduce(0.0) { $0 + eigen.vectors[$1][i] * eigen.values[$1] * eigen.vectors[$1][j] }
                XCTAssertEqual(reconstructed, m[i * n + j], accuracy: 1e-10)
                let gram = (0..<n).reduce(0.0) { $0 + eigen.vectors[i][$1] * eigen.vectors[j][$1] }
                XCTAssertEqual(gram, i == j ? 1 : 0, accuracy: 1e-12)
            }
        }

        let tridiagonal = SymmetricEigen(tridiagonal: [2, 2, 2], offDiagonal: [1, 1])
        // Eigenvalues of the path-graph matrix: 2 + 2cos(kπ/4).
        XCTAssertEqual(tridiagonal.values[0], 2 - 2.0.squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(tridiagonal.values[1], 2, accuracy: 1e-14)
        XCTAssertEqual(tridiagonal.values[2], 2 + 2.0.squareRoot(), accuracy: 1e-14)
    }

    // MARK: operator against the dense Hessian

    func testEigenvaluesMatchDenseHessian() {
        let op = operatorForTinyMLP()
        let n = op.dimension
        XCTAssertEqual(n, 43)
        let dense = op.denseMatrix()
        var asymmetry = 0.0, scale = 0.0
        for i in 0..<n {
            for j in 0..<n {
                asymmetry = Swift.max(asymmetry, Swift.abs(dense[i * n + j] - dense[j * n + i]))
                scale = Swift.max(scale, Swift.abs(dense[i * n + j]))
            }
        }
        XCTAssertLessThan(asymmetry, 1e-12 * Swift.max(scale, 1))
        let eigen = SymmetricEigen(dense, n: n)
        let expected = byMagnitude(eigen.values)

        let power = op.topEigenvalues(k: 3, iterations: 2000, tolerance: 1e-13, seed: 1)
        let lanczos = op.lanczos(steps: n, seed: 2).top(3)
        for i in 0..<3 {
            XCTAssertEqual(power.values[i], expected[i], accuracy: 1e-6 * Swift.abs(expected[i]), "power iteration, eigenvalue \(i)")
            XCTAssertEqual(lanczos.values[i], expected[i], accuracy: 1e-6 * Swift.abs(expected[i]), "Lanczos, eigenvalue \(i)")
            // The eigenvectors match the dense ones up to sign; check H·v = λ·v directly.
            for pair in [(power.values[i], power.vectors[i]), (lanczos.values[i], lanczos.vectors[i])] {
                let residual = (op.apply(pair.1) - pair.0 * pair.1).norm
                XCTAssertLessThan(residual, 1e-4 * Swift.abs(expected[0]))
            }
        }
        // Deterministic from the seed.
        XCTAssertEqual(op.topEigenvalues(k: 1, iterations: 20, seed: 5).values,
                       op.topEigenvalues(k: 1, iterations: 20, seed: 5).values)
    }

    func testLanczosWithFewStepsFindsTheTopEigenvalue() {
        let op = operatorForTinyMLP()
        let eigen = SymmetricEigen(op.denseMatrix(), n: op.dimension)
        let result = op.lanczos(steps: 20, seed: 4, ritzVectors: false)
        XCTAssertEqual(result.alphas.count, 20)
        XCTAssertEqual(result.betas.count, 19)
        XCTAssertEqual(result.quadratureWeights.reduce(0, +), 1, accuracy: 1e-12)
        let top = byMagnitude(eigen.values)[0]
        XCTAssertEqual(result.top(1).values[0], top, accuracy: 1e-6 * Swift.abs(top))
    }

    func testHutchinsonTraceMatchesDenseTrace() {
        let op = operatorForTinyMLP()
        let n = op.dimension
        let dense = op.denseMatrix()
        let trace = (0..<n).reduce(0.0) { $0 + dense[$1 * n + $1] }
        let estimate = op.hutchinsonTrace(samples: 300, seed: 9)
        XCTAssertEqual(estimate.samples.count, 300)
        XCTAssertGreaterThan(estimate.standardError, 0)
        XCTAssertEqual(estimate.mean, trace, accuracy: 3 * estimate.standardError)
        XCTAssertLessThan(estimate.standardError, 0.1 * Swift.abs(trace), "300 probes should pin the trace closely")
        // Each Rademacher sample is exactly tr(H) + Σ_{i≠j} H_ij v_i v_j: check one by hand.
        let v = op.rademacher(Generator(seed: 9)).flattenedDoubles()
        var quadratic = 0.0
        for i in 0..<n { for j in 0..<n { quadratic += v[i] * dense[i * n + j] * v[j] } }
        XCTAssertEqual(estimate.samples[0], quadratic, accuracy: 1e-10 * Swift.max(1, Swift.abs(quadratic)))
    }

    func testSpectralDensityIntegratesToOneAndHasTheRightMean() {
        let op = operatorForTinyMLP()
        let n = op.dimension
        let dense = op.denseMatrix()
        let trace = (0..<n).reduce(0.0) { $0 + dense[$1 * n + $1] }
        let eigen = SymmetricEigen(dense, n: n)
        let result = op.spectralDensity(steps: n, runs: 4, gridCount: 2000, sigma: 0.01, padding: 0.05, seed: 1)
        let delta = result.spacing
        XCTAssertEqual(result.density.reduce(0, +) * delta, 1, accuracy: 1e-12)
        XCTAssertTrue(result.density.allSatisfy { $0 >= 0 })
        // With as many steps as parameters, every run's nodes are H's eigenvalues.
        for nodes in result.nodes {
            XCTAssertEqual(nodes.max()!, eigen.values.last!, accuracy: 1e-8)
            XCTAssertEqual(nodes.min()!, eigen.values.first!, accuracy: 1e-8)
        }
        let mean = zip(result.grid, result.density).reduce(0.0) { $0 + $1.0 * $1.1 } * delta
        // Each run's quadrature mean is v₁ᵀHv₁ with |v₁| = 1 and Rademacher direction, an
        // unbiased estimate of tr(H)/n; broadening keeps the mean (the grid is padded).
        let runMeans = zip(result.nodes, result.weights).map { zip($0, $1).reduce(0.0) { $0 + $1.0 * $1.1 } }
        XCTAssertEqual(mean, runMeans.reduce(0, +) / Double(runMeans.count), accuracy: 1e-3 * (eigen.values.last! - eigen.values.first!))
        let spread = eigen.values.map(Swift.abs).max()!
        XCTAssertEqual(mean, trace / Double(n), accuracy: 0.1 * spread)
    }

    // MARK: Gauss–Newton

    func testGaussNewtonEqualsHessianForLinearModelWithMSE() {
        let model = Linear(4, 3, generator: Generator(seed: 2))
        model.weight = model.weight.to(.float64)
        model.bias = model.bias!.to(.float64)
        let batch = Batch(inputs: Tensor.randn([6, 4], dtype: .float64, seed: 5),
                          labels: Tensor.randn([6, 3], dtype: .float64, seed: 6))
        let exact = HessianOperator(model: model, batches: [batch]) { mseLoss($0, $1) }
        let gaussNewton = HessianOperator(model: model, batches: [batch], kind: .gaussNewton) { mseLoss($0, $1) }
        let h = exact.denseMatrix(), g = gaussNewton.denseMatrix()
        XCTAssertGreaterThan(h.map(Swift.abs).max()!, 0.1)
        for (a, b) in zip(h, g) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    func testGaussNewtonForCrossEntropyIsJacobianSandwich() {
        let (model, batch) = tinyMLP()
        let op = HessianOperator(model: model, batches: [batch], kind: .gaussNewton) { crossEntropy($0, $1) }
        let n = op.dimension
        let g = op.denseMatrix()
        // Form J (24 outputs × 43 parameters) and H_out = (diag(p) − ppᵀ)/N explicitly.
        let parameters = model.parameters()
        let logits = model(batch.inputs)
        let outputs = logits.count, examples = 8, classes = 3
        var jacobian: [[Double]] = []
        for k in 0..<outputs {
            var seed = [Double](repeating: 0, count: outputs)
            seed[k] = 1
            let row = gradients(of: [logits], wrt: parameters, seeds: [Tensor(seed, shape: logits.shape, dtype: .float64)])
            jacobian.append(row.flatMap(\.doubles))
        }
        let p = noGrad { logits.softmax(axis: -1) }.doubles
        var hOut = [Double](repeating: 0, count: outputs * outputs)
        for e in 0..<examples {
            for a in 0..<classes {
                for b in 0..<classes {
                    let pa = p[e * classes + a], pb = p[e * classes + b]
                    hOut[(e * classes + a) * outputs + e * classes + b] = ((a == b ? pa : 0) - pa * pb) / Double(examples)
                }
            }
        }
        for i in 0..<n {
            for j in 0..<n {
                var expected = 0.0
                for a in 0..<outputs where jacobian[a][i] != 0 {
                    for b in 0..<outputs { expected += jacobian[a][i] * hOut[a * outputs + b] * jacobian[b][j] }
                }
                XCTAssertEqual(g[i * n + j], expected, accuracy: 1e-12)
            }
        }
        // Positive semi-definite, unlike the exact Hessian in general.
        XCTAssertGreaterThan(SymmetricEigen(g, n: n).values.first!, -1e-12)
    }

    // MARK: dtypes and batches

    func testFloat32MatchesFloat64AndBatchesAverage() {
        let op64 = operatorForTinyMLP(), op32 = operatorForTinyMLP(dtype: .float32)
        let v = op64.gaussian(Generator(seed: 3))
        let h64 = op64.apply(v)
        let h32 = op32.apply(ParameterVector(v.tensors.map { $0.to(.float32) }))
        XCTAssertEqual(h32.tensors[0].dtype, .float32)
        XCTAssertEqual(h64.dot(v), h64.dot(v), accuracy: 1e-12 * h64.norm * v.norm)
        XCTAssertLessThan((h64.adding(-2, times: v) - (h64 - 2 * v)).norm, 1e-14 * h64.norm)
        XCTAssertLessThan((ParameterVector(h32.tensors.map { $0.to(.float64) }) - h64).norm, 1e-4 * h64.norm)

        // Two halves of the batch, weighted by size, give the whole batch's Hessian.
        let (model, batch) = tinyMLP()
        let halves = [Batch(inputs: batch.inputs[0..<3], labels: batch.labels[0..<3]),
                      Batch(inputs: batch.inputs[3..<8], labels: batch.labels[3..<8])]
        let split = HessianOperator(model: model, batches: halves) { crossEntropy($0, $1) }
        XCTAssertLessThan((split.apply(v) - h64).norm, 1e-12 * h64.norm)
        XCTAssertEqual(split.lossValue(), op64.lossValue(), accuracy: 1e-12)
    }
}
