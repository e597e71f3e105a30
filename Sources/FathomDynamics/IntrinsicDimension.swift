import FathomData
import FathomNN
import FathomTensor

/// A random d-dimensional subspace of a model's D-dimensional parameter space, for
/// measuring intrinsic dimension (Li, Farkhoor, Liu & Yosinski 2018): training moves only
/// z ∈ ℝᵈ in θ = θ₀ + P·z, with θ₀ the initialization and P a fixed random D×d matrix with
/// unit-norm columns.
///
/// P is stored sparse — each column has k = ⌈√D⌉ nonzeros ±1/√k at random distinct rows —
/// as in the paper's sparse projection option (after Li, Hastie & Church 2006), so the
/// memory is d·√D instead of d·D and a product costs the same.
public struct RandomSubspace: Sendable {
    public let parameterCount: Int
    public let dimension: Int
    /// Nonzeros per column.
    public let nonzerosPerColumn: Int
    /// Row indices, column after column (`dimension × nonzerosPerColumn`).
    private let rows: [Int32]
    /// Signs of the entries (the magnitude is 1/√k for all).
    private let signs: [Float]

    public init(parameterCount: Int, dimension: Int, seed: UInt64) {
        precondition(parameterCount > 0 && dimension >= 0, "Fathom.RandomSubspace: need D > 0 and d >= 0")
        self.parameterCount = parameterCount
        self.dimension = dimension
        let k = Swift.min(parameterCount, Int(Double(parameterCount).squareRoot().rounded(.up)))
        nonzerosPerColumn = k
        var rng = SplitMix64(seed: seed)
        var rows: [Int32] = []
        var signs: [Float] = []
        rows.reserveCapacity(dimension * k)
        signs.reserveCapacity(dimension * k)
        for _ in 0..<dimension {
            // k distinct rows (rejection is cheap while k ≪ D).
            var chosen = Set<Int32>()
            while chosen.count < k { chosen.insert(Int32(rng.next(below: UInt64(parameterCount)))) }
            for row in chosen.sorted() {
                rows.append(row)
                signs.append(rng.next(below: 2) == 0 ? -1 : 1)
            }
        }
        self.rows = rows
        self.signs = signs
    }

    /// P·z, length D.
    public func project(_ z: [Float]) -> [Float] {
        precondition(z.count == dimension, "Fathom.RandomSubspace.project: z has \(z.count) entries for dimension \(dimension)")
        var out = [Float](repeating: 0, count: parameterCount)
        let scale = 1 / Float(nonzerosPerColumn).squareRoot()
        for j in 0..<dimension {
            let zj = z[j] * scale
            for t in (j * nonzerosPerColumn)..<((j + 1) * nonzerosPerColumn) { out[Int(rows[t])] += signs[t] * zj }
        }
        return out
    }

    /// Pᵀ·g, length d: the gradient with respect to z of a loss whose gradient in θ is g.
    public func projectTranspose(_ g: [Float]) -> [Float] {
        precondition(g.count == parameterCount, "Fathom.RandomSubspace.projectTranspose: g has \(g.count) entries for D = \(parameterCount)")
        let scale = 1 / Float(nonzerosPerColumn).squareRoot()
        return (0..<dimension).map { j in
            var sum: Float = 0
            for t in (j * nonzerosPerColumn)..<((j + 1) * nonzerosPerColumn) { sum += signs[t] * g[Int(rows[t])] }
            return sum * scale
        }
    }
}

/// Trains a model inside a random subspace: only z moves, θ = θ₀ + P·z, with Adam on z.
public final class SubspaceTrainer {
    public let model: Layer
    public let subspace: RandomSubspace
    /// The coordinates being trained.
    public let z: Tensor
    private let origin: [Float]
    private let optimizer: Adam

    /// - Parameters:
    ///   - model: a freshly initialized model; its current weights are θ₀.
    ///   - dimension: d.
    public init(model: Layer, dimension: Int, lr: Double = 1e-2, seed: UInt64 = 0) {
        self.model = model
        origin = model.parameters().flatMap { $0.to(.float32).scalars(as: Float.self) }
        subspace = RandomSubspace(parameterCount: origin.count, dimension: dimension, seed: seed)
        z = Tensor.zeros([dimension]).requiringGrad()
        optimizer = Adam([z], lr: lr)
    }

    /// Writes θ₀ + P·z into the model's parameters.
    public func loadParameters() {
        let offset = subspace.project(z.scalars(as: Float.self))
        var start = 0
        noGrad {
            for p in model.parameters() {
                let values = (0..<p.count).map { origin[start + $0] + offset[start + $0] }
                p.assign(Tensor(values, shape: p.shape).to(p.dtype))
                start += p.count
            }
        }
    }

    /// One step on `batch` with cross-entropy; returns the loss.
    @discardableResult
    public func step(_ batch: Batch) -> Double {
        loadParameters()
        let parameters = model.parameters()
        let loss = crossEntropy(model(batch.inputs), batch.labels)
        let grads = gradients(of: [loss], wrt: parameters)
        let flat = grads.flatMap { $0.to(.float32).contiguous().scalars(as: Float.self) }
        z.grad = Tensor(subspace.projectTranspose(flat))
        optimizer.step()
        z.grad = nil
        return loss.item()
    }
}

/// d₉₀ of Li et al. 2018: the smallest subspace dimension whose accuracy reaches 90% of
/// the full-space baseline, from measured (dimension, accuracy) pairs; nil if none does.
public func intrinsicDimension90(_ results: [(dimension: Int, accuracy: Double)], baselineAccuracy: Double) -> Int? {
    results.sorted { $0.dimension < $1.dimension }.first { $0.accuracy >= 0.9 * baselineAccuracy }?.dimension
}
