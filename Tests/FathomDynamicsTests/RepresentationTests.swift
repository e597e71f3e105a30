import Foundation
import XCTest
import FathomData
import FathomNN
import FathomTensor
@testable import FathomDynamics

/// A random d×d orthogonal matrix (eigenvectors of a random symmetric matrix), float64.
private func randomOrthogonal(_ d: Int, seed: UInt64) -> Tensor {
    let a = Tensor.randn([d, d], dtype: .float64, seed: seed)
    let s = (a + a.T).contiguous().doubles
    let eigen = SymmetricEigen(s, n: d)
    return Tensor(eigen.vectors.flatMap { $0 }, shape: [d, d])
}

final class RepresentationTests: XCTestCase {
    // MARK: RankMe

    func testSingularValuesOfAKnownMatrix() {
        let z = Tensor([3.0, 0, 0, 0, -2, 0, 0, 0, 1, 0, 0, 0], shape: [4, 3])
        let sigma = singularValues(z)
        XCTAssertEqual(sigma.count, 3)
        for (s, e) in zip(sigma, [3.0, 2, 1]) { XCTAssertEqual(s, e, accuracy: 1e-12) }
        // The N < d route (ZZᵀ) gives the same values.
        for (s, e) in zip(singularValues(z.T), [3.0, 2, 1]) { XCTAssertEqual(s, e, accuracy: 1e-12) }
    }

    func testRankMeOfIsotropicEmbeddingsIsTheDimension() {
        // 16 rows, 8 orthogonal columns of norm √2, then rotated.
        let d = 8
        var values = [Double](repeating: 0, count: 16 * d)
        for i in 0..<16 { values[i * d + i % d] = 1 }
        let z = Tensor(values, shape: [16, d])
        XCTAssertEqual(rankMe(z), Double(d), accuracy: 1e-4)
        XCTAssertEqual(rankMe(z.matmul(randomOrthogonal(d, seed: 3)).to(.float32)), Double(d), accuracy: 1e-4)
    }

    func testRankMeOfARankOneMatrixIsOne() {
        let u = Tensor.randn([20, 1], dtype: .float64, seed: 1), v = Tensor.randn([1, 6], dtype: .float64, seed: 2)
        XCTAssertEqual(rankMe(u.matmul(v)), 1, accuracy: 1e-3)
        XCTAssertGreaterThan(rankMe(u.matmul(v)), 0.999)
    }

    func testRankMeIsScaleInvariantAndBelowTheDimension() {
        let z = Tensor.randn([200, 10], dtype: .float64, seed: 4)
        let r = rankMe(z)
        XCTAssertEqual(rankMe(z * 1000), r, accuracy: 1e-9)
        XCTAssertEqual(rankMe(z * 1e-3), r, accuracy: 1e-9)
        XCTAssertGreaterThan(r, 9)
        XCTAssertLessThan(r, 10)
        // Squashing one direction lowers it.
        let squash = Tensor((0..<10).map { $0 == 0 ? 0.01 : 1.0 }, shape: [1, 10])
        XCTAssertLessThan(rankMe(z * squash), r - 0.5)
    }

    // MARK: Neural collapse

    /// C classes at the vertices of a simplex ETF (plus a global offset), rotated into d
    /// dimensions; `noise` adds Gaussian scatter. Returns features, labels and M [C, d].
    private func collapsed(classes c: Int, perClass: Int, d: Int, noise: Double = 0, seed: UInt64 = 7)
        -> (features: Tensor, labels: Tensor, means: Tensor) {
        precondition(d >= c + 1)
        var m = [Double](repeating: 0, count: c * d)
        for k in 0..<c { for j in 0..<c { m[k * d + j] = (j == k ? 1 : 0) - 1 / Double(c) } }
        let q = randomOrthogonal(d, seed: seed)
        let means = Tensor(m, shape: [c, d]).matmul(q) * 2.5
        let offset = Tensor((0..<d).map { $0 >= c ? 1.0 : 0.5 }, shape: [1, d]).matmul(q)
        let labels = Tensor((0..<(c * perClass)).map { Int64($0 % c) })
        var features = means.indexSelect(axis: 0, index: labels) + offset
        if noise > 0 { features = features + Tensor.randn(features.shape, dtype: .float64, seed: seed + 1) * noise }
        return (features, labels, means)
    }

    func testPerfectlyCollapsedFeaturesMeasureZero() {
        let c = 4
        let (h, y, m) = collapsed(classes: c, perClass: 5, d: 7)
        let r = neuralCollapse(features: h, labels: y, weight: m, bias: Tensor([0.0, 0, 0, 0]))
        XCTAssertEqual(r.classCount, c)
        XCTAssertEqual(r.sampleCount, 20)
        XCTAssertEqual(r.nc1, 0, accuracy: 1e-20)
        XCTAssertEqual(r.withinClassTrace, 0, accuracy: 1e-20)
        XCTAssertEqual(r.meanNormVariation, 0, accuracy: 1e-12)
        XCTAssertEqual(r.classifierNormVariation, 0, accuracy: 1e-12)
        XCTAssertEqual(r.meanCosineStd, 0, accuracy: 1e-12)
        XCTAssertEqual(r.meanAngleDeviation, 0, accuracy: 1e-12)  // every cosine is −1/(C−1)
        XCTAssertEqual(r.classifierAngleDeviation, 0, accuracy: 1e-12)
        XCTAssertEqual(r.selfDuality, 0, accuracy: 1e-20)
        XCTAssertEqual(r.nccMismatch, 0)
        XCTAssertEqual(r.classifierError, 0)
        // Self-duality is up to scale: W = 3M is as collapsed.
        XCTAssertEqual(neuralCollapse(features: h, labels: y, weight: m * 3).selfDuality, 0, accuracy: 1e-20)
    }

    func testAnAntiAlignedClassifierAlwaysDisagreesWithTheNearestMean() {
        let (h, y, m) = collapsed(classes: 3, perClass: 4, d: 5)
        let r = neuralCollapse(features: h, labels: y, weight: m * -1)
        XCTAssertEqual(r.nccMismatch, 1)
        XCTAssertEqual(r.classifierError, 1)
        XCTAssertEqual(r.selfDuality, 4, accuracy: 1e-12)  // ‖−a − a‖² with ‖a‖ = 1
    }

    func testNoisyFeaturesAndARandomClassifierAreNotCollapsed() {
        let (h, y, _) = collapsed(classes: 4, perClass: 25, d: 8, noise: 0.8)
        let w = Tensor.randn([4, 8], dtype: .float64, seed: 9)
        let r = neuralCollapse(features: h, labels: y, weight: w, bias: Tensor.randn([4], dtype: .float64, seed: 10))
        XCTAssertGreaterThan(r.nc1, 0.01)
        XCTAssertGreaterThan(r.meanCosineStd, 1e-3)
        XCTAssertGreaterThan(r.classifierCosineStd, 1e-2)
        XCTAssertGreaterThan(r.classifierNormVariation, 1e-2)
        XCTAssertGreaterThan(r.selfDuality, 0.1)
        XCTAssertGreaterThan(r.nccMismatch, 0)
    }

    func testNC1MatchesTheDirectPseudoInverseFormula() {
        // Unbalanced classes, d > C: the direct d×d computation with a pseudo-inverse.
        let n = 37, d = 5, c = 3
        let h = Tensor.randn([n, d], dtype: .float64, seed: 21) + Tensor([0.3, -1, 2, 0, 1], shape: [1, d])
        let labels = (0..<n).map { Int64($0 % 7 < 3 ? 0 : ($0 % 7 < 5 ? 1 : 2)) }
        let r = neuralCollapse(features: h, labels: Tensor(labels), weight: Tensor.randn([c, d], dtype: .float64, seed: 22))

        let x = h.doubles
        var mu = [[Double]](repeating: [Double](repeating: 0, count: d), count: c), count = [Double](repeating: 0, count: c)
        var g = [Double](repeating: 0, count: d)
        for i in 0..<n {
            count[Int(labels[i])] += 1
            for j in 0..<d { mu[Int(labels[i])][j] += x[i * d + j]; g[j] += x[i * d + j] / Double(n) }
        }
        for k in 0..<c { for j in 0..<d { mu[k][j] /= count[k] } }
        var sw = [Double](repeating: 0, count: d * d), sb = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            let k = Int(labels[i])
            for p in 0..<d { for q in 0..<d { sw[p * d + q] += (x[i * d + p] - mu[k][p]) * (x[i * d + q] - mu[k][q]) / Double(n) } }
        }
        for k in 0..<c {
            for p in 0..<d { for q in 0..<d { sb[p * d + q] += (mu[k][p] - g[p]) * (mu[k][q] - g[q]) / Double(c) } }
        }
        let eigen = SymmetricEigen(sb, n: d)
        var trace = 0.0
        for (lambda, v) in zip(eigen.values, eigen.vectors) where lambda > 1e-10 * eigen.values.last! {
            for p in 0..<d { for q in 0..<d { trace += v[p] * sw[p * d + q] * v[q] / lambda } }
        }
        XCTAssertEqual(r.nc1, trace / Double(c), accuracy: 1e-9 * trace)
        XCTAssertEqual(r.withinClassTrace, (0..<d).reduce(0) { $0 + sw[$1 * d + $1] }, accuracy: 1e-12)
        XCTAssertEqual(r.betweenClassTrace, (0..<d).reduce(0) { $0 + sb[$1 * d + $1] }, accuracy: 1e-12)
    }

    func testModelVersionReadsTheClassifierInputs() {
        let model = smallMLP(hidden: 8, seed: 3)
        let batches = (0..<2).map { b in
            Batch(inputs: Tensor.randn([12, 4], seed: UInt64(30 + b)), labels: Tensor((0..<12).map { Int64(($0 + b) % 3) }))
        }
        let r = neuralCollapse(of: model, classifier: "2", on: batches)
        let features = Tensor.cat(batches.map { batch in noGrad { model.layers[1](model.layers[0](batch.inputs)) } })
        let last = model.layers[2] as! Linear
        let direct = neuralCollapse(features: features, labels: Tensor.cat(batches.map(\.labels)),
                                    weight: last.weight, bias: last.bias)
        XCTAssertEqual(r, direct)
        XCTAssertEqual(r.sampleCount, 24)
    }

    // MARK: CKA

    func testCKAOfARepresentationWithItselfAndItsRotationsIsOne() {
        let x = Tensor.randn([50, 6], dtype: .float64, seed: 41)
        let y = Tensor.randn([50, 4], dtype: .float64, seed: 42) + x[0..., 0..<4] * 0.5
        XCTAssertEqual(linearCKA(x, x), 1, accuracy: 1e-12)
        let q = randomOrthogonal(6, seed: 43)
        XCTAssertEqual(linearCKA(x, x.matmul(q) * 3.7), 1, accuracy: 1e-12)
        let reference = linearCKA(x, y)
        XCTAssertGreaterThan(reference, 0.1)
        XCTAssertLessThan(reference, 0.9)
        XCTAssertEqual(linearCKA(x.matmul(q) * 0.2, y), reference, accuracy: 1e-12)
        XCTAssertEqual(linearCKA(y, x), reference, accuracy: 1e-12)
        // Adding a constant per feature changes nothing (centering).
        XCTAssertEqual(linearCKA(x + 5, y - 1), reference, accuracy: 1e-12)
        XCTAssertEqual(linearCKA(x.to(.float32), y.to(.float32)), reference, accuracy: 1e-5)
    }

    func testCKAOfIndependentRepresentationsIsSmall() {
        let x = Tensor.randn([2000, 5], dtype: .float64, seed: 51), y = Tensor.randn([2000, 5], dtype: .float64, seed: 52)
        XCTAssertLessThan(linearCKA(x, y), 0.1)
    }

    func testCKAOnAHandExample() {
        // X is already centered; Y = [1, 2, 3] centers to [−1, 0, 1]. YᵀX = [−2, −1],
        // XᵀX = [[2, 1], [1, 2]] (‖·‖_F = √10), YᵀY = 2: CKA = 5 / (2√10).
        let x = Tensor([1.0, 0, 0, 1, -1, -1], shape: [3, 2]), y = Tensor([1.0, 2, 3], shape: [3, 1])
        XCTAssertEqual(linearCKA(x, y), 5 / (2 * 10.0.squareRoot()), accuracy: 1e-14)
    }

    func testCKAThroughGramMatricesMatchesTheFeatureFormula() {
        // p, q ≫ N picks the N×N Gram route; compare with the p×q formula written out.
        let n = 4, p = 30, q = 20
        let x = Tensor.randn([n, p], dtype: .float64, seed: 61), y = Tensor.randn([n, 2, 10], dtype: .float64, seed: 62)
        func centered(_ t: Tensor, _ width: Int) -> [Double] {
            let v = t.contiguous().doubles
            var out = v
            for j in 0..<width {
                let mean = (0..<n).reduce(0) { $0 + v[$1 * width + j] } / Double(n)
                for i in 0..<n { out[i * width + j] -= mean }
            }
            return out
        }
        let cx = centered(x, p), cy = centered(y, q)
        func frobeniusSquaredOfProduct(_ a: [Double], _ pa: Int, _ b: [Double], _ pb: Int) -> Double {
            var total = 0.0
            for j in 0..<pa {
                for k in 0..<pb {
                    var s = 0.0
                    for i in 0..<n { s += a[i * pa + j] * b[i * pb + k] }
                    total += s * s
                }
            }
            return total
        }
        let expected = frobeniusSquaredOfProduct(cy, q, cx, p)
            / (frobeniusSquaredOfProduct(cx, p, cx, p).squareRoot() * frobeniusSquaredOfProduct(cy, q, cy, q).squareRoot())
        XCTAssertEqual(linearCKA(x, y), expected, accuracy: 1e-12)
    }

    func testLayerCKAOfTwoCopiesHasOnesOnTheDiagonal() {
        let a = smallMLP(hidden: 8, seed: 5), b = smallMLP(hidden: 8, seed: 5)
        let inputs = Tensor.randn([40, 4], seed: 6)
        let matrix = layerCKA(a, b, inputs: inputs)
        XCTAssertEqual(matrix.rowLayers, ["0", "1", "2"])
        XCTAssertEqual(matrix.columnLayers, ["0", "1", "2"])
        for i in 0..<3 { XCTAssertEqual(matrix.values[i][i], 1, accuracy: 1e-6, "layer \(i)") }
        XCTAssertLessThan(matrix.values[0][2], 0.999)
        // A differently initialized network is less similar, layer by layer.
        let other = layerCKA(a, smallMLP(hidden: 8, seed: 99), inputs: inputs, secondLayers: ["1"])
        XCTAssertEqual(other.values.count, 3)
        XCTAssertEqual(other.values[0].count, 1)
        XCTAssertLessThan(other.values[1][0], 0.99)
    }
}
