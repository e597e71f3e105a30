import FathomTensor

/// The result of a re-identification evaluation under the Market-1501 protocol.
public struct ReIDMetrics: Sendable, Equatable {
    /// `cmc[k-1]` is the rank-k accuracy: the fraction of valid queries with a true match
    /// among their first k (non-junk) gallery entries. Length `min(maxRank, galleryCount)`.
    public var cmc: [Double]
    /// Mean over valid queries of the average precision.
    public var mAP: Double
    /// Mean inverse negative penalty (Ye et al. 2021, "Deep learning for person re-ID",
    /// AGW): per query, `(number of true matches) / (1 + position of the last true match)`.
    public var mINP: Double
    /// Average precision of each valid query, in query order (skipped queries omitted).
    public var averagePrecisions: [Double]
    /// Queries that had at least one true match after junk removal.
    public var validQueryCount: Int
    /// Queries skipped because no gallery sample of their identity remained after junk removal.
    public var skippedQueryCount: Int

    /// The rank-k accuracy (k from 1); past the end of the curve it is the last value.
    public func rank(_ k: Int) -> Double {
        precondition(k >= 1, "ReIDMetrics.rank: k is \(k); ranks start at 1")
        return cmc.isEmpty ? 0 : cmc[Swift.min(k, cmc.count) - 1]
    }
}

/// Re-identification metrics (CMC and mAP) from a query × gallery distance matrix.
///
/// The definitions are those of `eval_func` in reid-strong-baseline (Luo et al. 2019), the
/// same as torchreid's `eval_market1501`:
/// - For each query, the gallery is ordered by ascending distance. **Ties** are broken by
///   gallery index (a stable sort; NumPy's default `argsort` is not stable, so the reference
///   code leaves ties unspecified).
/// - **Junk**: gallery samples with the query's identity *and* the query's camera are removed
///   from that query's ranking before anything is counted (Market-1501 protocol). Samples of
///   other identities from the same camera stay. Distractor/junk images labelled −1 in
///   Market-1501 must be filtered by the dataset reader (reid-strong-baseline drops pid −1
///   when loading); here −1 is an ordinary identity.
/// - A query whose remaining ranking has no sample of its identity is **skipped** (not
///   counted in the averages) and reported in `skippedQueryCount`.
/// - **CMC**: per valid query, `cmc_q[k] = 1` if a match occurs within the first k remaining
///   entries; the curve is the mean over valid queries, truncated to
///   `maxRank = min(maxRank, galleryCount)`. When junk removal leaves a query fewer than
///   `maxRank` entries, its curve is extended with its last value (1: it has a match).
/// - **AP**: with `rel_i ∈ {0,1}` the match indicator at position i (1-based) of the remaining
///   ranking and `R = Σ rel_i`, `AP = (1/R) Σ_i rel_i · (Σ_{j≤i} rel_j) / i`; mAP is the
///   mean of AP over valid queries. All arithmetic is in Double (the reference casts CMC to
///   float32 before averaging).
public enum ReIDEvaluation {
    /// Evaluates `distances: [queries, gallery]` (float32 or float64; smaller = more similar).
    /// Stops on malformed input; see `evaluate(validating:...)` for the throwing variant.
    public static func evaluate(_ distances: Tensor, queryIDs: [Int], galleryIDs: [Int],
                                queryCameras: [Int], galleryCameras: [Int], maxRank: Int = 50) -> ReIDMetrics {
        orStop { () throws(TensorError) in
            try evaluate(validating: distances, queryIDs: queryIDs, galleryIDs: galleryIDs,
                         queryCameras: queryCameras, galleryCameras: galleryCameras, maxRank: maxRank)
        }
    }

    /// Like `evaluate(_:...)` but throws on shape/count mismatches and when no query has a
    /// valid match.
    public static func evaluate(validating distances: Tensor, queryIDs: [Int], galleryIDs: [Int],
                                queryCameras: [Int], galleryCameras: [Int],
                                maxRank: Int = 50) throws(TensorError) -> ReIDMetrics {
        let op = "ReIDEvaluation.evaluate"
        let matrix = try DoubleMatrix(distances, op: op)
        let (q, g) = (matrix.rows, matrix.columns)
        guard queryIDs.count == q, queryCameras.count == q else {
            throw TensorError(op: op, "the distance matrix has \(q) query rows but \(queryIDs.count) query ids and \(queryCameras.count) query cameras were given")
        }
        guard galleryIDs.count == g, galleryCameras.count == g else {
            throw TensorError(op: op, "the distance matrix has \(g) gallery columns but \(galleryIDs.count) gallery ids and \(galleryCameras.count) gallery cameras were given")
        }
        guard maxRank >= 1 else { throw TensorError(op: op, "maxRank is \(maxRank); it must be at least 1") }
        guard g > 0 else { throw TensorError(op: op, "the gallery is empty (distance matrix \(distances.shape))") }
        let ranks = Swift.min(maxRank, g)

        // Per-query results computed in parallel (independent), then combined in query order.
        var firstMatches = [Int](repeating: -1, count: q)       // -1: skipped
        var precisions = [Double](repeating: 0, count: q)
        var penalties = [Double](repeating: 0, count: q)
        matrix.values.withUnsafeBufferPointer { all in
            firstMatches.withUnsafeMutableBufferPointer { first in
                precisions.withUnsafeMutableBufferPointer { ap in
                    penalties.withUnsafeMutableBufferPointer { inp in
                        ThreadPool.shared.parallelFor(q, grain: 8) { queries in
                            for i in queries {
                                let row = UnsafeBufferPointer(rebasing: all[(i * g)..<((i + 1) * g)])
                                var position = 0          // 0-based position among non-junk entries
                                var found = 0
                                var firstMatch = -1, lastMatch = -1
                                var precisionSum = 0.0
                                for j in stableOrder(row) {
                                    let sameID = galleryIDs[j] == queryIDs[i]
                                    if sameID && galleryCameras[j] == queryCameras[i] { continue }  // junk
                                    if sameID {
                                        found += 1
                                        precisionSum += Double(found) / Double(position + 1)
                                        if firstMatch < 0 { firstMatch = position }
                                        lastMatch = position
                                    }
                                    position += 1
                                }
                                guard found > 0 else { continue }
                                first[i] = firstMatch
                                ap[i] = precisionSum / Double(found)
                                inp[i] = Double(found) / Double(lastMatch + 1)
                            }
                        }
                    }
                }
            }
        }
        var cmcSum = [Double](repeating: 0, count: ranks)
        var aps: [Double] = []
        var inpSum = 0.0
        var skipped = 0
        for i in 0..<q {
            guard firstMatches[i] >= 0 else { skipped += 1; continue }
            if firstMatches[i] < ranks { for k in firstMatches[i]..<ranks { cmcSum[k] += 1 } }
            aps.append(precisions[i])
            inpSum += penalties[i]
        }
        guard !aps.isEmpty else {
            throw TensorError(op: op, "none of the \(q) queries has a gallery sample of its identity from another camera; check the ids and cameras")
        }
        let valid = Double(aps.count)
        return ReIDMetrics(cmc: cmcSum.map { $0 / valid }, mAP: aps.reduce(0, +) / valid, mINP: inpSum / valid,
                           averagePrecisions: aps, validQueryCount: aps.count, skippedQueryCount: skipped)
    }
}
