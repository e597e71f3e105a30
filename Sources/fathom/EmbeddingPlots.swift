import Fathom
import Foundation

/// Writes a PCA scatter of `features` [N, D] coloured by `labels` to `url` (at most
/// `limit` points: the first ones). The axis labels carry the explained-variance shares.
@discardableResult
func writeEmbeddingPCA(_ features: Tensor, labels: [Int], title: String, labelName: (Int) -> String,
                       limit: Int = 1000, to url: URL) throws -> EmbeddingProjection {
    let n = Swift.min(features.shape[0], labels.count, limit)
    let projection = EmbeddingProjection(features.select([.range(start: 0, end: n)]))
    let shares = projection.explainedVarianceRatio
    var plot = SVGScatter(title: title, xLabel: String(format: "PC1 (%.1f%% of variance)", 100 * shares[0]),
                          yLabel: String(format: "PC2 (%.1f%% of variance)", 100 * shares[1]))
    plot.add(x: projection.x, y: projection.y, labels: Array(labels.prefix(n)))
    for label in plot.classes { plot.labelNames[label] = labelName(label) }
    try plot.write(to: url)
    return projection
}

/// Writes the CMC curve (ranks 1…20), plain and re-ranked when available, to `url`.
func writeCMC(_ scores: ReIDScores, title: String, to url: URL) throws {
    var plot = SVGPlot(title: title, xLabel: "rank k", yLabel: "rank-k accuracy (CMC)")
    func add(_ name: String, _ metrics: ReIDMetrics) {
        let ranks = Array(1...Swift.min(20, Swift.max(metrics.cmc.count, 1)))
        plot.add(name, x: ranks.map(Double.init), y: ranks.map { metrics.rank($0) })
    }
    add("plain", scores.plain)
    if let reranked = scores.reranked { add("re-ranked", reranked) }
    try plot.write(to: url)
}

/// Writes a PCA scatter of the L2-normalized features (as evaluated) of the query and
/// gallery images of the first `identities` test identities of `data`, coloured by identity.
func writeReIDEmbeddingPCA(_ model: ReIDNet, on data: ShapesReID, identities: Int = 20, title: String, to url: URL) throws {
    let all = data.query + data.gallery
    let kept = Set(Array(Set(all.map(\.identity))).sorted().prefix(identities))
    let samples = all.filter { kept.contains($0.identity) }
    let features = l2Normalized(extractFeatures(model, images: data.images(samples)))
    try writeEmbeddingPCA(features, labels: samples.map(\.identity), title: title, labelName: { "id \($0)" },
                          limit: samples.count, to: url)
}
