import FathomNN
import FathomTensor

/// Linear centered kernel alignment between two representations of the same N examples
/// (Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of Neural Network Representations
/// Revisited", ICML; eq. for linear CKA):
///
///     CKA(X, Y) = ‖YᵀX‖²_F / (‖XᵀX‖_F · ‖YᵀY‖_F)
///
/// on column-centered X [N, p] and Y [N, q] (inputs with more axes are flattened per
/// example to [N, …]; the centering is done here). It lies in [0, 1], is 1 for Y = X, and
/// is invariant to orthogonal transforms and isotropic scaling of either side (not to
/// arbitrary invertible linear maps). Computed in float64, through the p×q feature-space
/// products or through the N×N Gram matrices (‖YᵀX‖²_F = ⟨XXᵀ, YYᵀ⟩_F), whichever is
/// cheaper. Returns 0 when either side is constant across examples.
public func linearCKA(_ x: Tensor, _ y: Tensor) -> Double {
    precondition(x.rank >= 1 && y.rank >= 1 && x.shape[0] == y.shape[0] && x.shape[0] > 0,
                 "Fathom.linearCKA: X \(x.shape) and Y \(y.shape) must hold the same number (> 0) of examples along axis 0")
    let a = CenteredFeatures(x), b = CenteredFeatures(y)
    return a.cka(with: b)
}

/// Column-centered float64 features [N, p] with their self-similarity ‖XᵀX‖_F, kept so
/// that a matrix of CKA values computes each layer's part once.
struct CenteredFeatures {
    let values: Tensor
    let selfNorm: Double

    init(_ features: Tensor) {
        values = noGrad {
            let x = features.to(.float64).reshaped([features.shape[0], -1])
            return (x - x.mean(axis: 0, keepDims: true)).contiguous()
        }
        selfNorm = crossSimilarity(values, values).squareRoot()
    }

    func cka(with other: CenteredFeatures) -> Double {
        let denominator = selfNorm * other.selfNorm
        guard denominator > 0 else { return 0 }
        return crossSimilarity(values, other.values) / denominator
    }
}

/// ‖YᵀX‖²_F for X [N, p], Y [N, q], by whichever route needs fewer multiplications.
private func crossSimilarity(_ x: Tensor, _ y: Tensor) -> Double {
    let n = x.shape[0], p = x.shape[1], q = y.shape[1]
    return noGrad {
        if n * p * q <= n * n * (p + q + 1) {
            let c = y.T.matmul(x)
            return (c * c).sum().item()
        }
        return (x.matmul(x.T) * y.matmul(y.T)).sum().item()
    }
}

/// Linear CKA between every pair of layers of two networks on the same inputs.
public struct CKAMatrix: Codable, Equatable, Sendable {
    /// The first network's layer names (rows), dotted `namedModules()` names.
    public var rowLayers: [String]
    /// The second network's layer names (columns).
    public var columnLayers: [String]
    /// `values[i][j]` = CKA(rowLayers[i] of the first network, columnLayers[j] of the second).
    public var values: [[Double]]

    enum CodingKeys: String, CodingKey {
        case rowLayers = "row_layers", columnLayers = "column_layers", values
    }
}

/// The linear CKA matrix between the layers of `first` and `second` on `inputs`.
///
/// Each layer's output is read with a forward hook on the module of that name (default:
/// `leafLayerNames` of each model) during one forward pass per model, in evaluation mode
/// and without gradients (modes are restored). Outputs are flattened per example. Pass
/// the same model twice to compare a network's layers with each other.
public func layerCKA(_ first: Layer, _ second: Layer, inputs: Tensor,
                     firstLayers: [String]? = nil, secondLayers: [String]? = nil) -> CKAMatrix {
    let rows = firstLayers ?? leafLayerNames(first)
    let columns = secondLayers ?? leafLayerNames(second)
    let a = captureLayerOutputs(first, inputs: inputs, layers: rows, op: "layerCKA").map(CenteredFeatures.init)
    let b = captureLayerOutputs(second, inputs: inputs, layers: columns, op: "layerCKA").map(CenteredFeatures.init)
    return CKAMatrix(rowLayers: rows, columnLayers: columns, values: a.map { fa in b.map { fa.cka(with: $0) } })
}

/// The outputs of the modules named `layers` in one evaluation-mode, gradient-free
/// forward pass of `model` on `inputs`, in the order of `layers` (copies, so later
/// in-place updates do not change them; a module that runs twice reports its last call).
func captureLayerOutputs(_ model: Layer, inputs: Tensor, layers: [String], op: String) -> [Tensor] {
    let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
    var captured: [String: Tensor] = [:]
    let handles: [(Layer, Int)] = layers.map { name in
        guard let layer = modules[name] as? Layer else {
            fatalError("Fathom.\(op): no layer named '\(name)' in the model; leaf layer names are \(leafLayerNames(model))")
        }
        return (layer, layer.addForwardHook { _, _, output in captured[name] = output.clone() })
    }
    defer { for (layer, handle) in handles { layer.removeForwardHook(handle) } }
    withModes(of: model, training: false) { noGrad { _ = model(inputs) } }
    return layers.map { name in
        guard let output = captured[name] else {
            fatalError("Fathom.\(op): layer '\(name)' did not run in the forward pass")
        }
        return output
    }
}
