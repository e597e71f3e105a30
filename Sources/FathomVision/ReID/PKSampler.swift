import FathomData

/// P×K batch sampling for metric learning (Hermans et al. 2017; torchreid's
/// `RandomIdentitySampler`): each batch holds K images of each of P identities, so every
/// anchor has positives and negatives for the batch-hard triplet loss.
///
/// Per epoch the identities are shuffled and taken P at a time (a last group of fewer than
/// P identities is dropped); each identity contributes K of its images, drawn without
/// replacement when it has at least K and with replacement otherwise. Deterministic in
/// `(seed, epoch)`.
public struct PKSampler: Sendable {
    public let p: Int, k: Int
    public let seed: UInt64
    /// The sample indices of each identity, identities in ascending label order.
    public let groups: [[Int]]

    /// - Parameter labels: the identity label of every sample (any integers; negative
    ///   labels, e.g. DBSCAN noise, are left out).
    public init(labels: [Int], p: Int, k: Int, seed: UInt64 = 0) {
        precondition(p >= 2 && k >= 1, "Fathom.PKSampler: need p ≥ 2 identities and k ≥ 1 images per batch, got p = \(p), k = \(k)")
        var byLabel: [Int: [Int]] = [:]
        for (i, label) in labels.enumerated() where label >= 0 { byLabel[label, default: []].append(i) }
        groups = byLabel.keys.sorted().map { byLabel[$0]! }
        precondition(groups.count >= p, "Fathom.PKSampler: \(groups.count) identities are fewer than p = \(p)")
        self.p = p
        self.k = k
        self.seed = seed
    }

    /// Batches per epoch.
    public var batchCount: Int { groups.count / p }

    /// The batches of `epoch`, each `p·k` sample indices, identity by identity.
    public func batches(epoch: Int) -> [[Int]] {
        var rng = SplitMix64(seed: seed, stream: UInt64(epoch))
        var order = Array(groups.indices)
        shuffle(&order, &rng)
        return (0..<batchCount).map { b in
            order[(b * p)..<((b + 1) * p)].flatMap { g -> [Int] in
                let members = groups[g]
                if members.count >= k {
                    var copy = members
                    shuffle(&copy, &rng)
                    return Array(copy.prefix(k))
                }
                return (0..<k).map { _ in members[Int(rng.next(below: UInt64(members.count)))] }
            }
        }
    }

    private func shuffle(_ values: inout [Int], _ rng: inout SplitMix64) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, Int(rng.next(below: UInt64(i + 1))))
        }
    }
}
