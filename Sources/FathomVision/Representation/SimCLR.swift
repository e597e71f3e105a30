import FathomData
import FathomNN
import FathomTensor

/// SimCLR (Chen, Kornblith, Norouzi & Hinton 2020, "A Simple Framework for Contrastive
/// Learning of Visual Representations"): an encoder f and a projection head g trained so
/// that the two augmented views of each image are nearest neighbours among the 2N views of
/// a batch, by the NT-Xent loss on z = g(f(x)).
///
/// Differences from the paper, for small CPU runs: Adam (or any `Optimizer`) instead of
/// LARS with a 4096 batch; the augmentations of `SimCLRAugmentation` (crop scale 0.2…1).
/// Both views go through the network as one batch of 2N, so batch norm sees all views (the
/// paper's global BN over devices).
public final class SimCLR: Module {
    public let encoder: Layer
    public let projector: ProjectionHead
    /// τ of NT-Xent.
    public var temperature: Double

    public init(encoder: Layer, projector: ProjectionHead, temperature: Double = 0.5) {
        precondition(temperature > 0, "Fathom.SimCLR: temperature must be positive, got \(temperature)")
        self.encoder = encoder
        self.projector = projector
        self.temperature = temperature
        super.init()
    }

    /// The NT-Xent loss of two views `[N, C, H, W]` each (view1[i] and view2[i] of image i).
    public func loss(_ view1: Tensor, _ view2: Tensor) -> Tensor {
        precondition(view1.shape == view2.shape && view1.rank >= 2,
                     "Fathom.SimCLR.loss: the two views must have the same shape [N, …], got \(view1.shape) and \(view2.shape)")
        let n = view1.shape[0]
        let z = projector(encoder(Tensor.cat([view1, view2], axis: 0)))
        return ntXentLoss(z.select([.range(start: 0, end: n)]), z.select([.range(start: n, end: nil)]), temperature: temperature)
    }

    /// One optimization step on `images` (float32 `[N, C, H, W]` in [0, 1]): two views from
    /// `augmentation` keyed by `seed` (pass a different seed each step), NT-Xent, backward,
    /// `optimizer.step()`. Returns the loss before the step.
    @discardableResult
    public func trainStep(_ images: Tensor, augmentation: TwoViewAugmentation, seed: UInt64, optimizer: any Optimizer,
                          normalize: ((Tensor) -> Tensor)? = nil) -> Double {
        train()
        var (a, b) = augmentation(images, seed: seed)
        if let normalize { (a, b) = (normalize(a), normalize(b)) }
        let value = loss(a, b)
        value.backward()
        optimizer.step()
        optimizer.zeroGrad()
        return value.item()
    }

    /// The encoder's representations h of `images` (evaluation mode, no gradients).
    public func features(_ images: Tensor, batchSize: Int = 256) -> Tensor {
        extractFeatures(encoder, images: images, batchSize: batchSize)
    }
}
