import Foundation
import FathomTensor

/// Weight initializations, as in `torch.nn.init`. Each draws from `generator` (the default
/// generator when nil), so `manualSeed(s)` before building a model fixes its weights.
public enum Init {
    /// How the gain of `kaiming*` is derived (PyTorch's `calculate_gain`).
    public enum Nonlinearity: Sendable {
        case linear, sigmoid, tanh, relu
        case leakyRelu(negativeSlope: Double)

        public var gain: Double {
            switch self {
            case .linear, .sigmoid: 1
            case .tanh: 5.0 / 3
            case .relu: 2.0.squareRoot()
            case .leakyRelu(let a): (2 / (1 + a * a)).squareRoot()
            }
        }
    }

    /// (fan in, fan out) of a weight: `[out, in]` for linear, `[out, in, k…]` for conv.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "Fathom.Init: fan in and fan out need a weight of rank >= 2, got shape \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public static func uniform(_ shape: [Int], low: Double, high: Double, generator: Generator? = nil) -> Tensor {
        Tensor.uniform(shape, low: low, high: high, generator: generator)
    }

    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
        Tensor.normal(shape, mean: mean, std: std, generator: generator)
    }

    public static func constant(_ shape: [Int], _ value: Double) -> Tensor { Tensor.full(shape, value) }

    /// He et al. 2015, uniform: U(−b, b), b = gain·√(3 / fan).
    public static func kaimingUniform(_ shape: [Int], nonlinearity: Nonlinearity = .leakyRelu(negativeSlope: 0),
                                      fanOut: Bool = false, generator: Generator? = nil) -> Tensor {
        let f = fans(shape)
        let bound = nonlinearity.gain * (3 / Double(fanOut ? f.fanOut : f.fanIn)).squareRoot()
        return uniform(shape, low: -bound, high: bound, generator: generator)
    }

    /// He et al. 2015, normal: N(0, gain²/fan).
    public static func kaimingNormal(_ shape: [Int], nonlinearity: Nonlinearity = .leakyRelu(negativeSlope: 0),
                                     fanOut: Bool = false, generator: Generator? = nil) -> Tensor {
        let f = fans(shape)
        return normal(shape, std: nonlinearity.gain / Double(fanOut ? f.fanOut : f.fanIn).squareRoot(), generator: generator)
    }

    /// Glorot & Bengio 2010, uniform: U(−b, b), b = gain·√(6 / (fanIn + fanOut)).
    public static func xavierUniform(_ shape: [Int], gain: Double = 1, generator: Generator? = nil) -> Tensor {
        let f = fans(shape)
        let bound = gain * (6 / Double(f.fanIn + f.fanOut)).squareRoot()
        return uniform(shape, low: -bound, high: bound, generator: generator)
    }

    /// Glorot & Bengio 2010, normal: N(0, gain²·2/(fanIn + fanOut)).
    public static func xavierNormal(_ shape: [Int], gain: Double = 1, generator: Generator? = nil) -> Tensor {
        let f = fans(shape)
        return normal(shape, std: gain * (2 / Double(f.fanIn + f.fanOut)).squareRoot(), generator: generator)
    }

    /// Saxe et al. 2014: a (semi-)orthogonal matrix from the QR decomposition of a
    /// Gaussian matrix, signs fixed by R's diagonal, as PyTorch does; shape `[rows, cols…]`.
    public static func orthogonal(_ shape: [Int], gain: Double = 1, generator: Generator? = nil) -> Tensor {
        precondition(shape.count >= 2, "Fathom.Init.orthogonal: needs a weight of rank >= 2, got \(shape)")
        let rows = shape[0], cols = shape.dropFirst().reduce(1, *)
        // Orthonormalize the columns of a tall Gaussian matrix (modified Gram–Schmidt in float64).
        let tall = max(rows, cols), short = min(rows, cols)
        var a = Tensor.randn([tall, short], dtype: .float64, generator: generator).scalars(as: Double.self)
        for j in 0..<short {
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<tall { dot += a[i * short + k] * a[i * short + j] }
                for i in 0..<tall { a[i * short + j] -= dot * a[i * short + k] }
            }
            var norm = 0.0
            for i in 0..<tall { norm += a[i * short + j] * a[i * short + j] }
            norm = norm.squareRoot()
            for i in 0..<tall { a[i * short + j] /= norm }
        }
        var q = Tensor(a, shape: [tall, short])
        if rows < cols { q = q.transposed().contiguous() }
        return (q * gain).reshaped(shape).to(.float32)
    }

    /// PyTorch's default for `Linear` and `Conv` weights: kaiming uniform with a = √5,
    /// i.e. U(−1/√fanIn, 1/√fanIn).
    public static func pytorchDefaultWeight(_ shape: [Int], generator: Generator? = nil) -> Tensor {
        kaimingUniform(shape, nonlinearity: .leakyRelu(negativeSlope: 5.0.squareRoot()), generator: generator)
    }

    /// PyTorch's default for `Linear` and `Conv` biases: U(−1/√fanIn, 1/√fanIn).
    public static func pytorchDefaultBias(_ count: Int, fanIn: Int, generator: Generator? = nil) -> Tensor {
        let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
        return uniform([count], low: -bound, high: bound, generator: generator)
    }
}
