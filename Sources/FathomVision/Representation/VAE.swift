import FathomNN
import FathomTensor

/// An encoder with a diagonal-Gaussian posterior q(z|x) = N(mean, exp(logVariance)).
public protocol GaussianEncoder: Module {
    /// Latent dimensions D.
    var latentCount: Int { get }
    /// The posterior's parameters for a batch of inputs: two `[B, D]` tensors.
    func encode(_ input: Tensor) -> (mean: Tensor, logVariance: Tensor)
}

/// The plain MLP encoder of the β-TCVAE paper's dSprites model, scaled down: flatten →
/// Linear → ReLU → Linear → ReLU → Linear(2D), every layer shared by all latents.
public final class MLPGaussianEncoder: Module, GaussianEncoder {
    public let layers: Sequential
    public let latentCount: Int

    public init(inputFeatures: Int, hidden: Int = 256, latentCount: Int, generator: Generator? = nil) {
        precondition(inputFeatures > 0 && hidden > 0 && latentCount > 0,
                     "Fathom.MLPGaussianEncoder: sizes must be positive, got input \(inputFeatures), hidden \(hidden), latents \(latentCount)")
        self.latentCount = latentCount
        layers = Sequential(Flatten(), Linear(inputFeatures, hidden, generator: generator), ReLU(),
                            Linear(hidden, hidden, generator: generator), ReLU(),
                            Linear(hidden, 2 * latentCount, generator: generator))
        super.init()
    }

    public func encode(_ input: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        let out = layers(input)
        let d = latentCount
        return (out[.all, 0..<d], out[.all, d..<(2 * d)])
    }

    public override func namedChildren() -> [(name: String, module: Module)] { layers.namedChildren() }
}

/// A variational autoencoder for images `[B, C, H, W]` in [0, 1]: a Gaussian encoder, the
/// reparameterised sample z = μ + σ·ε (ε from a seeded `Generator`), and an MLP decoder
/// D → hidden → hidden → C·H·W whose outputs are Bernoulli logits.
public final class VAE: Module {
    public let encoder: any GaussianEncoder
    public let decoder: Sequential
    public let imageShape: [Int]
    public var latentCount: Int { encoder.latentCount }

    /// - Parameters:
    ///   - imageShape: `[C, H, W]` of one image.
    ///   - encoder: any Gaussian encoder for inputs of that shape.
    ///   - hidden: the decoder's hidden width.
    public init(imageShape: [Int], encoder: any GaussianEncoder, hidden: Int = 256, generator: Generator? = nil) {
        precondition(imageShape.count == 3 && imageShape.allSatisfy { $0 > 0 },
                     "Fathom.VAE: imageShape must be [C, H, W], got \(imageShape)")
        self.imageShape = imageShape
        self.encoder = encoder
        let pixels = imageShape.reduce(1, *)
        decoder = Sequential(Linear(encoder.latentCount, hidden, generator: generator), ReLU(),
                             Linear(hidden, hidden, generator: generator), ReLU(),
                             Linear(hidden, pixels, generator: generator))
        super.init()
    }

    /// A VAE with the plain MLP encoder (`split: false`) or the split encoder (`split: true`).
    public convenience init(imageShape: [Int], latentCount: Int, hidden: Int = 256, split: Bool = false,
                            branchHidden: Int = 64, generator: Generator? = nil) {
        let features = imageShape.reduce(1, *)
        let encoder: any GaussianEncoder = split
            ? SplitEncoder(inputFeatures: features, hidden: hidden, latentCount: latentCount,
                           branchHidden: branchHidden, generator: generator)
            : MLPGaussianEncoder(inputFeatures: features, hidden: hidden, latentCount: latentCount, generator: generator)
        self.init(imageShape: imageShape, encoder: encoder, hidden: hidden, generator: generator)
    }

    public override func namedChildren() -> [(name: String, module: Module)] {
        [("encoder", encoder), ("decoder", decoder)]
    }

    /// The posterior's parameters, `[B, D]` each.
    public func encode(_ input: Tensor) -> (mean: Tensor, logVariance: Tensor) { encoder.encode(input) }

    /// z = mean + exp(½·logVariance)·ε with ε ~ N(0, I) drawn from `generator`.
    public func reparameterize(mean: Tensor, logVariance: Tensor, generator: Generator? = nil) -> Tensor {
        let epsilon = Tensor.randn(mean.shape, dtype: mean.dtype, generator: generator)
        return mean + (0.5 * logVariance).exp() * epsilon
    }

    /// Bernoulli logits `[B, C, H, W]` for latents `[B, D]`.
    public func decode(_ z: Tensor) -> Tensor {
        decoder(z).reshaped([z.shape[0]] + imageShape)
    }

    /// Encode, sample, decode: everything the objectives need.
    public func callAsFunction(_ input: Tensor, generator: Generator? = nil)
        -> (logits: Tensor, z: Tensor, mean: Tensor, logVariance: Tensor) {
        let (mean, logVariance) = encode(input)
        let z = reparameterize(mean: mean, logVariance: logVariance, generator: generator)
        return (decode(z), z, mean, logVariance)
    }

    /// The objective's terms for a batch of images (one forward pass).
    public func loss(_ objective: VAEObjective, images: Tensor, generator: Generator? = nil) -> VAELossTerms {
        let out = self(images, generator: generator)
        return vaeLoss(objective, logits: out.logits, target: images, z: out.z, mean: out.mean,
                       logVariance: out.logVariance)
    }
}
