import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class PerpendicularGradientTests: XCTestCase {
    private func dot(_ a: Tensor, _ b: Tensor) -> Double { (a * b).sum().item() }

    func testProjectionIsOrthogonalToWeights() {
        let w = sample([3, 4], offset: 0.3), g = sample([3, 4], offset: -0.2, scale: 2).flip01()
        for renormalize in [false, true] {
            let p = PerpendicularGradient.project(g, onto: w, renormalize: renormalize)
            XCTAssertEqual(p.shape, [3, 4])
            XCTAssertEqual(dot(p, w), 0, accuracy: 1e-12)
            XCTAssertGreaterThan(abs(dot(g, w)), 0.1)  // the test means something
        }
        // Without rescaling, g − g⊥ is parallel to w; with it, ‖g⊥‖ = ‖g‖.
        let raw = PerpendicularGradient.project(g, onto: w, renormalize: false)
        let radial = g - raw, c = dot(g, w) / dot(w, w)
        XCTAssertLessThan((radial - w * c).abs().max().item(), 1e-12)
        let scaled = PerpendicularGradient.project(g, onto: w)
        XCTAssertEqual(dot(scaled, scaled), dot(g, g), accuracy: 1e-10)
        // Float32 parameters work too.
        let p32 = PerpendicularGradient.project(g.to(.float32), onto: w.to(.float32))
        XCTAssertEqual(dot(p32.to(.float64), w), 0, accuracy: 1e-5)
    }

    func testZeroWeightsLeaveGradient() {
        let g = sample([5])
        let p = PerpendicularGradient.project(g, onto: Tensor.zeros([5], dtype: .float64))
        XCTAssertLessThan((p - g).abs().max().item(), 1e-15)
    }

    /// One ⊥SGD step against a hand computation: w = (1, 0), g = (1, 1) → g⊥ = (0, 1),
    /// rescaled to ‖g‖ = √2 → (0, √2); w ← w − 0.1·g⊥.
    func testOneSGDStepByHand() {
        let w = Tensor([1.0, 0], shape: [2]).requiringGrad()
        w.grad = Tensor([1.0, 1], shape: [2])
        let opt = PerpendicularGradient(SGD([w], lr: 0.1))
        opt.step()
        let v = w.detach().scalars(as: Double.self)
        XCTAssertEqual(v[0], 1, accuracy: 1e-15)
        XCTAssertEqual(v[1], -0.1 * 2.0.squareRoot(), accuracy: 1e-15)

        let u = Tensor([1.0, 0], shape: [2]).requiringGrad()
        u.grad = Tensor([1.0, 1], shape: [2])
        PerpendicularGradient(SGD([u], lr: 0.1), renormalize: false).step()
        XCTAssertEqual(u.detach().scalars(as: Double.self), [1, -0.1])
    }

    /// ⊥AdamW's first step: Adam's first step moves each coordinate by lr·sign(g⊥) (m̂/√v̂ = ±1),
    /// after decoupled decay p·(1 − lr·wd); a zero g⊥ coordinate does not move.
    func testOneAdamWStepByHand() {
        let w = Tensor([2.0, 0, 0], shape: [3]).requiringGrad()
        w.grad = Tensor([3.0, -4, 0], shape: [3])
        let opt = PerpendicularGradient(AdamW([w], lr: 0.01, epsilon: 1e-12, weightDecay: 0.5))
        opt.step()
        // g⊥ = (0, −4, 0)·(5/4) = (0, −5, 0).
        let v = w.detach().scalars(as: Double.self)
        XCTAssertEqual(v[0], 2 * (1 - 0.01 * 0.5), accuracy: 1e-12)
        XCTAssertEqual(v[1], 0.01, accuracy: 1e-9)
        XCTAssertEqual(v[2], 0, accuracy: 1e-15)
        XCTAssertEqual(opt.learningRates, [0.01])
        XCTAssertEqual(opt.stateDict().map(\.name), ["state.0.0.exp_avg", "state.0.0.exp_avg_sq", "state.0.0.step"])
    }

    /// With ⊥Grad a full-batch gradient flow keeps ‖w‖ (to first order): plain SGD on a loss
    /// that rewards scale grows it.
    func testPerpendicularStepsDoNotGrowWeights() {
        let w0 = sample([6], offset: 0.5)
        func run(_ make: (Tensor) -> Optimizer) -> Double {
            let w = Tensor(w0.scalars(as: Double.self), shape: [6]).requiringGrad()  // a copy: steps update in place
            let opt = make(w)
            for _ in 0..<20 {
                opt.zeroGrad()
                (-(w * Tensor([1.0, 2, 3, 4, 5, 6], shape: [6])).sum()).backward()
                opt.step()
            }
            return (w.detach() * w.detach()).sum().item().squareRoot()
        }
        let start = (w0 * w0).sum().item().squareRoot()
        let plain = run { SGD([$0], lr: 0.01) }
        let perpendicular = run { PerpendicularGradient(SGD([$0], lr: 0.001)) }
        XCTAssertGreaterThan(plain, start * 1.2)
        XCTAssertEqual(perpendicular, start, accuracy: start * 0.02)
    }
}

private extension Tensor {
    /// A fixed permutation of a rank-2 tensor's rows, so g is not a multiple of w.
    func flip01() -> Tensor { self.permuted([1, 0]).contiguous().reshaped(shape.reversed()).reshaped(shape) }
}
