import Fathom
import Foundation

/// Convolution layers of small CNNs: forward alone (`_fwd_ms`, as in inference) and forward + backward (the gradients training needs:
/// weight and bias always, the input only for layers after the first), batch as in training.
/// `flop` counts 2 per multiply-add: forward, weight gradient and (if taken) input gradient.
///
func convWorkloads() -> [Workload] {
    struct Layer {
        let key: String
        let batch: Int, inChannels: Int, outChannels: Int, size: Int, groups: Int, inputGrad: Bool
    }
    let layers = [
        Layer(key: "conv_b64_1x32_28_fwdbwd_ms", batch: 64, inChannels: 1, outChannels: 32, size: 28, groups: 1, inputGrad: false),
        Layer(key: "conv_b64_32x64_14_fwdbwd_ms", batch: 64, inChannels: 32, outChannels: 64, size: 14, groups: 1, inputGrad: true),
        Layer(key: "conv_b128_3x64_32_fwdbwd_ms", batch: 128, inChannels: 3, outChannels: 64, size: 32, groups: 1, inputGrad: false),
        Layer(key: "conv_b128_64x64_32_fwdbwd_ms", batch: 128, inChannels: 64, outChannels: 64, size: 32, groups: 1, inputGrad: true),
        Layer(key: "conv_b128_dw64_32_fwdbwd_ms", batch: 128, inChannels: 64, outChannels: 64, size: 32, groups: 64, inputGrad: true),
    ]
    return layers.enumerated().flatMap { i, layer in
        let seed = UInt64(100 + 10 * i)
        let x = randomTensor([layer.batch, layer.inChannels, layer.size, layer.size], seed: seed)
        let w = (randomTensor([layer.outChannels, layer.inChannels / layer.groups, 3, 3], seed: seed + 1) * 0.1).requiringGrad()
        let b = randomTensor([layer.outChannels], seed: seed + 2).requiringGrad()
        let g = randomTensor([layer.batch, layer.outChannels, layer.size, layer.size], seed: seed + 3)
        let input = layer.inputGrad ? x.requiringGrad() : x
        return [
            Workload(key: layer.key.replacingOccurrences(of: "_fwdbwd_", with: "_fwd_"), unit: "ms", value: { $0 * 1e3 }) {
                blackHole(noGrad { conv2d(x, weight: w, bias: b, padding: 1, groups: layer.groups) })
            },
            Workload(key: layer.key, unit: "ms", value: { $0 * 1e3 }) {
                let y = conv2d(input, weight: w, bias: b, padding: 1, groups: layer.groups)
                blackHole(gradients(of: [y], wrt: layer.inputGrad ? [w, b, input] : [w, b], seeds: [g]))
            },
        ]
    }
}
