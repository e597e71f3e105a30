import ArgumentParser
import Fathom

/// Fits a small linear regression with autodiff and prints the loss falling: the README's
/// example, runnable.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a linear regression by gradient descent with autodiff and print the loss.")

    @Option(help: "Gradient-descent steps.") var steps = 100
    @Option(help: "Learning rate.") var lr = 0.1
    @Option(help: "Random seed for the data.") var seed: UInt64 = 1

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
    }

    func run() throws {
        // Data: y = 2·x₀ − 3·x₁ + 0.5·x₂ + 0.7, with noise.
        let x = Tensor.randn([256, 3], seed: seed)
        let trueWeight = Tensor([2, -3, 0.5] as [Float], shape: [3, 1])
        let y = x.matmul(trueWeight) + 0.7 + 0.1 * Tensor.randn([256, 1], seed: seed + 1)

        let w = Tensor.zeros([3, 1]).requiringGrad()
        let b = Tensor.zeros([1]).requiringGrad()
        print("Fitting y = x·w + b to 256 noisy points by gradient descent (lr \(lr)).")
        for step in 0...steps {
            let loss = (x.matmul(w) + b - y).square().mean()
            if step % max(1, steps / 10) == 0 || step == steps {
                print("step \(String(step).leftPadded(4))  loss \(loss.item())")
            }
            if step == steps { break }
            loss.backward()
            noGrad {
                w.addInPlace(w.grad!, alpha: -lr)
                b.addInPlace(b.grad!, alpha: -lr)
            }
            w.grad = nil
            b.grad = nil
        }
        print("learned w = \(w.detach().reshaped([3]).scalars(as: Float.self)), b = \(b.item()) (true: [2, -3, 0.5], 0.7)")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
