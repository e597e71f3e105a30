import XCTest
import FathomNN
import FathomTensor
@testable import FathomVision

final class ModelZooTests: XCTestCase {
    func testMLPKeysAndShapes() throws {
        let model = try ModelZoo.make("mlp", inputShape: [1, 28, 28], classCount: 10)
        XCTAssertEqual(model.namedParameters().map(\.name), ["1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"])
        XCTAssertEqual(model.parameterCount, 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10)
        XCTAssertEqual(model(Tensor.zeros([4, 1, 28, 28])).shape, [4, 10])
        XCTAssertThrowsError(try ModelZoo.make("nope", inputShape: [1], classCount: 2)) { error in
            XCTAssertTrue("\(error)".contains("unknown model 'nope'"))
        }
    }
}

final class ZooArchitectureTests: XCTestCase {
    func testResNet18MatchesTorchvisionKeysAndCounts() throws {
        let model = try ModelZoo.make("resnet18", inputShape: [3, 224, 224], classCount: 1000)
        // torchvision.models.resnet18(): 11,689,512 parameters, 122 state-dict entries.
        XCTAssertEqual(model.parameterCount, 11_689_512)
        let keys = Set(model.stateDict().keys)
        XCTAssertEqual(keys.count, 122)
        for key in ["conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
                    "layer1.1.bn2.bias", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
                    "layer4.1.conv2.weight", "fc.weight", "fc.bias"] {
            XCTAssertTrue(keys.contains(key), key)
        }
        XCTAssertFalse(keys.contains("layer1.0.downsample.0.weight"))
        model.eval()
        XCTAssertEqual(model(Tensor.zeros([1, 3, 32, 32])).shape, [1, 1000])
    }

    func testResNet50AndCIFARModels() throws {
        // torchvision.models.resnet50(): 25,557,032 parameters, 320 state-dict entries.
        let r50 = try ModelZoo.make("resnet50", inputShape: [3, 224, 224], classCount: 1000)
        XCTAssertEqual(r50.parameterCount, 25_557_032)
        XCTAssertEqual(r50.stateDict().count, 320)
        XCTAssertTrue(Set(r50.stateDict().keys).contains("layer3.5.conv3.weight"))
        let r20 = try ModelZoo.make("resnet20", inputShape: [3, 32, 32], classCount: 10)
        XCTAssertEqual(r20(Tensor.zeros([2, 3, 32, 32])).shape, [2, 10])
        XCTAssertEqual(r20.namedParameters().filter { $0.name.hasSuffix("conv1.weight") }.count, 10)
        let vgg = try ModelZoo.make("vgg11", inputShape: [3, 32, 32], classCount: 10)
        XCTAssertEqual(vgg(Tensor.zeros([2, 3, 32, 32])).shape, [2, 10])
        let lenet = try ModelZoo.make("lenet5", inputShape: [1, 28, 28], classCount: 10)
        // 6·25+6 + 16·6·25+16 + 400·120+120 + 120·84+84 + 84·10+10
        XCTAssertEqual(lenet.parameterCount, 61_706)
        XCTAssertEqual(lenet(Tensor.zeros([3, 1, 28, 28])).shape, [3, 10])
        XCTAssertEqual(try ModelZoo.make("lenet5", inputShape: [3, 32, 32], classCount: 10)(Tensor.zeros([1, 3, 32, 32])).shape, [1, 10])
    }

    func testConvNetGradientsAndSecondOrderThroughBatchNorm() {
        let model = CIFARResNet(depth: 8, inputChannels: 1, classCount: 3)
        let x = Tensor.randn([2, 1, 8, 8], seed: 1)
        let loss = crossEntropy(model(x), Tensor([0, 2] as [Int64]))
        loss.backward()
        XCTAssertTrue(model.parameters().allSatisfy { $0.grad != nil })
        // A Hessian-vector product through conv + batch norm + residuals is finite and nonzero.
        let params = model.parameters()
        let fresh = crossEntropy(model(x), Tensor([0, 2] as [Int64]))
        let hv = hvp(of: fresh, wrt: params, vectors: params.map { Tensor.ones($0.shape) })
        let norm = hv.map { ($0 * $0).sum().item() }.reduce(0, +)
        XCTAssertTrue(norm.isFinite && norm > 0)
    }
}
