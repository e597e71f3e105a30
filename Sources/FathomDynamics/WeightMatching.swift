import FathomNN
import FathomTensor

/// Git Re-Basin weight matching (Ainsworth, Hayase & Srinivasa 2023, Algorithm 1): find
/// permutations of model B's hidden units that bring its weights closest to model A's,
/// maximizing Σ over parameters ⟨W_A, π(W_B)⟩ (equivalently minimizing ‖W_A − π(W_B)‖²).
///
/// The objective couples the groups (a layer's weight is permuted on both axes), so it is
/// maximized by coordinate descent: each step fixes all groups but one, `g`, and solves
/// the linear assignment with similarity S = Σ over every (key, axis) that `g` acts on of
/// W_A · π₋ₐₓᵢₛ(W_B)ᵀ, where both are flattened to [units, rest] along that axis and
/// π₋ₐₓᵢₛ applies the other groups' current permutations. A sweep visits every group; the
/// search stops after a sweep in which no group improved its term by more than 1e-12.
public enum WeightMatching {
    /// The order in which a sweep visits the groups.
    public enum SweepOrder {
        /// A fresh random order each sweep, drawn from `seed` (the paper's choice).
        case random(seed: UInt64)
        /// The same order every sweep (groups not listed are skipped).
        case fixed([String])
    }

    /// What a weight-matching run found.
    public struct Result {
        /// The permutation of each group: apply them to B (`spec.apply(_:to:)`) to get B′.
        public var permutations: Permutations
        /// Sweeps run, the last one being the sweep without progress (or `maxSweeps`).
        public var sweeps: Int
        /// Σ over parameters ⟨W_A, W_B′⟩ before and after (in float64).
        public var initialSimilarity: Double, finalSimilarity: Double
    }

    /// Matches `b` to `a` (both state dicts of the same architecture, described by `spec`).
    ///
    /// - Parameters:
    ///   - order: the sweep order (default: random, seed 0).
    ///   - maxSweeps: a bound on the sweeps (the paper's `max_iter`, 100).
    ///   - includeRunningStatistics: let batch-norm `running_mean`/`running_var` enter the
    ///     similarity (they are always permuted by `apply`; by default only weights count).
    ///   - initial: permutations to start from (default: the identity).
    public static func match(_ spec: PermutationSpec, reference a: StateDict, other b: StateDict,
                             order: SweepOrder = .random(seed: 0), maxSweeps: Int = 100,
                             includeRunningStatistics: Bool = false,
                             initial: Permutations? = nil) -> Result {
        let sizes = spec.groupSizes(in: a)
        let sizesB = spec.groupSizes(in: b)
        precondition(sizes == sizesB,
                     "Fathom.WeightMatching.match: the two state dicts have different group sizes (\(sizes) vs \(sizesB)); both models must have the same architecture")
        let counted: (String) -> Bool = { key in
            includeRunningStatistics || !(key.hasSuffix(".running_mean") || key.hasSuffix(".running_var"))
        }
        var perm = spec.identity(for: a)
        if let initial { for (g, p) in initial where perm[g] != nil { perm[g] = p } }
        let groups = spec.groups.filter { sizes[$0] != nil }
        // Float64 copies once, so every similarity is accumulated in double precision.
        let a64 = noGrad { Dictionary(uniqueKeysWithValues: a.entries.map { ($0.key, $0.tensor.to(.float64)) }) }
        let b64 = noGrad { Dictionary(uniqueKeysWithValues: b.entries.map { ($0.key, $0.tensor.to(.float64)) }) }

        func similarity(_ group: String) -> [Double] {
            let n = sizes[group]!
            var total = Tensor.zeros([n, n], dtype: .float64)
            noGrad {
                for (key, axis) in spec.axes(of: group) where counted(key) {
                    guard let wa = a64[key], let wbRaw = b64[key] else { continue }
                    let wb = spec.permuted(wbRaw, key: key, by: perm, exceptAxis: axis)
                    total = total + unitsFirst(wa, axis: axis).matmul(unitsFirst(wb, axis: axis).transposed())
                }
            }
            return total.doubles
        }

        func objective() -> Double {
            noGrad {
                var sum = 0.0
                for key in spec.keys where counted(key) {
                    guard let wa = a64[key], let wb = b64[key] else { continue }
                    sum += (wa * spec.permuted(wb, key: key, by: perm, exceptAxis: nil)).sum().item()
                }
                return sum
            }
        }

        let initialSimilarity = objective()
        let generator: Generator?
        switch order {
        case .random(let seed): generator = Generator(seed: seed)
        case .fixed: generator = nil
        }
        var sweeps = 0
        while sweeps < maxSweeps {
            sweeps += 1
            let visit: [String]
            switch order {
            case .random: visit = Tensor.randperm(groups.count, generator: generator).scalars(as: Int64.self).map { groups[Int($0)] }
            case .fixed(let names): visit = names.filter { sizes[$0] != nil }
            }
            var progress = false
            for group in visit {
                let n = sizes[group]!
                let s = similarity(group)
                let best = LinearAssignment.solve(s, rows: n, columns: n, maximize: true)
                let old = LinearAssignment.total(s, columns: n, assignment: perm[group]!)
                let new = LinearAssignment.total(s, columns: n, assignment: best)
                if new > old + 1e-12 { progress = true }
                perm[group] = best
            }
            if !progress { break }
        }
        return Result(permutations: perm, sweeps: sweeps, initialSimilarity: initialSimilarity,
                      finalSimilarity: objective())
    }
}

/// `w` with `axis` moved to the front and the rest flattened: [units, everything else].
func unitsFirst(_ w: Tensor, axis: Int) -> Tensor {
    var order = Array(0..<w.rank)
    order.remove(at: axis)
    let moved = w.permuted([axis] + order)
    return moved.contiguous().reshaped([w.shape[axis], w.count / Swift.max(w.shape[axis], 1)])
}
