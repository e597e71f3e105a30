import XCTest
import FathomNN
import FathomTensor
import FathomTestSupport
@testable import FathomVision

final class DetectionLossTests: XCTestCase {
    func fixtures() throws -> [String: FixtureCase] { try loadFixtures("detection_geometry") }

    // Well-separated, overlapping float64 boxes: no kinks (min/max ties, |d| = β) near them.
    let predR = Tensor([1.0, 2.0, 4.0, 2.5, 0.3, 5.2, 4.9, 3.0, 1.2, -1.1, -2.0, 0.7, 1.8, 2.6, 2.4] as [Double], shape: [3, 5])
    let targetR = Tensor([1.6, 1.7, 3.5, 2.9, 0.55, 4.6, 5.3, 2.2, 1.6, -0.7, -1.4, 1.3, 2.3, 2.1, 1.9] as [Double], shape: [3, 5])
    let predH = Tensor([0.0, 0.1, 2.0, 3.1, 1.05, 0.95, 4.1, 2.8] as [Double], shape: [2, 4])
    let targetH = Tensor([0.6, -0.4, 2.7, 2.3, 1.5, 1.3, 3.6, 3.4] as [Double], shape: [2, 4])

    func testGaussianLossesMatchReference() throws {
        let cases = try fixtures()
        func check(_ name: String, _ f: (Tensor, Tensor) -> Tensor) throws {
            let c = try XCTUnwrap(cases[name], name)
            assertMatches(f(c.inputs[0].tensor, c.inputs[1].tensor), c.output, rtol: 1e-9, atol: 1e-10, name)
        }
        try check("gwd_default") { gwdLoss($0, $1, reduction: .none) }
        try check("gwd_sqrt_tau2_raw") { gwdLoss($0, $1, options: GWDLossOptions(transform: .sqrt, tau: 2, normalize: false), reduction: .none) }
        for direction in KLDDirection.allCases {
            try check("kld_\(direction.rawValue)") { kldLoss($0, $1, options: KLDLossOptions(direction: direction), reduction: .none) }
        }
        try check("kld_stable_none_alpha2") {
            kldLoss($0, $1, options: KLDLossOptions(transform: .none, tau: 0, alpha: 2, sqrt: false), reduction: .none)
        }
        try check("kfiou_value") { kalmanFilterIoU($0, $1) }
        try check("kfiou_loss") { kfiouLoss($0, $1, reduction: .none) }
        // Identical boxes: KFIoU is 1/3 (the Kalman overlap halves the covariance).
        XCTAssertEqual(kalmanFilterIoU(predR, predR, eps: 0).doubles, [1.0 / 3, 1.0 / 3, 1.0 / 3].map { $0 }, accuracy: 1e-12)
        // Gaussian of a box: Σ = R diag(w²/4, h²/4) Rᵀ.
        let g = rotatedBoxToGaussian(Tensor([0, 0, 2, 4, 0] as [Double], shape: [1, 5]))
        XCTAssertEqual(g.covariance.doubles, [1, 0, 0, 4])
        // float32 inputs give float32 losses close to the float64 values.
        let single = kldLoss(predR.to(.float32), targetR.to(.float32), reduction: .none)
        XCTAssertEqual(single.dtype, .float32)
        XCTAssertLessThan(single.maxAbsDifference(kldLoss(predR, targetR, reduction: .none)), 1e-5)
    }

    /// Every Gaussian loss under a box symmetry of pred and target.
    func gaussianLosses(_ p: Tensor, _ t: Tensor) -> [Double] {
        var out = gwdLoss(p, t, reduction: .none).doubles
        out += gwdLoss(p, t, options: GWDLossOptions(transform: .sqrt, tau: 1, normalize: false), reduction: .none).doubles
        for direction in KLDDirection.allCases {
            out += kldLoss(p, t, options: KLDLossOptions(direction: direction), reduction: .none).doubles
        }
        out += kfiouLoss(p, t, reduction: .none).doubles
        return out
    }

    func testGaussianLossInvariances() {
        let base = gaussianLosses(predR, targetR)
        func mapped(_ boxes: Tensor, _ f: ([Double]) -> [Double]) -> Tensor {
            let d = boxes.doubles
            return Tensor((0..<boxes.shape[0]).flatMap { f(Array(d[5 * $0..<5 * $0 + 5])) }, shape: boxes.shape)
        }
        let turned = { (b: [Double]) in [b[0], b[1], b[2], b[3], b[4] + Double.pi] }
        let swapped = { (b: [Double]) in [b[0], b[1], b[3], b[2], b[4] + Double.pi / 2] }
        for f in [turned, swapped] {
            for (p, t) in [(mapped(predR, f), targetR), (predR, mapped(targetR, f)), (mapped(predR, f), mapped(targetR, f))] {
                let got = gaussianLosses(p, t)
                for (a, b) in zip(got, base) { XCTAssertEqual(a, b, accuracy: 1e-11) }
            }
        }
        // KLD (every direction) and normalized GWD are invariant to scaling both boxes.
        let scale = { (s: Double) in { (b: [Double]) in [b[0] * s, b[1] * s, b[2] * s, b[3] * s, b[4]] } }
        for s in [0.01, 7.0, 300.0] {
            let (p, t) = (mapped(predR, scale(s)), mapped(targetR, scale(s)))
            for direction in KLDDirection.allCases {
                let o = KLDLossOptions(direction: direction)
                XCTAssertLessThan(kldLoss(p, t, options: o, reduction: .none).maxAbsDifference(kldLoss(predR, targetR, options: o, reduction: .none)), 1e-11)
            }
            XCTAssertLessThan(gwdLoss(p, t, reduction: .none).maxAbsDifference(gwdLoss(predR, targetR, reduction: .none)), 1e-11)
        }
    }

    func testGaussianLossGradients() {
        checkGradients([predR, targetR]) { gwdLoss($0[0], $0[1], reduction: .none) }
        checkGradients([predR, targetR]) { gwdLoss($0[0], $0[1], options: GWDLossOptions(transform: .sqrt, tau: 2, alpha: 0.7, normalize: false), reduction: .sum) }
        for direction in KLDDirection.allCases {
            checkGradients([predR, targetR]) { kldLoss($0[0], $0[1], options: KLDLossOptions(direction: direction), reduction: .none) }
        }
        checkGradients([predR, targetR]) { kldLoss($0[0], $0[1], options: KLDLossOptions(transform: .none, tau: 0, sqrt: false)) }
        for transform in KFIoUTransform.allCases {
            checkGradients([predR, targetR]) { kfiouLoss($0[0], $0[1], transform: transform, reduction: .none) }
        }
        let deltas = Tensor([0.5, -0.3, 0.2, 0.1, 0.0, -0.6, 0.05, 0.3, 0.0, 0.1, 0.9, 0.4, 0.0, 0.0, 0.2] as [Double], shape: [3, 5])
        checkGradients([predR, deltas]) { kfiouLoss($0[0], self.targetR, predDeltas: $0[1], targetDeltas: deltas.detach() * 0.5) }
        checkSecondOrder([predR, targetR]) { kldLoss($0[0], $0[1], reduction: .sum) }
        checkSecondOrder([predR, targetR]) { gwdLoss($0[0], $0[1], reduction: .sum) }
    }

    func testIoULossesAndGradients() throws {
        let cases = try fixtures()
        let c = try XCTUnwrap(cases["hbox_giou"])
        let (a, b) = (c.inputs[0].tensor, c.inputs[1].tensor)
        let diag = (0..<Swift.min(a.shape[0], b.shape[0])).map { c.output.data[$0 * b.shape[0] + $0] }
        let n = diag.count
        let ap = a.select([.range(start: 0, end: n, step: 1), .all]), bp = b.select([.range(start: 0, end: n, step: 1), .all])
        XCTAssertLessThan(giouLoss(ap, bp, reduction: .none).maxAbsDifference(Tensor(diag.map { 1 - $0 })), 1e-6)
        XCTAssertEqual(iouLoss(predH, predH, mode: .linear, reduction: .sum).item(), 0, accuracy: 1e-6)
        for mode in IoULossMode.allCases {
            checkGradients([predH, targetH]) { iouLoss($0[0], $0[1], mode: mode, reduction: .none) }
        }
        checkGradients([predH, targetH]) { giouLoss($0[0], $0[1], reduction: .none) }
        checkGradients([predH, targetH]) { diouLoss($0[0], $0[1], reduction: .none) }
        // CIoU detaches α: check its gradient against 1 − DIoU + α₀·v with α₀ frozen at the base point.
        let iou0 = alignedBoxIoU(predH, targetH), v0 = ciouAspectTerm(predH.unbind(axis: 1), targetH.unbind(axis: 1))
        let alpha0 = v0 / (1 - iou0 + v0 + 1e-7)
        let frozen = { (xs: [Tensor]) in
            1 - alignedBoxIoU(xs[0], xs[1], kind: .diou) + alpha0 * ciouAspectTerm(xs[0].unbind(axis: 1), xs[1].unbind(axis: 1))
        }
        checkGradients([predH, targetH], frozen)
        let leaves = [predH.requiringGrad(), targetH.requiringGrad()]
        let got = gradients(of: [ciouLoss(leaves[0], leaves[1], reduction: .sum)], wrt: leaves)
        let want = gradients(of: [frozen(leaves).sum()], wrt: leaves)
        for k in 0..<2 { XCTAssertLessThan(got[k].maxAbsDifference(want[k]), 1e-12) }
        checkGradients([predR, targetR]) { rotatedSmoothL1Loss($0[0], $0[1], reduction: .none) }
        // CIoU's α is a constant: its gradient equals DIoU's plus α·∇v (checked numerically above);
        // reductions agree with reducing the elementwise losses by hand.
        let none = ciouLoss(predH, targetH, reduction: .none)
        XCTAssertEqual(ciouLoss(predH, targetH).item(), none.mean().item(), accuracy: 1e-15)
        XCTAssertEqual(ciouLoss(predH, targetH, reduction: .sum).item(), none.sum().item(), accuracy: 1e-15)
        XCTAssertEqual(rotatedSmoothL1Loss(predR, targetR).item(), smoothL1Loss(predR, targetR).item())
    }

    func testFocalLossesMatchReferenceAndGradients() throws {
        let cases = try fixtures()
        for (name, f) in [("focal", { sigmoidFocalLoss($0, $1, reduction: .none) }),
                          ("qfl", { qualityFocalLoss($0, $1, reduction: .none) }),
                          ("vfl", { varifocalLoss($0, $1, reduction: .none) })] as [(String, (Tensor, Tensor) -> Tensor)] {
            let c = try XCTUnwrap(cases[name])
            assertMatches(f(c.inputs[0].tensor, c.inputs[1].tensor), c.output, rtol: 1e-9, atol: 1e-12, name)
            checkGradients([c.inputs[0].tensor]) { f($0[0], c.inputs[1].tensor) }
        }
        let c = try XCTUnwrap(cases["qfl"])
        checkGradients([c.inputs[0].tensor, c.inputs[1].tensor]) { sigmoidFocalLoss($0[0], $0[1], alpha: -1, gamma: 1.5) }
        XCTAssertEqual(sigmoidFocalLoss(c.inputs[0].tensor, c.inputs[1].tensor, reduction: .sum).item(),
                       sigmoidFocalLoss(c.inputs[0].tensor, c.inputs[1].tensor, reduction: .none).sum().item(), accuracy: 1e-12)
    }
}

func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
