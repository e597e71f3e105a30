import FathomNN
import FathomTensor

/// A conditional variational autoencoder (Sohn et al. 2015, "Learning Structured Output
/// Representation using Deep Conditional Generative Models") that generates extra images
/// of a given identity for re-ID augmentation.
///
/// A learned identity embedding e(y) is concatenated to the flattened image at the
/// encoder's input and to the latent z at the decoder's input:
///
///     q(z | x, y):  [x, e(y)] → Linear → ReLU → Linear → ReLU → Linear(2D)  (mean, log σ²)
///     p(x | z, y):  [z, e(y)] → Linear → ReLU → Linear → ReLU → Linear(C·H·W) Bernoulli logits
///
/// trained on the ELBO (binary cross-entropy summed over pixels, gray levels in [0, 1] as
/// soft targets, + β·KL to N(0, I)). `generate` draws z ~ N(0, I) and returns the decoder's
/// mean image sigmoid(logits) for the identity.
///
/// Why a cVAE and not a GAN (the usual re-ID augmenter): on two CPU cores with a budget of
/// minutes, a cVAE trains by plain maximum likelihood with one stable loss, no
/// discriminator/generator balance, no mode collapse to watch for and no per-run tuning; its
/// samples are blurrier than a GAN's, which the quality filter (`GeneratedSampleQuality`)
/// has to judge anyway. The filter is the point of the experiment, not the generator.
public final class ConditionalVAE: Module {
    /// The identity embedding e(y), `[identityCount, embeddingCount]`.
    public let embedding: Embedding
    public let encoder: Sequential
    public let decoder: Sequential
    public let imageShape: [Int]
    public let latentCount: Int
    public let identityCount: Int

    /// - Parameters:
    ///   - imageShape: `[C, H, W]` of one image (e.g. `[1, 32, 32]`).
    ///   - identityCount: labels lie in `0..<identityCount`.
    ///   - latentCount: D, the latent dimensions.
    ///   - embeddingCount: width of the identity embedding.
    ///   - hidden: width of the hidden layers of encoder and decoder.
    public init(imageShape: [Int], identityCount: Int, latentCount: Int = 16, embeddingCount: Int = 16,
                hidden: Int = 256, generator: Generator? = nil) {
        precondition(imageShape.count == 3 && imageShape.allSatisfy { $0 > 0 },
                     "Fathom.ConditionalVAE: imageShape must be [C, H, W], got \(imageShape)")
        precondition(identityCount >= 1 && latentCount >= 1 && embeddingCount >= 1 && hidden >= 1,
                     "Fathom.ConditionalVAE: identityCount \(identityCount), latentCount \(latentCount), embeddingCount \(embeddingCount) and hidden \(hidden) must be positive")
        self.imageShape = imageShape
        self.latentCount = latentCount
        self.identityCount = identityCount
        let pixels = imageShape.reduce(1, *)
        embedding = Embedding(identityCount, embeddingCount, generator: generator)
        encoder = Sequential(Linear(pixels + embeddingCount, hidden, generator: generator), ReLU(),
                             Linear(hidden, hidden, generator: generator), ReLU(),
                             Linear(hidden, 2 * latentCount, generator: generator))
        decoder = Sequential(Linear(latentCount + embeddingCount, hidden, generator: generator), ReLU(),
                             Linear(hidden, hidden, generator: generator), ReLU(),
                             Linear(hidden, pixels, generator: generator))
        super.init()
    }

    private func labelTensor(_ labels: [Int]) -> Tensor {
        precondition(labels.allSatisfy { (0..<identityCount).contains($0) },
                     "Fathom.ConditionalVAE: labels must lie in 0..<\(identityCount)")
        return Tensor(labels.map(Int64.init))
    }

    /// The posterior's parameters for images `[B, C, H, W]` of identities `labels`, `[B, D]` each.
    public func encode(_ images: Tensor, labels: [Int]) -> (mean: Tensor, logVariance: Tensor) {
        precondition(images.rank == 4 && Array(images.shape.dropFirst()) == imageShape && images.shape[0] == labels.count,
                     "Fathom.ConditionalVAE.encode: images \(images.shape) must be [\(labels.count)] + \(imageShape)")
        let input = Tensor.cat([images.flattened(startAxis: 1), embedding(labelTensor(labels))], axis: 1)
        let out = encoder(input)
        let d = latentCount
        return (out[.all, 0..<d], out[.all, d..<(2 * d)])
    }

    /// Bernoulli logits `[B, C, H, W]` for latents `[B, D]` and identities `labels`.
    public func decode(_ z: Tensor, labels: [Int]) -> Tensor {
        precondition(z.rank == 2 && z.shape == [labels.count, latentCount],
                     "Fathom.ConditionalVAE.decode: z \(z.shape) must be [\(labels.count), \(latentCount)]")
        let input = Tensor.cat([z, embedding(labelTensor(labels))], axis: 1)
        return decoder(input).reshaped([labels.count] + imageShape)
    }

    /// The ELBO's terms for a batch (scalars, means per image): total = reconstruction + β·KL.
    public func loss(images: Tensor, labels: [Int], beta: Double = 1, generator: Generator? = nil)
        -> (total: Tensor, reconstruction: Tensor, kl: Tensor) {
        let (mean, logVariance) = encode(images, labels: labels)
        let epsilon = Tensor.randn(mean.shape, dtype: mean.dtype, generator: generator)
        let z = mean + (0.5 * logVariance).exp() * epsilon
        let reconstruction = bernoulliReconstructionLoss(logits: decode(z, labels: labels), target: images).mean()
        let kl = gaussianKLToStandardNormal(mean: mean, logVariance: logVariance).sum(axis: 1).mean()
        return (reconstruction + beta * kl, reconstruction, kl)
    }

    /// One loss record per logged step of `train`.
    public struct TrainingRecord: Sendable {
        public var step: Int
        public var total: Double, reconstruction: Double, kl: Double
    }

    /// Trains for `steps` Adam steps on random batches (drawn with replacement) of `images`
    /// `[N, C, H, W]` in [0, 1] with identity `labels` (in `0..<identityCount`). Returns the
    /// mean losses over windows of `logEvery` steps. Deterministic given `generator` (batch
    /// indices and reparameterisation noise).
    @discardableResult
    public func train(images: Tensor, labels: [Int], steps: Int, batchSize: Int = 64, lr: Double = 1e-3,
                      beta: Double = 1, logEvery: Int = 50, generator: Generator? = nil) -> [TrainingRecord] {
        precondition(images.shape[0] == labels.count && labels.count >= 1,
                     "Fathom.ConditionalVAE.train: \(images.shape[0]) images but \(labels.count) labels")
        precondition(steps >= 1 && batchSize >= 1 && logEvery >= 1, "Fathom.ConditionalVAE.train: steps, batchSize and logEvery must be positive")
        let optimizer = Adam(parameters(), lr: lr)
        let n = labels.count, batch = Swift.min(batchSize, n)
        var records: [TrainingRecord] = []
        var window = (total: 0.0, reconstruction: 0.0, kl: 0.0, count: 0.0)
        for step in 1...steps {
            let index = Tensor.randint(high: n, [batch], generator: generator)
            let rows = index.scalars(as: Int64.self).map { labels[Int($0)] }
            let terms = loss(images: images.indexSelect(axis: 0, index: index), labels: rows, beta: beta, generator: generator)
            optimizer.zeroGrad()
            terms.total.backward()
            optimizer.step()
            window.total += terms.total.item()
            window.reconstruction += terms.reconstruction.item()
            window.kl += terms.kl.item()
            window.count += 1
            if step % logEvery == 0 || step == steps {
                records.append(TrainingRecord(step: step, total: window.total / window.count,
                                              reconstruction: window.reconstruction / window.count, kl: window.kl / window.count))
                window = (0, 0, 0, 0)
            }
        }
        return records
    }

    /// `count` new images `[count, C, H, W]` in [0, 1] of `identity`: z ~ N(0, temperature²·I)
    /// from `generator`, decoded to the mean image sigmoid(logits). No gradients are recorded.
    public func generate(identity: Int, count: Int, temperature: Double = 1, generator: Generator? = nil) -> Tensor {
        precondition(count >= 1, "Fathom.ConditionalVAE.generate: count must be positive, got \(count)")
        return noGrad {
            let z = Tensor.randn([count, latentCount], generator: generator) * temperature
            return decode(z, labels: Array(repeating: identity, count: count)).sigmoid()
        }
    }
}
