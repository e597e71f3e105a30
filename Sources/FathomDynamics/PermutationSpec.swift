import FathomNN
import FathomTensor

/// Which permutation of hidden units acts on which axis of which parameter, in the style of
/// Git Re-Basin (Ainsworth, Hayase & Srinivasa 2023, `PermutationSpec`).
///
/// A network computes the same function after its hidden units are reordered, provided every
/// tensor that reads or writes those units is reordered alike: the rows of the layer that
/// produces them (weight, bias, and a following batch norm's weight, bias and running
/// statistics) and the input columns of every layer that consumes them. A *group* names one
/// such set of units; a residual connection ties everything added to one stream into one
/// group. Keys are PyTorch dotted state-dict keys (`layer1.0.conv1.weight`).
public struct PermutationSpec: CustomStringConvertible {
    /// For each key, in order, the group acting on each axis (`nil`: that axis is not permuted).
    public private(set) var entries: [(key: String, axes: [String?])]
    private var index: [String: Int] = [:]

    /// A spec from `(key, groups per axis)` pairs; a key listed twice keeps its last axes.
    public init(_ entries: [(String, [String?])] = []) {
        self.entries = []
        for (key, axes) in entries { self[key] = axes }
    }

    /// The groups acting on the axes of `key`, or nil when the key is not permuted at all.
    public subscript(key: String) -> [String?]? {
        get { index[key].map { entries[$0].axes } }
        set {
            if let i = index[key] {
                if let newValue { entries[i].axes = newValue }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    /// The keys, in order.
    public var keys: [String] { entries.map(\.key) }

    /// The group names, in order of first appearance.
    public var groups: [String] {
        var seen = Set<String>(), result: [String] = []
        for (_, axes) in entries {
            for case let g? in axes where seen.insert(g).inserted { result.append(g) }
        }
        return result
    }

    /// Every `(key, axis)` that `group` acts on, in key order.
    public func axes(of group: String) -> [(key: String, axis: Int)] {
        var result: [(String, Int)] = []
        for (key, axes) in entries {
            for (axis, g) in axes.enumerated() where g == group { result.append((key, axis)) }
        }
        return result
    }

    /// The number of units in each group, read from `state`; stops when two axes of one
    /// group disagree or a key is missing (the spec does not fit the model).
    public func groupSizes(in state: StateDict) -> [String: Int] {
        var sizes: [String: Int] = [:]
        for (key, axes) in entries {
            guard let shape = state[key]?.shape else { continue }
            precondition(shape.count == axes.count,
                         "Fathom.PermutationSpec: '\(key)' has shape \(shape) but the spec lists \(axes.count) axes \(axes); the spec does not fit this model")
            for (axis, g) in axes.enumerated() {
                guard let g else { continue }
                if let n = sizes[g] {
                    precondition(n == shape[axis],
                                 "Fathom.PermutationSpec: group '\(g)' has \(n) units elsewhere but axis \(axis) of '\(key)' (shape \(shape)) has \(shape[axis]); the spec ties axes that differ")
                } else {
                    sizes[g] = shape[axis]
                }
            }
        }
        return sizes
    }

    public var description: String {
        "PermutationSpec(\n" + entries.map { "  \($0.key): \($0.axes.map { $0 ?? "-" })" }.joined(separator: "\n") + "\n)"
    }

    // MARK: builders

    /// The spec of a multilayer perceptron made of `Linear` layers under the key prefixes
    /// `layers` (weight `[out, in]`, bias `[out]`): the hidden units after layer `i` form group
    /// `P_i`; the inputs of the first layer and the outputs of the last are not permuted.
    public static func mlp(layers: [String]) -> PermutationSpec {
        var spec = PermutationSpec()
        for (i, prefix) in layers.enumerated() {
            let output: String? = i == layers.count - 1 ? nil : "P_\(i)"
            let input: String? = i == 0 ? nil : "P_\(i - 1)"
            spec["\(prefix).weight"] = [output, input]
            spec["\(prefix).bias"] = [output]
        }
        return spec
    }

    /// The spec of FathomVision's `MLP` with `hiddenLayers` hidden layers (keys `1.weight`,
    /// `1.bias`, `3.weight`, …: a Flatten, then Linear/ReLU pairs, then the classifier).
    public static func mlpSpec(hiddenLayers: Int = 2) -> PermutationSpec {
        mlp(layers: (0...hiddenLayers).map { String(2 * $0 + 1) })
    }

    /// The residual block kinds of `resNet(stem:stages:classifier:)`.
    public enum BlockKind { case basic, bottleneck }

    /// One stage of a ResNet: its key prefix (`layer1`), block kind, number of blocks, and
    /// whether its first block has a projection shortcut (`downsample.0` conv, `downsample.1`
    /// batch norm), which starts a new residual stream.
    public struct Stage {
        public var name: String, kind: BlockKind, blocks: Int, downsample: Bool
        public init(_ name: String, kind: BlockKind = .basic, blocks: Int, downsample: Bool) {
            self.name = name; self.kind = kind; self.blocks = blocks; self.downsample = downsample
        }
    }

    /// The spec of a torchvision-style ResNet with batch norm (keys `conv1.weight`, `bn1.*`,
    /// `layer1.0.conv1.weight`, `layer1.0.downsample.0.weight`, …, `fc.weight`).
    ///
    /// Everything added into one residual stream shares a group (`P_res0`, `P_res1`, …): the
    /// stem, every block's last conv/BN of the stage and the projection that opened it; a new
    /// stream starts at each projection shortcut. Channels inside a block get their own
    /// group (`P_layer1.0.inner1`, …). A batch norm's `weight`, `bias`, `running_mean` and
    /// `running_var` permute with the conv it follows; `num_batches_tracked` is not permuted.
    public static func resNet(stem: (conv: String, bn: String) = ("conv1", "bn1"), stages: [Stage],
                              classifier: String = "fc") -> PermutationSpec {
        var spec = PermutationSpec()
        func conv(_ key: String, out: String?, in input: String?) { spec["\(key).weight"] = [out, input, nil, nil] }
        func bn(_ key: String, _ group: String) {
            for name in ["weight", "bias", "running_mean", "running_var"] { spec["\(key).\(name)"] = [group] }
        }
        var streamCount = 0
        var stream = "P_res0"
        conv(stem.conv, out: stream, in: nil)
        bn(stem.bn, stream)
        for stage in stages {
            for b in 0..<stage.blocks {
                let prefix = "\(stage.name).\(b)"
                let input = stream
                if b == 0 && stage.downsample {
                    streamCount += 1
                    stream = "P_res\(streamCount)"
                    conv("\(prefix).downsample.0", out: stream, in: input)
                    bn("\(prefix).downsample.1", stream)
                }
                let inner = (1...(stage.kind == .basic ? 1 : 2)).map { "P_\(prefix).inner\($0)" }
                var previous = input
                for (k, group) in inner.enumerated() {
                    conv("\(prefix).conv\(k + 1)", out: group, in: previous)
                    bn("\(prefix).bn\(k + 1)", group)
                    previous = group
                }
                let last = inner.count + 1
                conv("\(prefix).conv\(last)", out: stream, in: previous)
                bn("\(prefix).bn\(last)", stream)
            }
        }
        spec["\(classifier).weight"] = [nil, stream]
        spec["\(classifier).bias"] = [nil]
        return spec
    }

    /// The spec of FathomVision's `CIFARResNet(depth:)` (three stages of (depth − 2)/6 basic
    /// blocks; stages 2 and 3 open with projection shortcuts).
    public static func cifarResNet(depth: Int) -> PermutationSpec {
        precondition((depth - 2) % 6 == 0, "Fathom.PermutationSpec.cifarResNet: depth must be 6n + 2, got \(depth)")
        let n = (depth - 2) / 6
        return resNet(stages: [Stage("layer1", blocks: n, downsample: false),
                               Stage("layer2", blocks: n, downsample: true),
                               Stage("layer3", blocks: n, downsample: true)])
    }

    /// The spec of torchvision's resnet18 (`layers` [2, 2, 2, 2]) or resnet34 ([3, 4, 6, 3]),
    /// or with `kind: .bottleneck`, resnet50 ([3, 4, 6, 3]).
    public static func torchvisionResNet(layers: [Int], kind: BlockKind = .basic) -> PermutationSpec {
        resNet(stages: layers.enumerated().map { i, count in
            Stage("layer\(i + 1)", kind: kind, blocks: count, downsample: i > 0 || kind == .bottleneck)
        })
    }
}
