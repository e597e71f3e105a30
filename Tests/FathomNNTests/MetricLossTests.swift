import XCTest
import FathomTensor
import FathomTestSupport
@testable import FathomNN

final class MetricLossTests: XCTestCase {
    func testMatchesNumPy() throws {
        try checkMetricLossFixtures(["triplet", "center", "arcface", "cosface", "id"], minimumCount: 16) { prefix, x, p, reduction in
            switch prefix {
            case "triplet":
                return batchHardTripletLoss(x[0], labels: x[1], margin: p["margin"]!, softMargin: p["soft"] == 1, reduction: reduction)
            case "center": return centerLoss(x[0], labels: x[1], centers: x[2], reduction: reduction)
            case "arcface":
                return arcFaceLogits(x[0], labels: x[1], scale: p["scale"]!, margin: p["margin"]!, easyMargin: p["easy"] == 1)
            case "cosface": return cosFaceLogits(x[0], labels: x[1], scale: p["scale"]!, margin: p["margin"]!)
            default: return idLoss(x[0], labels: x[1], epsilon: p["epsilon"]!, reduction: reduction)
            }
        }
    }

    func testGradients() {
        let x = sample([6, 3], scale: 1.3)
        let labels = Tensor([0, 0, 1, 1, 2, 2] as [Int64])
        checkGradients([x]) { xs in batchHardTripletLoss(xs[0], labels: labels, margin: 2.0) }
        checkGradients([x]) { xs in batchHardTripletLoss(xs[0], labels: labels, softMargin: true, reduction: .none) }
        // An anchor without a positive (label 3) is left out.
        checkGradients([x]) { xs in batchHardTripletLoss(xs[0], labels: Tensor([0, 0, 1, 1, 3, 1] as [Int64]), margin: 1.0) }
        let centers = sample([4, 3], offset: 0.5)
        let y = Tensor([0, 3, 1, 3, 2, 0] as [Int64])
        checkGradients([x, centers]) { xs in centerLoss(xs[0], labels: y, centers: xs[1]) }
        // Cosines away from the branch points of the margins.
        let cosine = sample([4, 5], scale: 0.9)
        let cl = Tensor([0, 2, -1, 4] as [Int64])
        checkGradients([cosine]) { xs in arcFaceLogits(xs[0], labels: cl, scale: 8, margin: 0.5) }
        checkGradients([cosine]) { xs in arcFaceLogits(xs[0], labels: cl, scale: 8, margin: 0.3, easyMargin: true) }
        checkGradients([cosine]) { xs in arcFaceLoss(xs[0], labels: cl, scale: 8, margin: 0.5) }
        checkGradients([cosine]) { xs in cosFaceLoss(xs[0], labels: cl, scale: 8, margin: 0.35) }
        checkGradients([sample([4, 5], scale: 2)]) { xs in idLoss(xs[0], labels: Tensor([1, 0, 4, 2] as [Int64])) }
    }

    /// Well-separated classes (every negative farther than every positive plus the margin) give 0.
    func testTripletZeroWhenWellSeparated() {
        let x = Tensor([0, 0, 0.1, 0, 10, 10, 10.1, 10, -10, 5, -10, 5.2], shape: [6, 2])
        let labels = Tensor([0, 0, 1, 1, 2, 2] as [Int64])
        XCTAssertEqual(batchHardTripletLoss(x, labels: labels, margin: 1).item(), 0)
        // Swapping two labels makes the hardest positive far and the loss positive.
        XCTAssertGreaterThan(batchHardTripletLoss(x, labels: Tensor([0, 1, 0, 1, 2, 2] as [Int64]), margin: 1).item(), 1)
        // Soft margin: log(1 + e^{gap}) with a very negative gap ≈ 0 but not 0.
        let soft = batchHardTripletLoss(x, labels: labels, softMargin: true).item()
        XCTAssertGreaterThan(soft, 0)
        XCTAssertLessThan(soft, 1e-4)
    }

    /// ArcFace's target logit is s·cos(θ + m) inside the valid range; non-target logits are s·cos θ.
    func testArcFaceAngles() {
        let theta = 0.7, m = 0.5
        let cosine = Tensor([Foundation.cos(theta), 0.2, -0.1, 0.3], shape: [2, 2])
        let logits = arcFaceLogits(cosine, labels: Tensor([0, -1] as [Int64]), scale: 10, margin: m).doubles
        XCTAssertEqual(logits[0], 10 * Foundation.cos(theta + m), accuracy: 1e-12)
        XCTAssertEqual(Array(logits[1...]), [2.0, -1.0, 3.0], "unlabelled rows and non-targets are only scaled")
    }

    func testCenterLossModule() {
        let loss = CenterLoss(classCount: 3, featureCount: 2, dtype: .float64, generator: Generator(seed: 1))
        XCTAssertEqual(loss.namedParameters().map(\.name), ["centers"])
        let x = loss.centers.detach().indexSelect(axis: 0, index: Tensor([2, 0] as [Int64])) + 1
        let value = loss(x, labels: Tensor([2, 0] as [Int64]))
        XCTAssertEqual(value.item(), 1, accuracy: 1e-12)  // ½·(1² + 1²) per sample
        value.backward()
        let expected = Tensor([-0.5, -0.5, 0, 0, -0.5, -0.5], shape: [3, 2])
        XCTAssertLessThan(loss.centers.grad!.maxAbsDifference(expected), 1e-12)  // −(x − c)/N
    }

    func testValidation() {
        XCTAssertThrowsError(try checkClassLabels(Tensor([0, 5] as [Int64]), classes: 3, allowing: -1, op: "arcFaceLogits")) {
            XCTAssertTrue("\($0)".contains("label 5 is out of range for 3 classes"), "\($0)")
        }
    }
}
