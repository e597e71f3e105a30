import FathomNN
import FathomTensor

/// Permutations of hidden units by group name: `permutations[g][i]` is the unit of the
/// original model that becomes unit `i` of the permuted one (Git Re-Basin's convention,
/// `w.take(perm, axis)`).
public typealias Permutations = [String: [Int]]

extension PermutationSpec {
    /// The identity permutation of every group of the spec, sized from `state`.
    public func identity(for state: StateDict) -> Permutations {
        groupSizes(in: state).mapValues { Array(0..<$0) }
    }

    /// `state` with every spec'd axis reordered by its group's permutation: the state dict
    /// of the permuted model B′, which computes the same function as `state`'s model. Keys
    /// that the spec does not list, and groups missing from `permutations`, are copied
    /// unchanged. The result holds fresh tensors (the input is not modified).
    public func apply(_ permutations: Permutations, to state: StateDict) -> StateDict {
        let sizes = groupSizes(in: state)
        for (group, perm) in permutations {
            guard let n = sizes[group] else { continue }
            precondition(isPermutation(perm, of: n),
                         "Fathom.PermutationSpec.apply: the permutation of group '\(group)' must list each of 0..<\(n) once, got \(perm.count) entries")
        }
        return StateDict(noGrad {
            state.entries.map { key, tensor in
                (key, permuted(tensor, key: key, by: permutations, exceptAxis: nil).clone())
            }
        })
    }

    /// `tensor` (the value of `key`) reordered along each spec'd axis but `exceptAxis`.
    /// Returns the input itself when nothing applies.
    func permuted(_ tensor: Tensor, key: String, by permutations: Permutations, exceptAxis: Int?) -> Tensor {
        guard let axes = self[key] else { return tensor }
        var result = tensor
        for (axis, group) in axes.enumerated() where axis != exceptAxis {
            guard let group, let perm = permutations[group] else { continue }
            result = result.indexSelect(axis: axis, index: Tensor(perm.map(Int64.init)))
        }
        return result
    }
}

/// The inverse of each permutation: applying `p` and then `inverse(p)` restores the model.
public func inverse(_ permutations: Permutations) -> Permutations {
    permutations.mapValues { perm in
        var inv = [Int](repeating: 0, count: perm.count)
        for (i, j) in perm.enumerated() { inv[j] = i }
        return inv
    }
}

/// True when `perm` lists each of `0..<n` exactly once.
func isPermutation(_ perm: [Int], of n: Int) -> Bool {
    guard perm.count == n else { return false }
    var seen = [Bool](repeating: false, count: n)
    for j in perm {
        guard j >= 0, j < n, !seen[j] else { return false }
        seen[j] = true
    }
    return true
}
