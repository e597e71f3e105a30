import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class LayerTests: XCTestCase {
    func testLinearMatchesDefinitionAndKeys() {
        let layer = Linear(3, 2, generator: Generator(seed: 1))
        XCTAssertEqual(layer.namedParameters().map(\.name), ["weight", "bias"])
        XCTAssertEqual(Linear(3, 2, bias: false).namedParameters().map(\.name), ["weight"])
        let x = Tensor([1, 2, 3, -1, 0, 1] as [Float], shape: [2, 3])
        let w = layer.weight.scalars(as: Float.self), b = layer.bias!.scalars(as: Float.self)
        let y = layer(x).scalars(as: Float.self)
        for row in 0..<2 {
            for o in 0..<2 {
                let expected = (0..<3).reduce(b[o]) { $0 + w[o * 3 + $1] * x.scalars(as: Float.self)[row * 3 + $1] }
                XCTAssertEqual(y[row * 2 + o], expected, accuracy: 1e-5)
            }
        }
        // PyTorch's default init: every weight and bias within 1/sqrt(fanIn).
        let bound = 1 / Float(3).squareRoot()
        XCTAssertTrue((w + b).allSatisfy { abs($0) <= bound })
    }

    func testLinearGradientsThroughTheModule() throws {
        let layer = Linear(4, 3)
        noGrad {
            layer.weight.assign(sample([3, 4]).to(.float32))
            layer.bias!.assign(sample([3], offset: 1).to(.float32))
        }
        let x = sample([5, 4], offset: 0.5).to(.float32)
        let loss = (layer(x).tanh() * sample([5, 3]).to(.float32)).sum()
        loss.backward()
        // Same computation in float64 by hand, differentiated by the gradient checker.
        let w64 = layer.weight.detach().to(.float64), b64 = layer.bias!.detach().to(.float64)
        let reference = gradients(of: [(((x.to(.float64).matmul(w64.requiringGrad().transposed()) + b64).tanh()) * sample([5, 3])).sum()],
                                  wrt: [w64])
        XCTAssertLessThan(layer.weight.grad!.to(.float64).maxAbsDifference(reference[0]), 1e-5)
        checkGradients([sample([5, 4]), sample([3, 4]), sample([3])]) { xs in
            xs[0].matmul(xs[1].transposed()) + xs[2]
        }
    }

    func testInitStatistics() {
        let kaiming = Init.kaimingNormal([256, 512], generator: Generator(seed: 2)).to(.float64)
        XCTAssertEqual(kaiming.std().item(), (2.0 / 512).squareRoot(), accuracy: 0.002)
        let xavier = Init.xavierUniform([300, 200], generator: Generator(seed: 3))
        let bound = (6.0 / 500).squareRoot()
        XCTAssertLessThanOrEqual(xavier.abs().max().item(), bound)
        XCTAssertGreaterThan(xavier.abs().max().item(), bound * 0.98)
        for shape in [[5, 8], [8, 5], [4, 2, 3, 3]] {
            let q = Init.orthogonal(shape, generator: Generator(seed: 4)).to(.float64).reshaped([shape[0], -1])
            let gram = q.shape[0] <= q.shape[1] ? q.matmul(q.transposed()) : q.transposed().matmul(q)
            let n = gram.shape[0]
            XCTAssertLessThan(gram.maxAbsDifference(Tensor.eye(n, dtype: .float64)), 1e-6, "\(shape)")
        }
        XCTAssertEqual(Init.fans([16, 8, 3, 3]).fanIn, 72)
        XCTAssertEqual(Init.fans([16, 8, 3, 3]).fanOut, 144)
    }

    func testDropoutScalesInTrainingAndIsIdentityInEval() {
        let layer = Dropout(p: 0.25, generator: Generator(seed: 5))
        let x = Tensor.ones([100_000])
        let y = layer(x).to(.float64)
        XCTAssertEqual(y.mean().item(), 1, accuracy: 0.01)
        let kept = y.scalars(as: Double.self).filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 100_000, 0.75, accuracy: 0.01)
        XCTAssertEqual(kept.first!, 1 / 0.75, accuracy: 1e-6)
        layer.eval()
        XCTAssertTrue(layer(x) === x)
    }

    func testSequentialOfActivationsAndShapes() {
        let net = Sequential(Flatten(), Linear(6, 4), ReLU(), Linear(4, 4), GELU(), Identity(), LeakyReLU(), SiLU(),
                             Tanh(), Sigmoid(), Softplus())
        XCTAssertEqual(net.namedParameters().map(\.name), ["1.weight", "1.bias", "3.weight", "3.bias"])
        XCTAssertEqual(net(Tensor.ones([2, 2, 3])).shape, [2, 4])
    }
}
