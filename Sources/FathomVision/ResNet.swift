import FathomNN
import FathomTensor

/// The residual block of ResNet-18/34 and of the CIFAR ResNets (He et al. 2016): two 3×3
/// convolutions with batch norm, and a 1×1 convolution + batch norm (`downsample`) on the
/// shortcut when the shape changes. Keys match torchvision's `BasicBlock`.
public final class BasicBlock: Layer {
    public static let expansion = 1
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1) {
        conv1 = Conv2d(inPlanes, planes, kernelSize: 3, stride: Size2(stride), padding: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        downsample = (stride != 1 || inPlanes != planes)
            ? Sequential(Conv2d(inPlanes, planes, kernelSize: 1, stride: Size2(stride), bias: false), BatchNorm2d(planes))
            : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let out = bn2(conv2(bn1(conv1(input)).relu()))
        return (out + (downsample?(input) ?? input)).relu()
    }
}

/// The bottleneck block of ResNet-50 and deeper: 1×1 reduce, 3×3 (with the stride, as
/// torchvision's v1.5), 1×1 expand ×4. Keys match torchvision's `Bottleneck`.
public final class Bottleneck: Layer {
    public static let expansion = 4
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1) {
        let out = planes * Bottleneck.expansion
        conv1 = Conv2d(inPlanes, planes, kernelSize: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: Size2(stride), padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, out, kernelSize: 1, bias: false)
        bn3 = BatchNorm2d(out)
        downsample = (stride != 1 || inPlanes != out)
            ? Sequential(Conv2d(inPlanes, out, kernelSize: 1, stride: Size2(stride), bias: false), BatchNorm2d(out))
            : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        var out = bn1(conv1(input)).relu()
        out = bn2(conv2(out)).relu()
        out = bn3(conv3(out))
        return (out + (downsample?(input) ?? input)).relu()
    }
}

/// ResNets for 32×32 inputs (He et al. 2016, §4.2): a 3×3 stem with 16 channels, three
/// stages of `n` basic blocks with 16, 32, 64 channels, global average pooling and a
/// linear classifier; depth 6n + 2 (resnet20: n = 3, resnet32: 5, resnet56: 9).
/// Shortcuts that change shape use 1×1 projections (option B).
public final class CIFARResNet: Layer {
    public let conv1: Conv2d, bn1: BatchNorm2d
    public let layer1: Sequential, layer2: Sequential, layer3: Sequential
    public let fc: Linear

    public init(depth: Int, inputChannels: Int = 3, classCount: Int = 10) {
        precondition((depth - 2) % 6 == 0, "Fathom.CIFARResNet: depth must be 6n + 2 (20, 32, 56, …), got \(depth)")
        let n = (depth - 2) / 6
        conv1 = Conv2d(inputChannels, 16, kernelSize: 3, padding: 1, bias: false)
        bn1 = BatchNorm2d(16)
        func stage(_ inPlanes: Int, _ planes: Int, stride: Int) -> Sequential {
            Sequential((0..<n).map { i in BasicBlock(i == 0 ? inPlanes : planes, planes, stride: i == 0 ? stride : 1) })
        }
        layer1 = stage(16, 16, stride: 1)
        layer2 = stage(16, 32, stride: 2)
        layer3 = stage(32, 64, stride: 2)
        fc = Linear(64, classCount)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let x = layer3(layer2(layer1(bn1(conv1(input)).relu())))
        return fc(adaptiveAvgPool2d(x, outputSize: 1).flattened(startAxis: 1))
    }
}

/// torchvision's ImageNet ResNets (resnet18, resnet34 with basic blocks; resnet50 with
/// bottlenecks), with state-dict keys that match torchvision's one to one.
public final class ResNet: Layer {
    public let conv1: Conv2d, bn1: BatchNorm2d
    public let maxpool: MaxPool2d
    public let layer1: Sequential, layer2: Sequential, layer3: Sequential, layer4: Sequential
    public let fc: Linear

    public enum Block { case basic, bottleneck }

    public init(block: Block, layers: [Int], inputChannels: Int = 3, classCount: Int = 1000) {
        precondition(layers.count == 4, "Fathom.ResNet: layers must list the blocks of the four stages, got \(layers)")
        conv1 = Conv2d(inputChannels, 64, kernelSize: 7, stride: 2, padding: 3, bias: false)
        bn1 = BatchNorm2d(64)
        maxpool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        let expansion = block == .basic ? BasicBlock.expansion : Bottleneck.expansion
        var inPlanes = 64
        func stage(_ planes: Int, _ count: Int, stride: Int) -> Sequential {
            let blocks: [Layer] = (0..<count).map { i in
                let s = i == 0 ? stride : 1
                defer { inPlanes = planes * expansion }
                return block == .basic ? BasicBlock(inPlanes, planes, stride: s) : Bottleneck(inPlanes, planes, stride: s)
            }
            return Sequential(blocks)
        }
        layer1 = stage(64, layers[0], stride: 1)
        layer2 = stage(128, layers[1], stride: 2)
        layer3 = stage(256, layers[2], stride: 2)
        layer4 = stage(512, layers[3], stride: 2)
        fc = Linear(512 * expansion, classCount)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        var x = maxpool(bn1(conv1(input)).relu())
        x = layer4(layer3(layer2(layer1(x))))
        return fc(adaptiveAvgPool2d(x, outputSize: 1).flattened(startAxis: 1))
    }
}
