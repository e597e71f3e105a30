import Foundation
import FathomTensor

/// Why a generated sample was dropped.
public enum GeneratedSampleDropReason: String, Sendable, Equatable {
    /// Its feature is nearer another identity's real centroid than its own.
    case wrongIdentity = "wrong_identity"
    /// Cosine to its own centroid below the consistency threshold.
    case lowConsistency = "low_consistency"
    /// Closer than the near-copy distance to one of its identity's real images.
    case nearCopyOfReal = "near_copy_of_real"
    /// Closer than the near-copy distance to an already kept generated image of its identity.
    case nearCopyOfGenerated = "near_copy_of_generated"
}

/// The thresholds of the keep/drop rule (see `GeneratedSampleQuality`).
public struct GeneratedSampleQualityConfig: Sendable {
    /// Absolute cosine threshold τ; nil: τ is the `realConsistencyQuantile` quantile of the
    /// real images' own cosines to their identity centroids.
    public var minConsistency: Double? = nil
    /// Quantile of the real images' consistencies used as τ when `minConsistency` is nil.
    public var realConsistencyQuantile: Double = 0.1
    /// Drop samples whose nearest real centroid is another identity's.
    public var requireNearestOwnIdentity = true
    /// Absolute near-copy distance δ (Euclidean between unit features); nil: δ is
    /// `nearCopyFraction` × the median distance of a real image to its nearest real image of
    /// the same identity.
    public var minDistance: Double? = nil
    public var nearCopyFraction: Double = 0.5

    public init() {}
}

/// The scores of one generated sample.
public struct GeneratedSampleScore: Sendable, Equatable {
    public var identity: Int
    /// Identity consistency: cosine of the (unit) feature to its identity's real centroid.
    public var consistency: Double
    /// The identity whose real centroid is most similar to the feature.
    public var nearestIdentity: Int
    /// Diversity: distance to the nearest real image of its identity.
    public var nearestRealDistance: Double
    /// Diversity: mean distance to its identity's real images.
    public var meanRealDistance: Double
    /// Distance to the nearest generated image of its identity kept before it (in index
    /// order); infinity when there is none.
    public var nearestKeptGeneratedDistance: Double
    public var keep: Bool
    public var dropReason: GeneratedSampleDropReason?
}

/// Per-sample quality of generated re-ID training images, judged in a trained re-ID
/// model's feature space — the idea of "What makes a GAN-generated image good for ReID"
/// (arXiv abstract in the project's seeds): rather than adding every generated image, or
/// scoring the generator on the whole set, examine *each* sample with an **id-consistency**
/// and a **diversity** constraint and keep only those that pass ("not every GAN-generated
/// data is beneficial for augmentation"; training on the filtered set beats the full set).
///
/// Features are L2-normalized; distances are Euclidean between unit vectors. With c_y the
/// normalized mean of identity y's real features, a generated sample g of identity y is
/// **kept** iff, checked in this order,
/// 1. `argmax_k cos(g, c_k) == y` (its nearest real centroid is its own identity),
/// 2. `cos(g, c_y) ≥ τ` (consistent: at least as close to its centroid as the least
///    consistent real images are — τ defaults to the 10% quantile of the real images' own
///    cosines to their centroids),
/// 3. `min_j ‖g − r_j‖ ≥ δ` over the real images r_j of y (not a near-copy of a real image;
///    δ defaults to half the median real nearest-same-identity-neighbour distance),
/// 4. `‖g − g'‖ ≥ δ` for every generated g' of y kept before it (not a duplicate).
/// (1)–(2) are the consistency constraint, (3)–(4) the diversity constraint.
public struct GeneratedSampleQuality: Sendable {
    public let scores: [GeneratedSampleScore]
    /// The τ and δ actually used.
    public let consistencyThreshold: Double
    public let distanceThreshold: Double

    public var keptIndices: [Int] { scores.indices.filter { scores[$0].keep } }
    public var keptFraction: Double { scores.isEmpty ? 0 : Double(keptIndices.count) / Double(scores.count) }
    /// How many samples each reason dropped.
    public var dropCounts: [GeneratedSampleDropReason: Int] {
        scores.reduce(into: [:]) { counts, s in if let r = s.dropReason { counts[r, default: 0] += 1 } }
    }

    /// Scores `generatedFeatures` `[G, F]` (identities `generatedLabels`) against
    /// `realFeatures` `[R, F]` (identities `realLabels`); every generated identity must
    /// have real images.
    public init(realFeatures: Tensor, realLabels: [Int], generatedFeatures: Tensor, generatedLabels: [Int],
                config: GeneratedSampleQualityConfig = GeneratedSampleQualityConfig()) {
        precondition(realFeatures.rank == 2 && generatedFeatures.rank == 2 && realFeatures.shape[1] == generatedFeatures.shape[1],
                     "Fathom.GeneratedSampleQuality: features must be [N, F] with one F, got \(realFeatures.shape) and \(generatedFeatures.shape)")
        precondition(realFeatures.shape[0] == realLabels.count && generatedFeatures.shape[0] == generatedLabels.count,
                     "Fathom.GeneratedSampleQuality: \(realFeatures.shape[0]) real features for \(realLabels.count) labels, \(generatedFeatures.shape[0]) generated for \(generatedLabels.count)")
        let f = realFeatures.shape[1]
        let real = Self.unitRows(realFeatures), generated = Self.unitRows(generatedFeatures)
        var members: [Int: [Int]] = [:]
        for (i, y) in realLabels.enumerated() { members[y, default: []].append(i) }
        let identities = members.keys.sorted()
        var centroids: [Int: [Double]] = [:]
        for y in identities {
            var c = [Double](repeating: 0, count: f)
            for i in members[y]! { for k in 0..<f { c[k] += real[i][k] } }
            centroids[y] = Self.unit(c)
        }
        precondition(generatedLabels.allSatisfy { members[$0] != nil },
                     "Fathom.GeneratedSampleQuality: every generated identity needs real images")

        // τ: a low quantile of the real images' consistency.
        let tau = config.minConsistency ?? {
            let own = realLabels.indices.map { Self.dot(real[$0], centroids[realLabels[$0]]!) }.sorted()
            return Self.quantile(own, config.realConsistencyQuantile)
        }()
        // δ: a fraction of the typical real nearest-same-identity distance.
        let delta = config.minDistance ?? {
            var nearest: [Double] = []
            for y in identities where members[y]!.count >= 2 {
                for i in members[y]! {
                    nearest.append(members[y]!.filter { $0 != i }.map { Self.distance(real[i], real[$0]) }.min()!)
                }
            }
            return nearest.isEmpty ? 0 : config.nearCopyFraction * Self.quantile(nearest.sorted(), 0.5)
        }()

        var kept: [Int: [Int]] = [:]
        var scores: [GeneratedSampleScore] = []
        for (g, y) in generatedLabels.enumerated() {
            let v = generated[g]
            var best = identities[0], bestCos = -Double.infinity
            for k in identities {
                let c = Self.dot(v, centroids[k]!)
                if c > bestCos { (best, bestCos) = (k, c) }
            }
            let consistency = Self.dot(v, centroids[y]!)
            let realDistances = members[y]!.map { Self.distance(v, real[$0]) }
            let nearestReal = realDistances.min()!
            let nearestKept = (kept[y] ?? []).map { Self.distance(v, generated[$0]) }.min() ?? .infinity
            var reason: GeneratedSampleDropReason?
            if config.requireNearestOwnIdentity && best != y { reason = .wrongIdentity }
            else if consistency < tau { reason = .lowConsistency }
            else if nearestReal < delta { reason = .nearCopyOfReal }
            else if nearestKept < delta { reason = .nearCopyOfGenerated }
            if reason == nil { kept[y, default: []].append(g) }
            scores.append(GeneratedSampleScore(identity: y, consistency: consistency, nearestIdentity: best,
                                               nearestRealDistance: nearestReal,
                                               meanRealDistance: realDistances.reduce(0, +) / Double(realDistances.count),
                                               nearestKeptGeneratedDistance: nearestKept, keep: reason == nil, dropReason: reason))
        }
        self.scores = scores
        consistencyThreshold = tau
        distanceThreshold = delta
    }

    private static func unitRows(_ x: Tensor) -> [[Double]] {
        let n = x.shape[0], f = x.shape[1]
        let values = x.to(.float64).contiguous().scalars(as: Double.self)
        return (0..<n).map { unit(Array(values[(($0) * f)..<(($0 + 1) * f)])) }
    }

    private static func unit(_ v: [Double]) -> [Double] {
        let norm = Swift.max(sqrt(v.reduce(0) { $0 + $1 * $1 }), 1e-12)
        return v.map { $0 / norm }
    }

    private static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for k in a.indices { s += a[k] * b[k] }
        return s
    }

    private static func distance(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for k in a.indices { s += (a[k] - b[k]) * (a[k] - b[k]) }
        return sqrt(s)
    }

    /// Linear-interpolation quantile of sorted values (NumPy's default).
    private static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = Swift.min(Swift.max(q, 0), 1) * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = Swift.min(lower + 1, sorted.count - 1)
        return sorted[lower] + (position - Double(lower)) * (sorted[upper] - sorted[lower])
    }
}
