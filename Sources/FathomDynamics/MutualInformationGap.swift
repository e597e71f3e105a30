import Foundation
import FathomTensor

/// The Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in
/// VAEs"): for each ground-truth factor v_k, the gap between the two largest mutual
/// informations I(z_j; v_k) over latents j, divided by the factor's entropy H(v_k), then
/// averaged over factors. 1 means every factor is captured by one latent alone; 0 means
/// no latent stands out.
///
/// Mutual information is estimated as disentanglement_lib does: every latent is discretised
/// into `bins` equal-width bins over its observed range (`np.histogram` edges,
/// `np.digitize` on all but the last), and I and H are the plug-in estimates from the joint
/// counts, in nats (`sklearn.metrics.mutual_info_score`).
public struct MutualInformationGap: Sendable {
    /// The MIG: the mean of `perFactor` over factors with non-zero entropy.
    public let score: Double
    /// (I₁ − I₂)/H(v_k) per factor (NaN for a constant factor, which has no entropy).
    public let perFactor: [Double]
    /// I(z_j; v_k) in nats, `[latent][factor]`.
    public let mutualInformation: [[Double]]
    /// H(v_k) in nats per factor.
    public let factorEntropies: [Double]
}

/// The MIG of latent codes `latents` `[N, D]` (float; usually the posterior means) against
/// integer factor values `factors` `[N, K]` (int64, any non-negative or negative integers).
public func mutualInformationGap(latents: Tensor, factors: Tensor, bins: Int = 20) -> MutualInformationGap {
    do { return try mutualInformationGap(validating: latents, factors: factors, bins: bins) } catch {
        fatalError(error.description)
    }
}

/// `mutualInformationGap` that throws on misuse instead of stopping.
public func mutualInformationGap(validating latents: Tensor, factors: Tensor, bins: Int = 20) throws(TensorError) -> MutualInformationGap {
    let op = "mutualInformationGap"
    guard latents.rank == 2, factors.rank == 2, latents.shape[0] == factors.shape[0], latents.shape[0] > 0 else {
        throw TensorError(op: op, "latents \(latents.shape) and factors \(factors.shape) must be [N, D] and [N, K] with the same N > 0")
    }
    guard latents.dtype == .float32 || latents.dtype == .float64, factors.dtype == .int64 else {
        throw TensorError(op: op, "latents must be float32/float64 and factors int64, got \(latents.dtype) and \(factors.dtype)")
    }
    guard latents.shape[1] >= 2 else {
        throw TensorError(op: op, "MIG needs at least 2 latents (a gap between the top two), got \(latents.shape[1])")
    }
    guard bins >= 1 else { throw TensorError(op: op, "bins must be positive, got \(bins)") }
    let n = latents.shape[0], d = latents.shape[1], k = factors.shape[1]
    let z = latents.doubles
    let v = factors.contiguous().scalars(as: Int64.self)

    let codes = (0..<d).map { j in histogramDiscretize((0..<n).map { z[$0 * d + j] }, bins: bins) }
    let labels = (0..<k).map { c in denseLabels((0..<n).map { v[$0 * k + c] }) }
    let entropies = labels.map { entropy($0.labels, $0.count) }
    var mi = [[Double]](repeating: [Double](repeating: 0, count: k), count: d)
    for j in 0..<d {
        for c in 0..<k {
            mi[j][c] = mutualInformation(codes[j], bins, labels[c].labels, labels[c].count)
        }
    }
    var perFactor = [Double](repeating: .nan, count: k)
    for c in 0..<k where entropies[c] > 0 {
        let sorted = (0..<d).map { mi[$0][c] }.sorted(by: >)
        perFactor[c] = (sorted[0] - sorted[1]) / entropies[c]
    }
    let valid = perFactor.filter { !$0.isNaN }
    return MutualInformationGap(score: valid.isEmpty ? .nan : valid.reduce(0, +) / Double(valid.count),
                                perFactor: perFactor, mutualInformation: mi, factorEntropies: entropies)
}

/// Bin indices 0..<bins: equal-width bins over [min, max] (the last bin closed), as
/// `np.digitize(x, np.histogram(x, bins)[1][:-1]) - 1`.
func histogramDiscretize(_ values: [Double], bins: Int) -> [Int] {
    var lo = values.min()!, hi = values.max()!
    // np.histogram widens an empty range to [x − 0.5, x + 0.5].
    if lo == hi { lo -= 0.5; hi += 0.5 }
    let step = (hi - lo) / Double(bins)
    let edges = (0..<bins).map { lo + Double($0) * step }
    return values.map { x in
        // The number of left edges ≤ x, minus one (edges are sorted; bins is small).
        var b = 0
        while b + 1 < bins && edges[b + 1] <= x { b += 1 }
        return b
    }
}

/// Integer labels renumbered 0..<count in order of first appearance.
func denseLabels(_ values: [Int64]) -> (labels: [Int], count: Int) {
    var map: [Int64: Int] = [:]
    let labels = values.map { v -> Int in
        if let i = map[v] { return i }
        map[v] = map.count
        return map.count - 1
    }
    return (labels, map.count)
}

/// Plug-in entropy in nats.
func entropy(_ labels: [Int], _ count: Int) -> Double {
    var counts = [Int](repeating: 0, count: count)
    for l in labels { counts[l] += 1 }
    let n = Double(labels.count)
    return -counts.reduce(0.0) { h, c in c == 0 ? h : h + Double(c) / n * Foundation.log(Double(c) / n) }
}

/// Plug-in mutual information in nats from the joint counts of two label sequences.
func mutualInformation(_ a: [Int], _ aCount: Int, _ b: [Int], _ bCount: Int) -> Double {
    var joint = [Int](repeating: 0, count: aCount * bCount)
    var ca = [Int](repeating: 0, count: aCount), cb = [Int](repeating: 0, count: bCount)
    for i in a.indices {
        joint[a[i] * bCount + b[i]] += 1
        ca[a[i]] += 1
        cb[b[i]] += 1
    }
    let n = Double(a.count)
    var total = 0.0
    for x in 0..<aCount {
        for y in 0..<bCount where joint[x * bCount + y] > 0 {
            let pxy = Double(joint[x * bCount + y]) / n
            total += pxy * Foundation.log(pxy * n * n / (Double(ca[x]) * Double(cb[y])))
        }
    }
    return Swift.max(0, total)
}
