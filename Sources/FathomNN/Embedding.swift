// Embedding lookup (torch.nn.functional.embedding and torch.nn.Embedding).

import FathomTensor

/// The rows of `weight` (`[numEmbeddings, dim]`) at int64 `indices` of any shape:
/// the result has shape `indices.shape + [dim]` (`torch.nn.functional.embedding`).
///
/// The gradient adds each output row's gradient into its weight row (repeated indices
/// accumulate). Lookups of `paddingIdx` (negative counts from the end) return that row but
/// send it no gradient, as in PyTorch.
public func embedding(_ indices: Tensor, _ weight: Tensor, paddingIdx: Int? = nil) -> Tensor {
    orStop { () throws(TensorError) in try embedding(validating: indices, weight, paddingIdx: paddingIdx) }
}

/// Like `embedding(_:_:paddingIdx:)` but throws on a bad dtype, shape or index (token ids from data).
public func embedding(validating indices: Tensor, _ weight: Tensor, paddingIdx: Int? = nil) throws(TensorError) -> Tensor {
    let op = "embedding"
    guard weight.rank == 2 else {
        throw TensorError(op: op, "weight has shape \(shapeText(weight.shape)); it must be [numEmbeddings, embeddingDim]")
    }
    guard indices.dtype == .int64 else {
        throw TensorError(op: op, "indices must be int64, got \(indices.dtype); convert with .to(.int64)")
    }
    let n = weight.shape[0], dim = weight.shape[1]
    let pad = try normalizedPaddingIndex(paddingIdx, count: n, op: op)
    let flat = indices.reshaped([indices.count])
    if let bad = flat.scalars(as: Int64.self).first(where: { $0 < 0 || $0 >= Int64(n) }) {
        throw TensorError(op: op, "index \(bad) is out of range for an embedding of \(n) rows; indices must be in 0..<\(n)")
    }
    var rows = weight.indexSelect(axis: 0, index: flat)
    if let pad, rows.requiresGrad {
        // The padding row's lookups keep their value but pass no gradient back.
        let isPad = flat.eq(Double(pad)).reshaped([flat.count, 1])
        rows = Tensor.where(isPad, rows.detach(), rows)
    }
    return rows.reshaped(indices.shape + [dim])
}

/// `paddingIdx` in `0..<count` (negative counts from the end), or nil.
private func normalizedPaddingIndex(_ paddingIdx: Int?, count: Int, op: String) throws(TensorError) -> Int? {
    guard let paddingIdx else { return nil }
    let p = paddingIdx < 0 ? paddingIdx + count : paddingIdx
    guard p >= 0, p < count else {
        throw TensorError(op: op, "paddingIdx \(paddingIdx) is out of range for \(count) embeddings; use a value in \(-count)..<\(count)")
    }
    return p
}

/// A lookup table of `numEmbeddings` vectors of size `embeddingDim` (`torch.nn.Embedding`):
/// int64 indices of any shape in, `indices.shape + [embeddingDim]` out.
///
/// The weight is drawn from N(0, 1), as PyTorch does; the `paddingIdx` row starts at zero
/// and receives no gradient. State-dict key: `weight`.
public final class Embedding: Layer {
    @Parameter public var weight: Tensor
    public let numEmbeddings: Int, embeddingDim: Int
    /// The row that is never trained, in `0..<numEmbeddings`; nil for none.
    public let paddingIdx: Int?

    public init(_ numEmbeddings: Int, _ embeddingDim: Int, paddingIdx: Int? = nil, generator: Generator? = nil) {
        let pad = orStop { () throws(TensorError) in
            try normalizedPaddingIndex(paddingIdx, count: numEmbeddings, op: "Embedding")
        }
        self.numEmbeddings = numEmbeddings
        self.embeddingDim = embeddingDim
        self.paddingIdx = pad
        var w = Init.normal([numEmbeddings, embeddingDim], generator: generator).scalars(as: Float.self)
        if let pad { for k in 0..<embeddingDim { w[pad * embeddingDim + k] = 0 } }
        _weight = Parameter(wrappedValue: Tensor(w, shape: [numEmbeddings, embeddingDim]))
        super.init()
    }

    /// Looks up `indices` (int64).
    public override func forward(_ input: Tensor) -> Tensor {
        embedding(input, weight, paddingIdx: paddingIdx)
    }
}
