import FathomNN
import FathomTensor

/// Git Re-Basin activation matching (Ainsworth et al. 2023, §3.1; Li et al. 2015): run both
/// models on the same batch, read each permuted layer's output with a forward hook, and
/// pair B's units with A's so that their activations agree best.
///
/// Permuting B's hidden units only reorders its activations, so each layer's problem is
/// independent of the others: one linear assignment per group, no iteration.
public enum ActivationMatching {
    /// How two units' activations are compared.
    public enum Objective {
        /// Maximize Σ Pearson correlation between paired units (over batch and positions).
        case correlation
        /// Minimize Σ ‖a_i − b_π(i)‖² between paired units' activations.
        case squaredDistance
    }

    /// The permutation of each group in `layers` that matches `modelB`'s units to `modelA`'s.
    ///
    /// - Parameters:
    ///   - layers: for each group, the name (as in `namedModules()`) of a layer whose output
    ///     carries that group's units on axis 1 (`[N, C]` or `[N, C, H, W]`), e.g. the ReLU
    ///     after a hidden Linear. Both models must be `Layer`s there (hooks run on layers).
    ///   - input: the batch both models see (call `eval()` first for batch norm/dropout).
    /// - Returns: permutations in `PermutationSpec.apply`'s convention (B′ unit i = B unit π[i]).
    public static func match(_ modelA: Module, _ modelB: Module, input: Tensor, layers: [String: String],
                             objective: Objective = .correlation) -> Permutations {
        let actsA = activations(of: modelA, input: input, layers: Array(layers.values))
        let actsB = activations(of: modelB, input: input, layers: Array(layers.values))
        var result: Permutations = [:]
        for (group, name) in layers {
            let a = actsA[name]!, b = actsB[name]!
            precondition(a.shape == b.shape,
                         "Fathom.ActivationMatching.match: layer '\(name)' gives shape \(a.shape) in model A but \(b.shape) in model B; the models must have the same architecture")
            let n = a.shape[0]
            let s = noGrad { similarity(a, b, objective) }
            result[group] = LinearAssignment.solve(s.doubles, rows: n, columns: n, maximize: true)
        }
        return result
    }

    /// The outputs of the named layers on `input`, as float64 `[units, samples]` matrices.
    static func activations(of model: Module, input: Tensor, layers: [String]) -> [String: Tensor] {
        let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
        var captured: [String: Tensor] = [:]
        var handles: [(Layer, Int)] = []
        for name in Set(layers) {
            guard let layer = modules[name] as? Layer else {
                fatalError("Fathom.ActivationMatching: the model has no layer named '\(name)' (modules: \(modules.keys.sorted().prefix(20)) …); name a Layer from namedModules()")
            }
            let handle = layer.addForwardHook { _, _, output in
                precondition(output.rank >= 2, "Fathom.ActivationMatching: layer '\(name)' gives shape \(output.shape); need [N, C, …]")
                captured[name] = noGrad { unitsFirst(output.to(.float64), axis: 1) }
            }
            handles.append((layer, handle))
        }
        defer { for (layer, handle) in handles { layer.removeForwardHook(handle) } }
        noGrad {
            if let layer = model as? Layer { _ = layer(input) } else {
                fatalError("Fathom.ActivationMatching: the model must be a Layer (single input) to be run on a batch")
            }
        }
        return captured
    }

    /// S[i][j]: how well B's unit j stands in for A's unit i (larger is better).
    static func similarity(_ a: Tensor, _ b: Tensor, _ objective: Objective) -> Tensor {
        switch objective {
        case .correlation:
            return standardized(a).matmul(standardized(b).transposed()) * (1.0 / Double(a.shape[1]))
        case .squaredDistance:
            // ‖a_i − b_j‖² = ‖a_i‖² − 2 a_i·b_j + ‖b_j‖²; the first term does not depend on j.
            let cross = a.matmul(b.transposed()) * 2.0
            return cross - (b * b).sum(axes: [1]).reshaped([1, b.shape[0]])
        }
    }

    /// Rows centered and scaled to unit variance (a constant row becomes zero, not NaN).
    static func standardized(_ x: Tensor) -> Tensor {
        let centered = x - x.mean(axes: [1], keepDims: true)
        let std = ((centered * centered).mean(axes: [1], keepDims: true)).sqrt()
        return centered / (std + 1e-12)
    }
}
