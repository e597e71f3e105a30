import FathomNN
import FathomTensor

/// Layerwise Linear Feature Connectivity of one layer at one λ: how far the layer's
/// features in the interpolated network are from the interpolation of the endpoint
/// networks' features (Zhou, Yang, Yang, Yan & Hu 2023, "Going Beyond Linear Mode
/// Connectivity: The Layerwise Linear Feature Connectivity", NeurIPS).
///
/// The paper's definition (their α weights θA; here λ weights θB, α = 1 − λ): θA and θB
/// satisfy LLFC on data D if for every layer ℓ and every λ ∈ [0, 1] there is c > 0 with
/// c·f_ℓ(θλ; x) = (1 − λ)·f_ℓ(θA; x) + λ·f_ℓ(θB; x) for all x ∈ D, where
/// θλ = (1 − λ)θA + λθB. They measure it by E_x[1 − cos(f_ℓ(θλ; x), (1 − λ)f_ℓ(θA; x) +
/// λf_ℓ(θB; x))] (`cosineDistancePerSample` here) against the baseline
/// E_x[1 − cos(f_ℓ(θA; x), f_ℓ(θB; x))] (`baselineCosineDistancePerSample`).
///
/// With F = f_ℓ(θλ) and I = (1 − λ)f_ℓ(θA) + λf_ℓ(θB) (each sample flattened):
/// - `cosineDistance` = 1 − ⟨F, I⟩ / (‖F‖‖I‖) over the whole flattened batch;
/// - `cosineDistancePerSample` = mean over samples of 1 − cos(F_x, I_x) (the paper's);
/// - `scale` = ⟨F, I⟩ / ‖I‖², the least-squares c minimizing ‖F − c·I‖ (1 when LLFC
///   holds with the paper's c = 1, which is what they observe for spawned networks);
/// - `relativeError` = ‖F − scale·I‖ / ‖F‖, the residual that scale leaves;
/// - the baselines compare f_ℓ(θA) with f_ℓ(θB) the same two ways.
///
/// A sample whose two vectors are both zero has cosine distance 0; one zero and one
/// non-zero, distance 1 (ReLU features can vanish for a sample).
public struct LLFCLayerResult: Codable, Equatable, Sendable {
    /// The layer's dotted module name (`namedModules()`).
    public var layer: String
    public var lambda: Double
    public var cosineDistance: Double
    public var cosineDistancePerSample: Double
    public var scale: Double
    public var relativeError: Double
    public var baselineCosineDistance: Double
    public var baselineCosineDistancePerSample: Double

    enum CodingKeys: String, CodingKey {
        case layer, lambda
        case cosineDistance = "llfc_cosine_distance"
        case cosineDistancePerSample = "llfc_cosine_distance_per_sample"
        case scale = "llfc_scale"
        case relativeError = "llfc_relative_error"
        case baselineCosineDistance = "baseline_cosine_distance"
        case baselineCosineDistancePerSample = "baseline_cosine_distance_per_sample"
    }
}

/// The names of the layers LLFC looks at by default: every `Layer` in `model` without
/// children (so containers such as `Sequential` are skipped), in `namedModules()` order.
public func leafLayerNames(_ model: Module) -> [String] {
    model.namedModules().filter { $0.module is Layer && $0.module.namedChildren().isEmpty }.map(\.name)
}

/// Measures LLFC between the endpoints of `path` on `inputs` for each λ and each layer.
///
/// Layer outputs are read with forward hooks on the modules named `layers` (default:
/// `leafLayerNames(model)`); the model runs in evaluation mode without gradients, and its
/// state and modes are restored afterwards. Results are ordered by λ, then layer.
public func layerwiseLinearFeatureConnectivity(_ model: Layer, along path: LinearPath, inputs: Tensor,
                                               lambdas: [Double], layers: [String]? = nil) -> [LLFCLayerResult] {
    let names = layers ?? leafLayerNames(model)
    let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
    let hooked: [(String, Layer)] = names.map { name in
        guard let layer = modules[name] as? Layer else {
            fatalError("Fathom.layerwiseLinearFeatureConnectivity: no layer named '\(name)' in the model; names are \(leafLayerNames(model))")
        }
        return (name, layer)
    }
    let original = StateDict(noGrad { model.stateDict().entries.map { ($0.key, $0.tensor.clone()) } })
    defer { try? model.load(stateDict: original) }

    // The features of every hooked layer at one λ, flattened per sample to [N, D], float64.
    func features(_ lambda: Double) -> [Tensor] {
        path.load(lambda, into: model)
        var captured: [String: Tensor] = [:]
        let handles = hooked.map { name, layer in
            (layer, layer.addForwardHook { _, _, output in captured[name] = output.to(.float64).clone() })
        }
        defer { for (layer, handle) in handles { layer.removeForwardHook(handle) } }
        withModes(of: model, training: false) { noGrad { _ = model(inputs) } }
        return hooked.map { name, _ in
            guard let f = captured[name] else {
                fatalError("Fathom.layerwiseLinearFeatureConnectivity: layer '\(name)' did not run in the forward pass")
            }
            return f.reshaped([f.shape.first ?? 1, -1])
        }
    }

    let fa = features(0), fb = features(1)
    var results: [LLFCLayerResult] = []
    for lambda in lambdas {
        let fl = features(lambda)
        for (i, (name, _)) in hooked.enumerated() {
            let interpolated = fa[i] * (1 - lambda) + fb[i] * lambda
            let (cosine, perSample, scale, residual) = compareFeatures(fl[i], interpolated)
            let (baseline, baselinePerSample, _, _) = compareFeatures(fa[i], fb[i])
            results.append(LLFCLayerResult(layer: name, lambda: lambda, cosineDistance: cosine,
                                           cosineDistancePerSample: perSample, scale: scale, relativeError: residual,
                                           baselineCosineDistance: baseline,
                                           baselineCosineDistancePerSample: baselinePerSample))
        }
    }
    return results
}

/// Global cosine distance, mean per-sample cosine distance, least-squares scale c
/// (minimizing ‖f − c·g‖) and relative residual ‖f − c·g‖/‖f‖ of two [N, D] float64 tensors.
func compareFeatures(_ f: Tensor, _ g: Tensor) -> (cosine: Double, perSample: Double, scale: Double, residual: Double) {
    noGrad {
        let fg = (f * g).sum(axis: 1), ff = (f * f).sum(axis: 1), gg = (g * g).sum(axis: 1)
        let dot = fg.sum().item(), f2 = ff.sum().item(), g2 = gg.sum().item()
        let cosine = cosineDistance(dot, f2, g2)
        let rows = fg.shape[0]
        let d = fg.scalars(as: Double.self), a = ff.scalars(as: Double.self), b = gg.scalars(as: Double.self)
        var total = 0.0
        for r in 0..<rows { total += cosineDistance(d[r], a[r], b[r]) }
        let scale = g2 > 0 ? dot / g2 : 0
        // ‖f − c·g‖ computed directly (the expanded ‖f‖² − c⟨f, g⟩ cancels badly near 0).
        let residual = f2 > 0 ? ((f - g * scale) * (f - g * scale)).sum().item().squareRoot() / f2.squareRoot() : 0
        return (cosine, rows > 0 ? total / Double(rows) : 0, scale, residual)
    }
}

/// 1 − dot/(√a·√b), with 0 when both vectors are zero and 1 when exactly one is; rounding
/// that pushes the cosine past ±1 is clipped, so the distance lies in [0, 2].
private func cosineDistance(_ dot: Double, _ a: Double, _ b: Double) -> Double {
    if a == 0 && b == 0 { return 0 }
    if a == 0 || b == 0 { return 1 }
    return 1 - Swift.min(1, Swift.max(-1, dot / (a.squareRoot() * b.squareRoot())))
}
