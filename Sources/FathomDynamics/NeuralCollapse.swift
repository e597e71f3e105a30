import FathomData
import FathomNN
import FathomTensor

/// The neural-collapse measures of Papyan, Han & Donoho 2020 ("Prevalence of neural
/// collapse during the terminal phase of deep learning training", PNAS 117(40)), on
/// penultimate features H [N, d] with labels y ∈ {0, …, C−1} and the last layer's weight
/// W [C, d] and bias b [C]. All go to 0 under collapse (except the cosines' mean).
///
/// Notation (the paper's, with the global mean over all N samples as in their code):
/// μ_c = mean of class c's features, μ_G = mean of all features, M = [μ_c − μ_G] [C, d]
/// (the centered class means, one row per class),
/// Σ_W = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ, Σ_B = (1/C) Σ_c (μ_c − μ_G)(μ_c − μ_G)ᵀ.
///
/// - NC1, within-class variability collapse (their Fig. 6): `nc1` = Tr(Σ_W Σ_B⁺)/C, with Σ_B⁺
///   the Moore–Penrose pseudo-inverse (eigenvalues of Σ_B at or below `relativeTolerance` ×
///   the largest are dropped; Σ_B has rank ≤ C − 1 after centering).
/// - NC2, convergence to a simplex ETF: equinorm (Fig. 2) = coefficient of variation
///   std/mean of the norms ‖μ_c − μ_G‖ (`meanNormVariation`) and of the rows ‖w_c‖
///   (`classifierNormVariation`); equiangularity (Fig. 3) = standard deviation of the
///   cosines between distinct rows (`meanCosineStd`, `classifierCosineStd`); maximal
///   angle (Fig. 4) = average over pairs c ≠ c' of |cos + 1/(C−1)| (`meanAngleDeviation`,
///   `classifierAngleDeviation`), 0 when all cosines equal the simplex value −1/(C−1).
///   Standard deviations are population ones (÷ count), as NumPy's default.
/// - NC3, convergence to self-duality (Fig. 5): `selfDuality` = ‖W/‖W‖_F − M/‖M‖_F‖²_F.
/// - NC4, simplification to the nearest class center (Fig. 7): `nccMismatch` = fraction
///   of samples where argmax_c (w_c·h + b_c) differs from argmin_c ‖h − μ_c‖ (ties go to
///   the lower class index in both).
///
/// Also reported: `classifierError`, the fraction of samples the classifier gets wrong
/// (collapse is a terminal-phase phenomenon, after this reaches 0), and the traces of Σ_W
/// and Σ_B.
public struct NeuralCollapseReport: Codable, Equatable, Sendable {
    public var classCount: Int
    public var sampleCount: Int
    public var nc1: Double
    public var withinClassTrace: Double
    public var betweenClassTrace: Double
    public var meanNormVariation: Double
    public var classifierNormVariation: Double
    public var meanCosineStd: Double
    public var classifierCosineStd: Double
    public var meanAngleDeviation: Double
    public var classifierAngleDeviation: Double
    public var selfDuality: Double
    public var nccMismatch: Double
    public var classifierError: Double

    enum CodingKeys: String, CodingKey {
        case classCount = "class_count", sampleCount = "sample_count", nc1
        case withinClassTrace = "within_class_trace", betweenClassTrace = "between_class_trace"
        case meanNormVariation = "nc2_mean_norm_cv", classifierNormVariation = "nc2_classifier_norm_cv"
        case meanCosineStd = "nc2_mean_cos_std", classifierCosineStd = "nc2_classifier_cos_std"
        case meanAngleDeviation = "nc2_mean_angle_dev", classifierAngleDeviation = "nc2_classifier_angle_dev"
        case selfDuality = "nc3_self_duality", nccMismatch = "nc4_ncc_mismatch"
        case classifierError = "classifier_error"
    }
}

/// Measures neural collapse (see `NeuralCollapseReport`) of `features` [N, d] (more axes
/// are flattened per sample) with int64 `labels` [N] and the classifier `weight` [C, d]
/// and optional `bias` [C]. Every class 0..<C must occur at least once, C ≥ 2. Computed
/// in float64; the pseudo-inverse goes through the C×C Gram matrix of the class means,
/// so the cost is O(N·d·C) and d may be large.
public func neuralCollapse(features: Tensor, labels: Tensor, weight: Tensor, bias: Tensor? = nil,
                           relativeTolerance: Double = 1e-10) -> NeuralCollapseReport {
    let n = features.rank >= 1 ? features.shape[0] : 0
    let h = noGrad { features.to(.float64).reshaped([n, -1]).contiguous() }
    let d = h.shape[1]
    precondition(weight.rank == 2 && weight.shape[1] == d && weight.shape[0] >= 2,
                 "Fathom.neuralCollapse: the classifier weight must be [C ≥ 2, d] with d = \(d) (the feature width of features \(features.shape)), got \(weight.shape)")
    let c = weight.shape[0]
    precondition(bias == nil || bias!.shape == [c],
                 "Fathom.neuralCollapse: the bias must be [\(c)] to match weight \(weight.shape), got \(bias!.shape)")
    precondition(labels.shape == [n] && n > 0,
                 "Fathom.neuralCollapse: labels must be [N] = [\(n)] (one per feature row, N > 0), got \(labels.shape)")
    let y = labels.to(.int64).scalars(as: Int64.self).map { Int($0) }
    if let bad = y.first(where: { $0 < 0 || $0 >= c }) {
        fatalError("Fathom.neuralCollapse: label \(bad) is outside 0..<\(c) (the classifier has \(c) rows)")
    }

    // Class means and the global mean, summed in sample order (deterministic).
    let hd = h.doubles
    var means = [Double](repeating: 0, count: c * d), counts = [Int](repeating: 0, count: c)
    var global = [Double](repeating: 0, count: d)
    for i in 0..<n {
        counts[y[i]] += 1
        for j in 0..<d {
            means[y[i] * d + j] += hd[i * d + j]
            global[j] += hd[i * d + j]
        }
    }
    if let missing = counts.firstIndex(of: 0) {
        fatalError("Fathom.neuralCollapse: class \(missing) has no samples; every class 0..<\(c) needs at least one")
    }
    for k in 0..<c { for j in 0..<d { means[k * d + j] /= Double(counts[k]) } }
    for j in 0..<d { global[j] /= Double(n) }
    let meansTensor = Tensor(means, shape: [c, d])
    let centered = Tensor((0..<(c * d)).map { means[$0] - global[$0 % d] }, shape: [c, d])

    let w = noGrad { weight.to(.float64).contiguous() }
    return noGrad {
        // NC1 through the C×C problem: with G = MMᵀ/C = Σ_k λ_k u_k u_kᵀ, Σ_B's eigenvectors
        // are v_k = Mᵀu_k/√(Cλ_k), so Tr(Σ_W Σ_B⁺) = Σ_k u_kᵀ(M Σ_W Mᵀ)u_k / (C λ_k²), and
        // M Σ_W Mᵀ = AᵀA/N with A = D Mᵀ, D the within-class deviations.
        let deviations = h - meansTensor.indexSelect(axis: 0, index: Tensor(y.map(Int64.init)))
        let a = deviations.matmul(centered.T)
        let s = (a.T.matmul(a) / Double(n)).contiguous().doubles
        let gram = centered.matmul(centered.T).contiguous().doubles
        let eigen = SymmetricEigen(gram.map { $0 / Double(c) }, n: c)
        let largest = eigen.values.last ?? 0
        var trace = 0.0
        for (lambda, u) in zip(eigen.values, eigen.vectors) where lambda > relativeTolerance * largest && lambda > 0 {
            var quadratic = 0.0
            for p in 0..<c { for q in 0..<c { quadratic += u[p] * s[p * c + q] * u[q] } }
            trace += quadratic / (Double(c) * lambda * lambda)
        }
        let withinTrace = (deviations * deviations).sum().item() / Double(n)
        let betweenTrace = (0..<c).reduce(0.0) { $0 + gram[$1 * c + $1] } / Double(c)

        // NC2 on the centered means and on the classifier rows.
        let meanGeometry = frameGeometry(gram, c)
        let classifierGeometry = frameGeometry(w.matmul(w.T).contiguous().doubles, c)

        // NC3.
        let mNorm = betweenTrace * Double(c), wNorm = (w * w).sum().item()
        let difference = w / Swift.max(wNorm.squareRoot(), 1e-300) - centered / Swift.max(mNorm.squareRoot(), 1e-300)
        let selfDuality = (difference * difference).sum().item()

        // NC4: the classifier's prediction against the nearest (uncentered) class mean;
        // argmin ‖h − μ_c‖² = argmin (‖μ_c‖² − 2h·μ_c).
        var logits = h.matmul(w.T)
        if let bias { logits = logits + bias.to(.float64) }
        let predicted = logits.argmax(axis: 1).scalars(as: Int64.self)
        let meanSquares = (meansTensor * meansTensor).sum(axis: 1)
        let nearest = (meanSquares - h.matmul(meansTensor.T) * 2).argmin(axis: 1).scalars(as: Int64.self)
        var mismatches = 0, errors = 0
        for i in 0..<n {
            if predicted[i] != nearest[i] { mismatches += 1 }
            if Int(predicted[i]) != y[i] { errors += 1 }
        }
        return NeuralCollapseReport(
            classCount: c, sampleCount: n, nc1: trace / Double(c),
            withinClassTrace: withinTrace, betweenClassTrace: betweenTrace,
            meanNormVariation: meanGeometry.normVariation, classifierNormVariation: classifierGeometry.normVariation,
            meanCosineStd: meanGeometry.cosineStd, classifierCosineStd: classifierGeometry.cosineStd,
            meanAngleDeviation: meanGeometry.angleDeviation, classifierAngleDeviation: classifierGeometry.angleDeviation,
            selfDuality: selfDuality, nccMismatch: Double(mismatches) / Double(n),
            classifierError: Double(errors) / Double(n))
    }
}

/// Measures neural collapse of `model` on `batches`: the penultimate features are the
/// inputs of the `Linear` layer named `classifier` (a dotted `namedModules()` name, read
/// with a forward hook in evaluation mode without gradients), and its weight and bias
/// are the classifier. Features of all batches are kept in memory (N × d floats).
public func neuralCollapse(of model: Layer, classifier: String, on batches: [Batch],
                           relativeTolerance: Double = 1e-10) -> NeuralCollapseReport {
    guard let linear = model.namedModules().first(where: { $0.name == classifier })?.module as? Linear else {
        fatalError("Fathom.neuralCollapse: no Linear layer named '\(classifier)' in the model; leaf layer names are \(leafLayerNames(model))")
    }
    precondition(!batches.isEmpty, "Fathom.neuralCollapse: no batches to measure on; pass at least one")
    var features: [Tensor] = []
    let handle = linear.addForwardHook { _, input, _ in features.append(input.clone()) }
    defer { linear.removeForwardHook(handle) }
    withModes(of: model, training: false) { noGrad { for batch in batches { _ = model(batch.inputs) } } }
    precondition(features.count == batches.count,
                 "Fathom.neuralCollapse: layer '\(classifier)' ran \(features.count) times for \(batches.count) batches; it must run once per forward pass")
    let labels = Tensor.cat(batches.map(\.labels))
    return neuralCollapse(features: Tensor.cat(features), labels: labels, weight: linear.weight,
                          bias: linear.bias, relativeTolerance: relativeTolerance)
}

/// Norm variation, cosine std and mean |cos + 1/(C−1)| of the C vectors whose Gram
/// matrix (row-major C×C) is `gram`.
private func frameGeometry(_ gram: [Double], _ c: Int) -> (normVariation: Double, cosineStd: Double, angleDeviation: Double) {
    let norms = (0..<c).map { Swift.max(gram[$0 * c + $0], 0).squareRoot() }
    let normMean = norms.reduce(0, +) / Double(c)
    let normVariance = norms.reduce(0) { $0 + ($1 - normMean) * ($1 - normMean) } / Double(c)
    var cosines: [Double] = []
    for p in 0..<c {
        for q in (p + 1)..<c {
            let denominator = norms[p] * norms[q]
            cosines.append(denominator > 0 ? gram[p * c + q] / denominator : 0)
        }
    }
    let cosMean = cosines.reduce(0, +) / Double(cosines.count)
    let cosVariance = cosines.reduce(0) { $0 + ($1 - cosMean) * ($1 - cosMean) } / Double(cosines.count)
    let simplex = -1 / Double(c - 1)
    let deviation = cosines.reduce(0) { $0 + Swift.abs($1 - simplex) } / Double(cosines.count)
    return (normMean > 0 ? normVariance.squareRoot() / normMean : 0, cosVariance.squareRoot(), deviation)
}
