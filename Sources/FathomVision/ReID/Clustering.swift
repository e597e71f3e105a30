import FathomTensor

/// The result of `KMeans.fit`.
public struct KMeansResult {
    /// The cluster of each sample, in `0..<k`.
    public var labels: [Int]
    /// The cluster centres, `[k, d]` float64.
    public var centers: Tensor
    /// Σ over samples of the squared distance to its centre.
    public var inertia: Double
    /// Lloyd iterations run by the best initialization.
    public var iterations: Int
}

/// k-means clustering of feature rows (Lloyd's algorithm with k-means++ seeding).
///
/// - **Seeding** (Arthur & Vassilvitskii 2007): the first centre is a uniformly drawn sample;
///   each further centre is a sample drawn with probability proportional to its squared
///   distance to the nearest centre chosen so far (uniformly if all those distances are 0).
///   This is plain k-means++, not sklearn's greedy variant that tries 2 + log k candidates.
/// - **Iterations**: assign each sample to the nearest centre (ties go to the lowest centre
///   index), move each centre to the mean of its samples; an empty cluster takes the sample
///   farthest from its current centre (lowest index on ties). Stops when no assignment
///   changes or after `maxIterations`.
/// - **Determinism**: all randomness comes from `generator` (uniform doubles from 53 bits of
///   `next()`), so equal seeds give equal results; with `initializations > 1` the run with
///   the lowest inertia wins (the first on ties).
///
/// Distances use `PairwiseDistance.squaredEuclidean` (one matrix product per iteration).
public enum KMeans {
    /// Clusters `features: [n, d]` (float32 or float64) into `k` clusters.
    public static func fit(_ features: Tensor, k: Int, maxIterations: Int = 300, initializations: Int = 1,
                           generator: Generator = Generator(seed: 0)) -> KMeansResult {
        orStop { () throws(TensorError) in
            try fit(validating: features, k: k, maxIterations: maxIterations, initializations: initializations, generator: generator)
        }
    }

    /// Throwing variant of `fit(_:k:...)`.
    public static func fit(validating features: Tensor, k: Int, maxIterations: Int = 300, initializations: Int = 1,
                           generator: Generator = Generator(seed: 0)) throws(TensorError) -> KMeansResult {
        let op = "KMeans.fit"
        let x = try DoubleMatrix(features, op: op)
        guard k >= 1, k <= x.rows else { throw TensorError(op: op, "k = \(k) must lie in 1...\(x.rows) (the number of samples)") }
        guard maxIterations >= 1, initializations >= 1 else {
            throw TensorError(op: op, "maxIterations (\(maxIterations)) and initializations (\(initializations)) must be at least 1")
        }
        let points = x.tensor
        var best: KMeansResult?
        for _ in 0..<initializations {
            let result = noGrad { run(x, points, k: k, maxIterations: maxIterations, generator: generator) }
            if best == nil || result.inertia < best!.inertia { best = result }
        }
        return best!
    }

    private static func uniform(_ generator: Generator) -> Double {
        Double(generator.next() >> 11) * 0x1p-53
    }

    private static func run(_ x: DoubleMatrix, _ points: Tensor, k: Int, maxIterations: Int, generator: Generator) -> KMeansResult {
        let (n, d) = (x.rows, x.columns)
        // k-means++ seeding.
        var chosen = [Swift.min(Int(uniform(generator) * Double(n)), n - 1)]
        var nearest = [Double](repeating: .infinity, count: n)
        while chosen.count < k {
            let last = chosen[chosen.count - 1]
            let toLast = PairwiseDistance.squaredEuclidean(points, Tensor(Array(x.values[(last * d)..<((last + 1) * d)]), shape: [1, d])).doubles
            for i in 0..<n { nearest[i] = Swift.min(nearest[i], toLast[i]) }
            let total = nearest.reduce(0, +)
            var pick = n - 1
            if total > 0 {
                let target = uniform(generator) * total
                var running = 0.0
                for i in 0..<n {
                    running += nearest[i]
                    if running > target { pick = i; break }
                }
            } else {
                pick = Swift.min(Int(uniform(generator) * Double(n)), n - 1)
            }
            chosen.append(pick)
        }
        var centers = DoubleMatrix(rows: k, columns: d, values: chosen.flatMap { Array(x.values[($0 * d)..<(($0 + 1) * d)]) })

        var labels = [Int](repeating: -1, count: n)
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            let distances = PairwiseDistance.squaredEuclidean(points, centers.tensor).doubles
            var changed = false
            var distanceToOwn = [Double](repeating: 0, count: n)
            for i in 0..<n {
                var bestCenter = 0
                for c in 1..<Swift.max(k, 1) where distances[i * k + c] < distances[i * k + bestCenter] { bestCenter = c }
                if labels[i] != bestCenter { changed = true; labels[i] = bestCenter }
                distanceToOwn[i] = distances[i * k + bestCenter]
            }
            if !changed && iterations > 1 { break }
            // Centre update; empty clusters take the farthest samples.
            var sums = [Double](repeating: 0, count: k * d)
            var counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                counts[labels[i]] += 1
                for j in 0..<d { sums[labels[i] * d + j] += x[i, j] }
            }
            for c in 0..<k where counts[c] == 0 {
                var far = 0
                for i in 1..<n where distanceToOwn[i] > distanceToOwn[far] { far = i }
                distanceToOwn[far] = -1   // a sample can refill only one empty cluster
                for j in 0..<d { sums[c * d + j] = x[far, j] }
                counts[c] = 1
            }
            for c in 0..<k { for j in 0..<d { centers[c, j] = sums[c * d + j] / Double(counts[c]) } }
        }
        // Final assignment against the final centres, and the exact inertia.
        let distances = PairwiseDistance.squaredEuclidean(points, centers.tensor).doubles
        var inertia = 0.0
        for i in 0..<n {
            var bestCenter = 0
            for c in 1..<Swift.max(k, 1) where distances[i * k + c] < distances[i * k + bestCenter] { bestCenter = c }
            labels[i] = bestCenter
            var squared = 0.0
            for j in 0..<d { let diff = x[i, j] - centers[bestCenter, j]; squared += diff * diff }
            inertia += squared
        }
        return KMeansResult(labels: labels, centers: centers.tensor, inertia: inertia, iterations: iterations)
    }
}

/// DBSCAN (Ester et al. 1996) on a precomputed distance matrix, with sklearn's semantics
/// (`sklearn.cluster.DBSCAN(metric="precomputed")`):
/// - the neighbourhood of i is every j (i itself included) with `D[i, j] <= eps`;
/// - i is a **core** sample when its neighbourhood has at least `minSamples` members;
/// - clusters grow from core samples in index order by depth-first expansion (a stack,
///   neighbours pushed in increasing index); a non-core sample reached from a core one
///   joins the first cluster that reaches it (so border samples depend on sample order,
///   exactly as in sklearn);
/// - samples in no cluster are noise, label −1. Cluster labels are 0, 1, … in order of
///   their first (lowest-index) core sample.
/// The matrix is read row by row, so it need not be exactly symmetric (sklearn also uses rows).
public enum DBSCAN {
    /// Labels for the samples of `distances: [n, n]`.
    public static func fit(distances: Tensor, eps: Double, minSamples: Int = 5) -> [Int] {
        orStop { () throws(TensorError) in try fit(validating: distances, eps: eps, minSamples: minSamples) }
    }

    /// Throwing variant of `fit(distances:eps:minSamples:)`.
    public static func fit(validating distances: Tensor, eps: Double, minSamples: Int = 5) throws(TensorError) -> [Int] {
        let op = "DBSCAN.fit"
        let d = try DoubleMatrix(distances, op: op)
        guard d.rows == d.columns else { throw TensorError(op: op, "expected a square [n, n] distance matrix, got \(distances.shape)") }
        guard eps > 0, minSamples >= 1 else { throw TensorError(op: op, "need eps > 0 and minSamples >= 1, got eps = \(eps), minSamples = \(minSamples)") }
        let n = d.rows
        let neighbourhoods: [[Int]] = d.values.withUnsafeBufferPointer { v in
            (0..<n).map { i in
                var members: [Int] = []
                for j in 0..<n where v[i * n + j] <= eps { members.append(j) }
                return members
            }
        }
        let isCore = neighbourhoods.map { $0.count >= minSamples }
        var labels = [Int](repeating: -1, count: n)
        var next = 0
        var stack: [Int] = []
        for start in 0..<n where labels[start] == -1 && isCore[start] {
            var i = start
            while true {
                if labels[i] == -1 {
                    labels[i] = next
                    if isCore[i] {
                        for j in neighbourhoods[i] where labels[j] == -1 { stack.append(j) }
                    }
                }
                guard let top = stack.popLast() else { break }
                i = top
            }
            next += 1
        }
        return labels
    }
}

/// Training targets made from cluster labels (unsupervised re-ID: cluster, then train
/// with the clusters as identities).
public struct PseudoLabels: Equatable, Sendable {
    /// The samples kept (those not labelled noise), ascending.
    public var indices: [Int]
    /// The class of each kept sample, in `0..<classCount`.
    public var labels: [Int]
    /// The number of distinct clusters.
    public var classCount: Int

    /// Drops samples with a negative label (DBSCAN noise) and renumbers the remaining
    /// cluster labels to `0..<classCount` in ascending order of the original label.
    public init(clusterLabels: [Int]) {
        let distinct = Set(clusterLabels.filter { $0 >= 0 }).sorted()
        let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        indices = clusterLabels.indices.filter { clusterLabels[$0] >= 0 }
        labels = indices.map { index[clusterLabels[$0]]! }
        classCount = distinct.count
    }
}
