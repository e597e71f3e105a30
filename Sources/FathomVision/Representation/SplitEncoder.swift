import FathomNN
import FathomTensor

/// The Split Encoder ("MI invariance" assumption: the mutual information between each latent
/// and the data should not depend on the other latents): the early layers are shared, the
/// deeper layers are split into one independent branch per latent (or per group of
/// `latentsPerBranch` latents), so no parameter after the trunk is shared across branches.
///
/// Layout: flatten → Linear(input, hidden) → ReLU (the shared trunk), then for each branch
/// Linear(hidden, branchHidden) → ReLU → Linear(branchHidden, 2·g) giving the means and
/// log-variances of its g latents.
public final class SplitEncoder: Module, GaussianEncoder {
    public let trunk: Sequential
    public let branches: [Sequential]
    public let latentCount: Int
    public let latentsPerBranch: Int

    public init(inputFeatures: Int, hidden: Int = 256, latentCount: Int, branchHidden: Int = 64,
                latentsPerBranch: Int = 1, generator: Generator? = nil) {
        precondition(inputFeatures > 0 && hidden > 0 && latentCount > 0 && branchHidden > 0,
                     "Fathom.SplitEncoder: sizes must be positive, got input \(inputFeatures), hidden \(hidden), "
                     + "latents \(latentCount), branchHidden \(branchHidden)")
        precondition(latentsPerBranch > 0 && latentCount % latentsPerBranch == 0,
                     "Fathom.SplitEncoder: latentsPerBranch \(latentsPerBranch) must divide latentCount \(latentCount)")
        self.latentCount = latentCount
        self.latentsPerBranch = latentsPerBranch
        trunk = Sequential(Flatten(), Linear(inputFeatures, hidden, generator: generator), ReLU())
        branches = (0..<(latentCount / latentsPerBranch)).map { _ in
            Sequential(Linear(hidden, branchHidden, generator: generator), ReLU(),
                       Linear(branchHidden, 2 * latentsPerBranch, generator: generator))
        }
        super.init()
    }

    public func encode(_ input: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        let shared = trunk(input)
        let g = latentsPerBranch
        let outputs = branches.map { $0(shared) }
        return (Tensor.cat(outputs.map { $0[.all, 0..<g] }, axis: 1),
                Tensor.cat(outputs.map { $0[.all, g..<(2 * g)] }, axis: 1))
    }

    public override func namedChildren() -> [(name: String, module: Module)] {
        [("trunk", trunk)] + branches.enumerated().map { ("branches.\($0.offset)", $0.element) }
    }
}
