import FathomData
import FathomNN
import FathomTensor

// Loss landscapes after Li, Xu, Taylor, Studer & Goldstein (2018), "Visualizing the Loss
// Landscape of Neural Nets": the loss on θ* + α·δ (1-D) or θ* + α·δ + β·η (2-D) for
// random directions δ, η rescaled filter by filter to the weights' norms, or along the
// A→B line of two models plus an orthogonal direction.

/// A random direction with filter normalization (Li et al. 2018, §4): a Gaussian
/// direction d of each parameter's shape, then for every filter (each slice along axis 0:
/// a row of a Linear weight, an output channel of a convolution) d_i ← d_i / ‖d_i‖ · ‖w_i‖.
///
/// Parameters of rank ≤ 1 (biases, BatchNorm weights and biases) get a zero direction when
/// `ignoreBiasAndBatchNorm` (the authors' `--xignore biasbn`, used for their figures);
/// otherwise they get a copy of the weights themselves, as the authors' code does.
public func filterNormalizedDirection(_ model: Module, generator: Generator? = nil,
                                      ignoreBiasAndBatchNorm: Bool = true) -> ParameterVector {
    ParameterVector(noGrad {
        model.parameters().map { w in
            if w.rank <= 1 {
                return ignoreBiasAndBatchNorm ? Tensor.zeros(w.shape, dtype: w.dtype) : w.clone()
            }
            let d = Tensor.randn(w.shape, dtype: w.dtype, generator: generator)
            let rows = [w.shape[0], -1]
            let dn = d.reshaped(rows).norm(axis: 1, keepDims: true)
            let wn = w.reshaped(rows).norm(axis: 1, keepDims: true)
            // The authors add 1e-10 to ‖d_i‖ so an all-zero draw cannot divide by zero.
            return (d.reshaped(rows) * (wn / (dn + 1e-10))).reshaped(w.shape)
        }
    })
}

/// The plane through two models for a 2-D landscape: u = θB − θA, and v = `random` made
/// orthogonal to u by one Gram–Schmidt step (v ← r − (⟨r, u⟩/⟨u, u⟩)·u) and scaled to ‖u‖,
/// so θA + x·u + y·v is θA at (0, 0) and θB at (1, 0).
public func interpolationPlane(from a: ParameterVector, to b: ParameterVector,
                               random: ParameterVector) -> (u: ParameterVector, v: ParameterVector) {
    let u = b - a
    let uu = u.dot(u)
    precondition(uu > 0, "Fathom.interpolationPlane: the two models are identical, so there is no A→B direction")
    let r = random - (random.dot(u) / uu) * u
    let rn = r.norm
    precondition(rn > 0, "Fathom.interpolationPlane: the random direction is parallel to B − A; draw another")
    return (u, (uu.squareRoot() / rn) * r)
}

/// Loss and error on a 1-D slice θ = center + α·direction.
public struct LossSlice: Codable, Equatable, Sendable {
    public var alphas: [Double]
    public var losses: [Double]
    public var errors: [Double]

    enum CodingKeys: String, CodingKey { case alphas = "alpha", losses = "loss", errors = "error" }
}

/// Loss and error on a 2-D grid θ = center + x·d1 + y·d2; `losses[i][j]` is at
/// (`xs[i]`, `ys[j]`).
public struct LossSurface: Codable, Equatable, Sendable {
    public var xs: [Double]
    public var ys: [Double]
    public var losses: [[Double]]
    public var errors: [[Double]]

    enum CodingKeys: String, CodingKey { case xs = "x", ys = "y", losses = "loss", errors = "error" }
}

/// Evaluates `model` (evaluation mode) on `data` at center + α·direction for each α. Only
/// parameters move (buffers such as BatchNorm statistics stay); they are restored afterwards.
public func lossSlice(_ model: Layer, center: ParameterVector, direction: ParameterVector,
                      alphas: [Double], on data: [Batch]) -> LossSlice {
    let points = alphas.map { evaluate(model, at: center, [(direction, $0)], on: data) }
    return LossSlice(alphas: alphas, losses: points.map(\.loss), errors: points.map(\.error))
}

/// Evaluates `model` (evaluation mode) on `data` at center + x·d1 + y·d2 over the grid
/// `xs` × `ys`. Only parameters move; they are restored afterwards.
public func lossSurface(_ model: Layer, center: ParameterVector, _ d1: ParameterVector, _ d2: ParameterVector,
                        xs: [Double], ys: [Double], on data: [Batch]) -> LossSurface {
    var losses: [[Double]] = [], errors: [[Double]] = []
    for x in xs {
        let row = ys.map { y in evaluate(model, at: center, [(d1, x), (d2, y)], on: data) }
        losses.append(row.map(\.loss))
        errors.append(row.map(\.error))
    }
    return LossSurface(xs: xs, ys: ys, losses: losses, errors: errors)
}

/// Loads center + Σ step·direction into the parameters, evaluates, and restores them.
private func evaluate(_ model: Layer, at center: ParameterVector, _ steps: [(ParameterVector, Double)],
                      on data: [Batch]) -> Evaluation {
    let saved = ParameterVector(copying: model)
    defer { saved.load(into: model) }
    var point = center
    for (direction, step) in steps where step != 0 { point = point + step * direction }
    point.load(into: model)
    return evaluate(model, on: data)
}
