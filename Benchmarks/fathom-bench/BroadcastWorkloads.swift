import Fathom

/// Broadcast binary ops and reductions over a non-innermost axis, forward and backward:
/// the patterns of pairwise terms (β-TCVAE minibatch-weighted sampling, distance
/// matrices), channel softmax and broadcast gradients (`sumToShape`). Times per call.
func broadcastWorkloads() -> [Workload] {
    func us(_ key: String, _ body: @escaping () -> Void) -> Workload {
        Workload(key: key, unit: "µs", value: { $0 * 1e6 }, body: body)
    }
    let a = randomTensor([64, 1, 10], seed: 300), b = randomTensor([1, 64, 10], seed: 301)
    let cube = randomTensor([64, 64, 10], seed: 302)
    let tall = randomTensor([4096, 512], seed: 303)
    let square = randomTensor([1024, 1024], seed: 304)
    let row = randomTensor([1, 1024], seed: 305), column = randomTensor([1024, 1], seed: 306)
    let images = randomTensor([32, 10, 28, 28], seed: 307)
    // MWS-like: log q(z_i | x_j) for every pair of a batch of 64 with 10 latents, then the
    // logsumexps over j of the joint and of each marginal, summed; gradients to z, mu, logvar.
    let z = randomTensor([64, 10], seed: 308).requiringGrad()
    let mu = randomTensor([64, 10], seed: 309).requiringGrad()
    let logvar = (randomTensor([64, 10], seed: 310) * 0.5).detach().requiringGrad()
    func mws() -> Tensor {
        let diff = z.unsqueezed(axis: 1) - mu.unsqueezed(axis: 0)            // [64, 64, 10]
        let lv = logvar.unsqueezed(axis: 0)
        let logDensity = (diff.square() * (-lv).exp() + lv + 1.8378770664093453) * -0.5
        let joint = logDensity.sum(axis: 2).logsumexp(axis: 1)                 // [64]
        let marginals = logDensity.logsumexp(axis: 1).sum(axis: 1)             // [64]
        return (joint - marginals).mean()
    }
    return [
        us("bcast_add_64x1x10_1x64x10_us") { blackHole(a + b) },
        us("bcast_sub_sq_64x1x10_1x64x10_us") { blackHole((a - b).square()) },
        us("sum_axis1_64x64x10_us") { blackHole(cube.sum(axis: 1)) },
        us("sum_axis0_64x64x10_us") { blackHole(cube.sum(axis: 0)) },
        us("logsumexp_axis1_64x64x10_us") { blackHole(cube.logsumexp(axis: 1)) },
        us("sum_axis0_4096x512_us") { blackHole(tall.sum(axis: 0)) },
        us("sum_axis1_4096x512_us") { blackHole(tall.sum(axis: 1)) },
        us("mul_bcast_row_1024x1024_us") { blackHole(square * row) },
        us("mul_bcast_col_1024x1024_us") { blackHole(square * column) },
        us("softmax_axis1_32x10x28x28_us") { blackHole(images.softmax(axis: 1)) },
        us("mws_forward_us") { blackHole(noGrad { mws() }) },
        us("mws_forward_backward_us") {
            let loss = mws()
            loss.backward()
            z.grad = nil; mu.grad = nil; logvar.grad = nil
            blackHole(loss)
        },
    ]
}
