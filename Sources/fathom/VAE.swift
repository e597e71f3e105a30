import ArgumentParser
import Fathom
import Foundation

/// `fathom vae`: trains a β-VAE or β-TCVAE (optionally with the Split Encoder) on the
/// procedural dSprites-style shapes (`ShapesFactors`) and measures disentanglement with MIG.
struct VAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Train a β-VAE / β-TCVAE on procedural shapes with known factors and measure MIG.")

    @Option(help: "Objective: beta (β-VAE) or tcvae (β-TCVAE, minibatch-weighted sampling).") var objective = "tcvae"
    @Option(help: "β: weight of the KL (beta) or of the total correlation (tcvae).") var beta = 6.0
    @Flag(help: "Use the Split Encoder: one independent branch per latent after a shared first layer.") var splitEncoder = false
    @Option(help: "Latent dimensions.") var latents = 6
    @Option(help: "Training steps (one batch each).") var steps = 2000
    @Option(help: "Batch size.") var batchSize = 64
    @Option(help: "Adam learning rate.") var lr = 1e-3
    @Option(help: "Seed of the weights, batches and reparameterisation noise.") var seed: UInt64 = 0
    @Option(help: "Image side in pixels.") var imageSize = 32
    @Option(help: "Scale values of the dataset grid.") var scales = 4
    @Option(help: "Rotation values of the dataset grid.") var rotations = 8
    @Option(help: "Positions along x and along y of the dataset grid.") var positions = 8
    @Option(help: "Hidden width of the encoder and decoder MLPs.") var hidden = 256
    @Option(help: "Hidden width of each split-encoder branch.") var branchHidden = 64
    @Option(help: "Histogram bins per latent for MIG.") var bins = 20
    @Option(help: "Run directory (default: runs/vae-OBJECTIVE[-split]-seedSEED).") var out: String?

    func validate() throws {
        if objective != "beta" && objective != "tcvae" { throw ValidationError("--objective must be beta or tcvae, got \(objective)") }
        if latents < 2 { throw ValidationError("--latents must be at least 2 (MIG compares the top two), got \(latents)") }
        if steps < 1 || batchSize < 2 { throw ValidationError("--steps must be positive and --batch-size at least 2") }
        if imageSize < 16 { throw ValidationError("--image-size must be at least 16, got \(imageSize)") }
        if scales < 1 || rotations < 1 || positions < 1 { throw ValidationError("--scales, --rotations and --positions must be positive") }
        if bins < 1 { throw ValidationError("--bins must be positive, got \(bins)") }
    }

    func run() throws {
        let data = ShapesFactors(imageSize: imageSize, scaleCount: scales, rotationCount: rotations, positionCount: positions)
        let name = "vae-\(objective)\(splitEncoder ? "-split" : "")-seed\(seed)"
        let directory = URL(fileURLWithPath: out ?? "runs/\(name)")
        let run = try RunDirectory(directory, config: [
            "command": "vae", "objective": objective, "beta": beta, "split_encoder": splitEncoder, "latents": latents,
            "steps": steps, "batch_size": batchSize, "lr": lr, "seed": seed, "image_size": imageSize,
            "factor_sizes": data.factorSizes, "hidden": hidden, "branch_hidden": branchHidden, "bins": bins,
        ])
        let (images, factors) = data.enumerateAll()
        let n = data.count
        let batch = min(batchSize, n)
        let lossObjective: VAEObjective = objective == "beta" ? .betaVAE(beta: beta)
            : .betaTCVAE(alpha: 1, beta: beta, gamma: 1, datasetSize: n)
        let model = VAE(imageShape: [1, imageSize, imageSize], latentCount: latents, hidden: hidden,
                        split: splitEncoder, branchHidden: branchHidden, generator: Generator(seed: seed))
        let optimizer = Adam(model.parameters(), lr: lr)
        let batches = Generator(seed: seed &+ 1), noise = Generator(seed: seed &+ 2)
        print("Training \(objective == "beta" ? "β-VAE" : "β-TCVAE") (β = \(beta)\(splitEncoder ? ", split encoder" : "")) "
              + "on \(n) procedural shapes \(data.factorSizes) for \(steps) steps of \(batch).")

        let logEvery = max(1, steps / 200)
        var curve: (step: [Double], total: [Double], reconstruction: [Double], kl: [Double]) = ([], [], [], [])
        let start = Date()
        var window: (total: Double, reconstruction: Double, kl: Double, count: Double) = (0, 0, 0, 0)
        for step in 1...steps {
            let index = Tensor.randint(high: n, [batch], generator: batches)
            optimizer.zeroGrad()
            let terms = model.loss(lossObjective, images: images.indexSelect(axis: 0, index: index), generator: noise)
            terms.total.backward()
            optimizer.step()
            window.total += terms.total.item()
            window.reconstruction += terms.reconstruction.item()
            window.kl += terms.kl.item()
            window.count += 1
            if step % logEvery == 0 || step == steps {
                let record: [String: Any] = ["step": step, "loss": window.total / window.count,
                                             "reconstruction": window.reconstruction / window.count, "kl": window.kl / window.count]
                try run.log(record)
                curve.step.append(Double(step))
                curve.total.append(window.total / window.count)
                curve.reconstruction.append(window.reconstruction / window.count)
                curve.kl.append(window.kl / window.count)
                window = (0, 0, 0, 0)
            }
        }
        let seconds = Date().timeIntervalSince(start)

        // Evaluation on the whole grid: posterior means for MIG; reconstruction, KL and the
        // MWS total correlation from sampled z as in training, batch by batch.
        model.eval()
        // The TC estimators need batches that are random samples, so the grid is visited in a
        // fixed shuffled order (MIG pairs each mean with its own factors, so order is moot).
        let order = Tensor.randperm(n, generator: Generator(seed: seed &+ 3))
        let evaluation = noGrad { () -> (means: Tensor, reconstruction: Double, kl: Double, tc: Double, tcMWS: Double) in
            var means: [Tensor] = []
            var sums = (reconstruction: 0.0, kl: 0.0, tc: 0.0, tcMWS: 0.0, tcBatches: 0.0)
            let evalNoise = Generator(seed: seed &+ 4)
            var lo = 0
            while lo < n {
                let hi = min(n, lo + batch)
                let x = images.indexSelect(axis: 0, index: order[lo..<hi])
                let out = model(x, generator: evalNoise)
                means.append(out.mean)
                sums.reconstruction += bernoulliReconstructionLoss(logits: out.logits, target: x).sum().item()
                sums.kl += gaussianKLToStandardNormal(mean: out.mean, logVariance: out.logVariance).sum().item()
                if hi - lo >= 2 {
                    let sn = selfNormalizedMinibatchSampling(z: out.z, mean: out.mean, logVariance: out.logVariance, datasetSize: n)
                    let mws = minibatchWeightedSampling(z: out.z, mean: out.mean, logVariance: out.logVariance, datasetSize: n)
                    sums.tc += (sn.logQZ - sn.logProductOfMarginals).mean().item()
                    sums.tcMWS += (mws.logQZ - mws.logProductOfMarginals).mean().item()
                    sums.tcBatches += 1
                }
                lo = hi
            }
            let batches = Swift.max(1, sums.tcBatches)
            return (Tensor.cat(means), sums.reconstruction / Double(n), sums.kl / Double(n), sums.tc / batches, sums.tcMWS / batches)
        }
        let mig = mutualInformationGap(latents: evaluation.means, factors: factors.indexSelect(axis: 0, index: order), bins: bins)

        var plot = SVGPlot(title: "Training objective", xLabel: "step", yLabel: "nats per image (mean over logged window)")
        plot.add("loss", x: curve.step, y: curve.total)
        plot.add("reconstruction", x: curve.step, y: curve.reconstruction)
        plot.add("kl", x: curve.step, y: curve.kl)
        try plot.write(to: run.file("loss.svg"))
        // The reference image is the first of the shuffled grid: a random image, fixed by the seed.
        try writeTraversal(model, from: evaluation.means[0..<1], to: run.file("traversal.png"))

        let summary: [String: Any] = [
            "objective": objective, "beta": beta, "split_encoder": splitEncoder, "latents": latents, "steps": steps,
            "mig": mig.score, "mig_per_factor": mig.perFactor.map { $0.isNaN ? -1 : $0 }, "factor_names": ShapesFactors.factorNames,
            "reconstruction": evaluation.reconstruction, "kl": evaluation.kl, "tc": evaluation.tc, "tc_mws": evaluation.tcMWS,
            "final_loss": curve.total.last ?? .nan, "train_seconds": seconds, "dataset_size": n,
            "parameters": model.parameterCount,
        ]
        try run.writeSummary(summary)
        var report = Report(title: "\(objective == "beta" ? "β-VAE" : "β-TCVAE")\(splitEncoder ? " + Split Encoder" : "") on procedural shapes",
                            paragraph: "\(steps) Adam steps (batch \(batch), lr \(lr), seed \(seed)) on all \(n) images of a "
            + "dSprites-style grid with factors shape × scale × rotation × x × y = \(data.factorSizes.map(String.init).joined(separator: " × ")) "
            + "(\(imageSize)×\(imageSize) pixels), \(latents) latents, β = \(beta). `reconstruction` is the Bernoulli "
            + "negative log-likelihood (BCE summed over pixels) per image, `kl` the closed-form KL(q(z|x)‖p(z)), `tc` the "
            + "total correlation estimated on shuffled batches with self-normalized importance weights (`tc_mws`: the "
            + "minibatch-weighted-sampling estimate of Chen et al. 2018 used by the training objective, offset by up to "
            + "(D − 1)·log N when latents collapse), all on the whole grid; "
            + "MIG uses the posterior means with \(bins)-bin histograms.")
        report.add("mig", mig.score)
        for (name, value) in zip(ShapesFactors.factorNames, mig.perFactor) { report.add("mig (\(name))", value) }
        report.add("reconstruction", evaluation.reconstruction)
        report.add("kl", evaluation.kl)
        report.add("tc", evaluation.tc)
        report.add("tc_mws", evaluation.tcMWS)
        report.add("training time (s)", seconds)
        report.image("Training objective", "loss.svg")
        report.image("Latent traversal (rows: latents; columns: z_d from −2.5 to 2.5, the other latents at the posterior mean of a random image)", "traversal.png")
        try report.write(to: run.file("report.md"))
        print(String(format: "MIG %.4f, reconstruction %.2f, KL %.2f, TC %.3f (%.0f s); run directory %@",
                     mig.score, evaluation.reconstruction, evaluation.kl, evaluation.tc, seconds, directory.path))
    }

    /// A gray PNG grid: one row per latent, 7 columns sweeping that latent from −2.5 to 2.5
    /// with the others at `code` (`[1, D]`, the posterior mean of a reference image), decoded
    /// to Bernoulli means; tiles are separated (and framed) by 1-pixel gray lines.
    private func writeTraversal(_ model: VAE, from code: Tensor, to url: URL) throws {
        let d = model.latentCount, columns = 7, side = imageSize, gap = 1
        let base = code.scalars(as: Float.self)
        var rows: [[Float]] = []
        for j in 0..<d {
            for c in 0..<columns {
                var z = base
                z[j] = Float(-2.5 + 5 * Double(c) / Double(columns - 1))
                rows.append(z)
            }
        }
        let decoded = noGrad { model.decode(Tensor(rows.flatMap { $0 }, shape: [d * columns, d])).sigmoid() }
        let pixels = decoded.scalars(as: Float.self)
        let width = columns * (side + gap) + gap, height = d * (side + gap) + gap
        var image = [UInt8](repeating: 96, count: width * height)
        for j in 0..<d {
            for c in 0..<columns {
                let tile = (j * columns + c) * side * side
                for y in 0..<side {
                    for x in 0..<side {
                        let v = Swift.max(0, Swift.min(1, pixels[tile + y * side + x]))
                        image[(gap + j * (side + gap) + y) * width + gap + c * (side + gap) + x] = UInt8((v * 255).rounded())
                    }
                }
            }
        }
        try PNG.write(PNGImage(width: width, height: height, channels: 1, pixels: image), to: url)
    }
}
