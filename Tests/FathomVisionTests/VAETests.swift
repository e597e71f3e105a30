import Foundation
import XCTest
import FathomNN
import FathomTensor
import FathomTestSupport
@testable import FathomVision

final class VAETests: XCTestCase {
    // MARK: objective pieces: float64 gradient checks

    func testGaussianPiecesGradients() {
        let z = sample([3, 2]), mean = sample([3, 2], offset: 0.3), logVar = sample([3, 2], scale: 0.5)
        checkGradients([z, mean, logVar]) { gaussianLogDensity($0[0], mean: $0[1], logVariance: $0[2]) }
        checkGradients([z]) { standardNormalLogDensity($0[0]) }
        checkGradients([mean, logVar]) { gaussianKLToStandardNormal(mean: $0[0], logVariance: $0[1]) }
        checkSecondOrder([mean, logVar]) { gaussianKLToStandardNormal(mean: $0[0], logVariance: $0[1]).sum() }
    }

    func testBernoulliReconstructionGradientAndValue() {
        let logits = sample([2, 1, 2, 3], scale: 2), target = Tensor.rand([2, 1, 2, 3], dtype: .float64, seed: 3)
        checkGradients([logits]) { bernoulliReconstructionLoss(logits: $0[0], target: target) }
        // −log p(x|z) of one pixel: x = 0 logit, any target → log 2.
        let value = bernoulliReconstructionLoss(logits: Tensor.zeros([1, 4], dtype: .float64),
                                                target: Tensor([0.0, 1, 0.3, 1], shape: [1, 4]))
        XCTAssertEqual(value.item(), 4 * Foundation.log(2.0), accuracy: 1e-12)
    }

    func testMinibatchWeightedSamplingGradients() {
        let z = sample([4, 3]), mean = sample([4, 3], offset: 0.2), logVar = sample([4, 3], scale: 0.4)
        checkGradients([z, mean, logVar]) { xs in
            let (a, b) = minibatchWeightedSampling(z: xs[0], mean: xs[1], logVariance: xs[2], datasetSize: 50)
            return Tensor.cat([a, b])
        }
        checkSecondOrder([z, mean, logVar]) { xs in
            minibatchWeightedSampling(z: xs[0], mean: xs[1], logVariance: xs[2], datasetSize: 50).logQZ.sum()
        }
    }

    func testTCVAELossGradients() {
        let logits = sample([3, 4]), target = Tensor.rand([3, 4], dtype: .float64, seed: 5)
        let z = sample([3, 2]), mean = sample([3, 2], offset: 0.1), logVar = sample([3, 2], scale: 0.3)
        for objective in [VAEObjective.betaTCVAE(alpha: 1, beta: 6, gamma: 1, datasetSize: 30), .betaVAE(beta: 4)] {
            checkGradients([logits, z, mean, logVar]) { xs in
                vaeLoss(objective, logits: xs[0], target: target, z: xs[1], mean: xs[2], logVariance: xs[3]).total
            }
        }
    }

    // MARK: NumPy references (scripts/fixtures_tcvae.py)

    func testMinibatchWeightedSamplingMatchesBruteForce() throws {
        let cases = try loadFixtures("tcvae")
        var checked = 0
        for (name, c) in cases where name.hasPrefix("mws") {
            let n = Int(c.params["dataset_size"]!)
            let (a, b) = minibatchWeightedSampling(z: c.inputs[0].tensor, mean: c.inputs[1].tensor,
                                                   logVariance: c.inputs[2].tensor, datasetSize: n)
            assertMatches(Tensor.stack([a, b]), c.output, rtol: 1e-10, atol: 1e-10, name)
            checked += 1
        }
        XCTAssertEqual(checked, 3)
    }

    func testSelfNormalizedSamplingMatchesBruteForce() throws {
        let cases = try loadFixtures("tcvae")
        var checked = 0
        for (name, c) in cases where name.hasPrefix("selfnormalized") {
            let (a, b) = selfNormalizedMinibatchSampling(z: c.inputs[0].tensor, mean: c.inputs[1].tensor,
                                                         logVariance: c.inputs[2].tensor, datasetSize: Int(c.params["dataset_size"]!))
            assertMatches(Tensor.stack([a, b]), c.output, rtol: 1e-10, atol: 1e-10, name)
            checked += 1
        }
        XCTAssertEqual(checked, 3)
        let z = sample([4, 3]), mean = sample([4, 3], offset: 0.2), logVar = sample([4, 3], scale: 0.4)
        checkGradients([z, mean, logVar]) { xs in
            let (a, b) = selfNormalizedMinibatchSampling(z: xs[0], mean: xs[1], logVariance: xs[2], datasetSize: 50)
            return Tensor.cat([a, b])
        }
    }

    /// Identical posteriors (collapsed latents): q(z) = ∏ q(z_d), so the true TC is 0. MWS
    /// reads (D − 1)·log N (its weights sum to 1/N); the self-normalized estimator reads 0.
    func testTotalCorrelationEstimatorsOnCollapsedPosteriors() {
        let m = 8, d = 5, n = 1000
        let z = Tensor.randn([m, d], dtype: .float64, seed: 1)
        let mean = Tensor.zeros([m, d], dtype: .float64), logVar = Tensor.zeros([m, d], dtype: .float64)
        let mws = minibatchWeightedSampling(z: z, mean: mean, logVariance: logVar, datasetSize: n)
        let sn = selfNormalizedMinibatchSampling(z: z, mean: mean, logVariance: logVar, datasetSize: n)
        XCTAssertEqual((mws.logQZ - mws.logProductOfMarginals).mean().item(), Double(d - 1) * Foundation.log(Double(n)), accuracy: 1e-9)
        XCTAssertEqual((sn.logQZ - sn.logProductOfMarginals).mean().item(), 0, accuracy: 1e-9)
        XCTAssertTrue(sn.logQZ.allClose(standardNormalLogDensity(z).sum(axis: 1)), "log q(z) = log p(z) when q(z|x) = p(z)")
    }

    func testTCVAETermsMatchNumPy() throws {
        let c = try XCTUnwrap(try loadFixtures("tcvae")["tcvae_terms"])
        let t = c.inputs.map(\.tensor)
        let objective = VAEObjective.betaTCVAE(alpha: c.params["alpha"]!, beta: c.params["beta"]!, gamma: c.params["gamma"]!,
                                               datasetSize: Int(c.params["dataset_size"]!))
        let terms = vaeLoss(objective, logits: t[0], target: t[1], z: t[2], mean: t[3], logVariance: t[4])
        let got = Tensor.stack([terms.reconstruction, terms.kl, terms.mutualInformation!, terms.totalCorrelation!,
                                terms.dimensionwiseKL!, terms.total])
        assertMatches(got, c.output, rtol: 1e-10, atol: 1e-10, "tcvae_terms")
    }

    // MARK: models

    func testVAEShapesAndSeededSampling() {
        let model = VAE(imageShape: [1, 8, 8], latentCount: 3, hidden: 16, generator: Generator(seed: 1))
        let x = Tensor.rand([5, 1, 8, 8], seed: 2)
        let a = model(x, generator: Generator(seed: 9)), b = model(x, generator: Generator(seed: 9))
        XCTAssertEqual(a.logits.shape, [5, 1, 8, 8])
        XCTAssertEqual(a.z.shape, [5, 3])
        XCTAssertEqual(a.z.scalars(as: Float.self), b.z.scalars(as: Float.self), "same generator seed, same sample")
        let terms = model.loss(.betaTCVAE(alpha: 1, beta: 6, gamma: 1, datasetSize: 100), images: x, generator: Generator(seed: 3))
        XCTAssertTrue(terms.total.item().isFinite)
        XCTAssertEqual(terms.mutualInformation!.item() + terms.totalCorrelation!.item() + terms.dimensionwiseKL!.item(),
                       (terms.total - terms.reconstruction - 5 * terms.totalCorrelation!).item(), accuracy: 1e-3)
        XCTAssertEqual(Set(model.namedParameters().map(\.name)).count, model.namedParameters().count)
        XCTAssertTrue(model.namedParameters().contains { $0.name == "encoder.5.weight" })
    }

    /// The split encoder's branches share no parameters: latent j's mean and log-variance
    /// have zero gradient with respect to every other branch's weights.
    func testSplitEncoderBranchesShareNoParameters() {
        let encoder = SplitEncoder(inputFeatures: 12, hidden: 8, latentCount: 3, branchHidden: 4, generator: Generator(seed: 4))
        XCTAssertEqual(encoder.branches.count, 3)
        let x = Tensor.rand([6, 1, 3, 4], seed: 5)
        for j in 0..<3 {
            for p in encoder.parameters() { p.grad = nil }
            let (mean, logVar) = encoder.encode(x)
            (mean[.all, j].sum() + logVar[.all, j].square().sum()).backward()
            for (k, branch) in encoder.branches.enumerated() {
                let norm = branch.parameters().map { ($0.grad?.doubles ?? []).map(Swift.abs).reduce(0, +) }.reduce(0, +)
                if k == j { XCTAssertGreaterThan(norm, 0, "latent \(j) must depend on its own branch") }
                else { XCTAssertEqual(norm, 0, "latent \(j) depends on branch \(k)") }
            }
            let trunk = encoder.trunk.parameters().map { ($0.grad?.doubles ?? []).map(Swift.abs).reduce(0, +) }.reduce(0, +)
            XCTAssertGreaterThan(trunk, 0, "the trunk is shared")
        }
        // Groups: 4 latents in 2 branches of 2.
        let grouped = SplitEncoder(inputFeatures: 12, hidden: 8, latentCount: 4, branchHidden: 4, latentsPerBranch: 2)
        XCTAssertEqual(grouped.branches.count, 2)
        XCTAssertEqual(grouped.encode(x).mean.shape, [6, 4])
        // Inside a VAE the branches keep their dotted names.
        let vae = VAE(imageShape: [1, 3, 4], latentCount: 3, hidden: 8, split: true, branchHidden: 4)
        XCTAssertTrue(vae.namedParameters().contains { $0.name == "encoder.branches.2.2.weight" })
    }

    /// A few Adam steps on fixed images lower the objective (the pieces train together).
    func testTrainingLowersTheLoss() {
        let model = VAE(imageShape: [1, 6, 6], latentCount: 2, hidden: 32, split: true, branchHidden: 8, generator: Generator(seed: 1))
        let images = Tensor.rand([16, 1, 6, 6], seed: 3).gt(0.5).to(.float32)
        let optimizer = Adam(model.parameters(), lr: 3e-3)
        let objective = VAEObjective.betaTCVAE(alpha: 1, beta: 2, gamma: 1, datasetSize: 16)
        let generator = Generator(seed: 0)
        var losses: [Double] = []
        for _ in 0..<40 {
            optimizer.zeroGrad()
            let terms = model.loss(objective, images: images, generator: generator)
            terms.total.backward()
            optimizer.step()
            losses.append(terms.total.item())
        }
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, losses.prefix(5).reduce(0, +) / 5 - 1)
    }
}
