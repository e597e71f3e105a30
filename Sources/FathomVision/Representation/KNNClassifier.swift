import FathomTensor
import Foundation

/// Weighted k-nearest-neighbour classification of representations, as in InstDisc (Wu et
/// al. 2018, §3.4) and DINO's k-NN evaluation (Caron et al. 2021): features are
/// L2-normalized, the k training features of highest cosine similarity s_i vote for their
/// labels with weight exp(s_i / T), and the class with the largest total weight wins.
/// Defaults k = 20, T = 0.07 are DINO's.
public struct KNNClassifier {
    /// L2-normalized training features `[N, D]` (float32) and their labels.
    public let bank: Tensor
    public let labels: [Int64]
    public let classCount: Int
    public let k: Int
    public let temperature: Double

    public init(features: Tensor, labels: Tensor, classCount: Int, k: Int = 20, temperature: Double = 0.07) {
        precondition(features.rank == 2 && labels.rank == 1 && labels.shape[0] == features.shape[0] && labels.dtype == .int64,
                     "Fathom.KNNClassifier: need features [N, D] and int64 labels [N], got \(features.shape) and \(labels.dtype) \(labels.shape)")
        precondition(k >= 1 && temperature > 0 && classCount >= 1, "Fathom.KNNClassifier: need k ≥ 1, temperature > 0, classCount ≥ 1")
        bank = noGrad { unitRows(features.to(.float32)) }.contiguous()
        self.labels = labels.scalars(as: Int64.self)
        precondition(self.labels.allSatisfy { $0 >= 0 && $0 < Int64(classCount) }, "Fathom.KNNClassifier: labels must lie in 0..<\(classCount)")
        self.classCount = classCount
        self.k = Swift.min(k, features.shape[0])
        self.temperature = temperature
    }

    /// Predicted classes of `features` `[M, D]`, computed `chunk` queries at a time. Ties in
    /// the vote go to the lower class index.
    public func predict(_ features: Tensor, chunk: Int = 512) -> [Int64] {
        precondition(features.rank == 2 && features.shape[1] == bank.shape[1],
                     "Fathom.KNNClassifier.predict: queries \(features.shape) do not match the bank's \(bank.shape[1]) dimensions")
        let queries = noGrad { unitRows(features.to(.float32)) }
        let m = queries.shape[0]
        var predictions: [Int64] = []
        predictions.reserveCapacity(m)
        for start in stride(from: 0, to: m, by: chunk) {
            let (values, indices) = noGrad {
                queries.select([.range(start: start, end: Swift.min(start + chunk, m))]).matmul(bank.transposed()).topk(k, axis: 1)
            }
            let sims = values.scalars(as: Float.self), neighbours = indices.scalars(as: Int64.self)
            for row in 0..<(sims.count / k) {
                var votes = [Double](repeating: 0, count: classCount)
                for j in 0..<k {
                    votes[Int(labels[Int(neighbours[row * k + j])])] += Foundation.exp(Double(sims[row * k + j]) / temperature)
                }
                predictions.append(Int64(votes.indices.max { votes[$0] < votes[$1] || (votes[$0] == votes[$1] && $0 > $1) }!))
            }
        }
        return predictions
    }

    /// Fraction of `features` classified as `labels`.
    public func accuracy(features: Tensor, labels: Tensor) -> Double {
        let truth = labels.scalars(as: Int64.self)
        let predicted = predict(features)
        return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(Swift.max(truth.count, 1))
    }
}

/// Rows scaled to unit L2 norm (zero rows stay zero).
private func unitRows(_ x: Tensor) -> Tensor {
    x / maximum((x * x).sum(axis: 1, keepDims: true).sqrt(), 1e-12)
}
