import Fathom

/// Whole training steps: forward, cross-entropy, backward, SGD (lr 0.05, momentum 0.9)
/// step and `zeroGrad`, on random inputs and labels, in training mode. The same models and
/// update as `Benchmarks/torch_core.py` (its `step_*` keys): MLP 784-512-512-10 at batch
/// 128, LeNet-5 at batch 64 on 28×28, ResNet-20 (CIFAR, 1×1 projection shortcuts) at batch
/// 128 on 32×32×3, and a 16-16-10 MLP at batch 8 (eager overhead of a small step).
func stepWorkloads() -> [Workload] {
    func step(_ key: String, unit: String, scale: Double, model: Layer, input: [Int], seed: UInt64) -> Workload {
        let x = randomTensor(input, seed: seed)
        let labels = Tensor((0..<input[0]).map { Int64(($0 * 7 + Int(seed)) % 10) }, shape: [input[0]])
        let optimizer = SGD(model.parameters(), lr: 0.05, momentum: 0.9)
        model.train()
        return Workload(key: key, unit: unit, value: { $0 * scale }) {
            let loss = crossEntropy(model(x), labels)
            loss.backward()
            optimizer.step()
            optimizer.zeroGrad()
            blackHole(loss)
        }
    }
    func zoo(_ name: String, _ shape: [Int]) -> Layer {
        // The zoo only throws for unknown names or inputs a model cannot take; these are fixed.
        try! ModelZoo.make(name, inputShape: shape, classCount: 10)
    }
    manualSeed(0)
    return [
        step("step_mlp_b128_ms", unit: "ms", scale: 1e3, model: zoo("mlp", [1, 28, 28]), input: [128, 1, 28, 28], seed: 200),
        step("step_lenet_b64_ms", unit: "ms", scale: 1e3, model: zoo("lenet5", [1, 28, 28]), input: [64, 1, 28, 28], seed: 210),
        step("step_resnet20_b128_ms", unit: "ms", scale: 1e3, model: zoo("resnet20", [3, 32, 32]), input: [128, 3, 32, 32],
             seed: 220),
        step("step_tiny_mlp_b8_us", unit: "µs", scale: 1e6, model: Sequential(Linear(16, 16), ReLU(), Linear(16, 10)),
             input: [8, 16], seed: 230),
    ]
}
