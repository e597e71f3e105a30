import FathomNN
import FathomTensor

/// SimCLR's projection head g(·) (Chen et al. 2020, §2.1; with batch norm as in SimCLR v2
/// and most reproductions): Linear → BatchNorm1d → ReLU → Linear. The contrastive loss is
/// computed on its output z = g(h); downstream tasks use the encoder output h.
public final class ProjectionHead: Layer {
    public let layers: Sequential
    public let inFeatures: Int, hiddenFeatures: Int, outFeatures: Int

    public init(inFeatures: Int, hiddenFeatures: Int? = nil, outFeatures: Int = 64, generator: Generator? = nil) {
        let hidden = hiddenFeatures ?? inFeatures
        precondition(inFeatures > 0 && hidden > 0 && outFeatures > 0,
                     "Fathom.ProjectionHead: feature counts must be positive, got \(inFeatures)-\(hidden)-\(outFeatures)")
        self.inFeatures = inFeatures
        self.hiddenFeatures = hidden
        self.outFeatures = outFeatures
        layers = Sequential(Linear(inFeatures, hidden, generator: generator), BatchNorm1d(hidden), ReLU(),
                            Linear(hidden, outFeatures, generator: generator))
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { layers(input) }
}
