import Foundation
import XCTest
@testable import FathomTensor

/// Largest errors of a float32 function against a float64 reference over `inputs`.
/// `ulps` counts units in the last place of the correctly rounded result.
private func maxError(_ inputs: [Float], _ f: (Float) -> Float, _ reference: (Double) -> Double)
    -> (relative: Double, ulps: Double, worst: Float) {
    var relative = 0.0, ulps = 0.0, worst: Float = 0
    for x in inputs {
        let exact = reference(Double(x))
        let rounded = Float(exact)
        guard rounded.isNormal else { continue }
        let got = Double(f(x))
        let r = Swift.abs(got - exact) / Swift.abs(exact)
        let u = Swift.abs(got - exact) / Double(rounded.ulp)
        if u > ulps { ulps = u; worst = x }
        relative = Swift.max(relative, r)
    }
    return (relative, ulps, worst)
}

/// `count` evenly spaced floats over `range`.
private func grid(_ range: ClosedRange<Double>, _ count: Int) -> [Float] {
    (0..<count).map { Float(range.lowerBound + (range.upperBound - range.lowerBound) * Double($0) / Double(count - 1)) }
}

/// Every `step`-th positive normal float: all binades, so every exponent is exercised.
private func allBinades(step: UInt32) -> [Float] {
    stride(from: Float.leastNormalMagnitude.bitPattern, to: Float.greatestFiniteMagnitude.bitPattern, by: Int(step))
        .map { Float(bitPattern: $0) }
}

final class VectorMathTests: XCTestCase {
    func testExpAccuracy() {
        let inputs = grid(-87...88, 1_000_003) + grid(-1...1, 100_001)
        let e = maxError(inputs, VectorMath.exp, Foundation.exp)
        print("VectorMath.exp on [-87, 88]: max relative error \(e.relative), \(e.ulps) ulp (at \(e.worst))")
        XCTAssertLessThan(e.relative, 2e-7)
        XCTAssertLessThan(e.ulps, 1.6)
    }

    func testExpEdgeCases() {
        XCTAssertEqual(VectorMath.exp(0), 1)
        XCTAssertEqual(VectorMath.exp(-0.0), 1)
        XCTAssertEqual(VectorMath.exp(.infinity), .infinity)
        XCTAssertEqual(VectorMath.exp(-.infinity), 0)
        XCTAssertTrue(VectorMath.exp(.nan).isNaN)
        XCTAssertEqual(VectorMath.exp(Float.leastNonzeroMagnitude), 1)
        // Overflow threshold: ln(FLT_MAX) ≈ 88.7228.
        XCTAssertEqual(VectorMath.exp(88.72), Float(Foundation.exp(Double(Float(88.72)))))
        XCTAssertEqual(VectorMath.exp(88.73), .infinity)
        XCTAssertEqual(VectorMath.exp(1000), .infinity)
        // Subnormal results, down to the smallest (2^-149 ≈ e^-103.28), are within one
        // subnormal step of the correctly rounded value; below about -103.97 they are 0.
        for x in grid(-103.9 ... -87.4, 20_001) {
            let exact = Float(Foundation.exp(Double(x)))
            let got = VectorMath.exp(x)
            XCTAssertLessThanOrEqual(Swift.abs(got - exact), Float.leastNonzeroMagnitude, "exp(\(x))")
            if Swift.abs(got - exact) > Float.leastNonzeroMagnitude { break }
        }
        XCTAssertEqual(VectorMath.exp(-104), 0)
        XCTAssertEqual(VectorMath.exp(-1000), 0)
    }

    func testLogAccuracy() {
        let inputs = allBinades(step: 1013) + grid(0.5...2, 200_001)
        let e = maxError(inputs, VectorMath.log, Foundation.log)
        print("VectorMath.log on all normal floats: max relative error \(e.relative), \(e.ulps) ulp (at \(e.worst))")
        XCTAssertLessThan(e.relative, 2e-7)
        XCTAssertLessThan(e.ulps, 1.6)
        // Subnormal inputs.
        let subnormals = stride(from: 1 as UInt32, to: 0x0080_0000, by: 997).map { Float(bitPattern: $0) }
        let s = maxError(subnormals, VectorMath.log, Foundation.log)
        XCTAssertLessThan(s.ulps, 1.6, "log of subnormals")
    }

    func testLogEdgeCases() {
        XCTAssertEqual(VectorMath.log(1), 0)
        XCTAssertEqual(VectorMath.log(0), -.infinity)
        XCTAssertEqual(VectorMath.log(-0.0), -.infinity)
        XCTAssertTrue(VectorMath.log(-1).isNaN)
        XCTAssertTrue(VectorMath.log(-.infinity).isNaN)
        XCTAssertTrue(VectorMath.log(.nan).isNaN)
        XCTAssertEqual(VectorMath.log(.infinity), .infinity)
        XCTAssertEqual(VectorMath.log(Float.greatestFiniteMagnitude), Float(Foundation.log(Double(Float.greatestFiniteMagnitude))))
        XCTAssertEqual(Double(VectorMath.log(Float.leastNonzeroMagnitude)), -103.27893, accuracy: 1e-5)
    }

    func testTanhAccuracy() {
        let inputs = grid(-12...12, 1_000_001) + grid(-1...1, 100_001) + (1...300).map { Float(1e-30) * Float($0) * 1e27 }
        let e = maxError(inputs, VectorMath.tanh, Foundation.tanh)
        print("VectorMath.tanh on [-12, 12]: max relative error \(e.relative), \(e.ulps) ulp (at \(e.worst))")
        XCTAssertLessThan(e.relative, 2e-7)
        XCTAssertLessThan(e.ulps, 1.6)
    }

    func testTanhEdgeCases() {
        XCTAssertEqual(VectorMath.tanh(.infinity), 1)
        XCTAssertEqual(VectorMath.tanh(-.infinity), -1)
        XCTAssertEqual(VectorMath.tanh(25), 1)
        XCTAssertTrue(VectorMath.tanh(.nan).isNaN)
        XCTAssertEqual(VectorMath.tanh(0), 0)
        XCTAssertEqual(VectorMath.tanh(-0.0).sign, .minus, "tanh(-0) = -0")
        XCTAssertEqual(VectorMath.tanh(1e-30), 1e-30)
        XCTAssertEqual(VectorMath.tanh(Float.leastNonzeroMagnitude), Float.leastNonzeroMagnitude)
    }

    func testSigmoidAccuracy() {
        let sigmoid = { (x: Double) in x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) }
        let inputs = grid(-87...40, 1_000_001)
        let e = maxError(inputs, VectorMath.sigmoid, sigmoid)
        print("VectorMath.sigmoid on [-87, 40]: max relative error \(e.relative), \(e.ulps) ulp (at \(e.worst))")
        XCTAssertLessThan(e.relative, 2e-7)
        XCTAssertLessThan(e.ulps, 2.5)
    }

    func testSigmoidEdgeCases() {
        XCTAssertEqual(VectorMath.sigmoid(0), 0.5)
        XCTAssertEqual(VectorMath.sigmoid(.infinity), 1)
        XCTAssertEqual(VectorMath.sigmoid(-.infinity), 0)
        XCTAssertTrue(VectorMath.sigmoid(.nan).isNaN)
        XCTAssertEqual(VectorMath.sigmoid(100), 1)
        // The negative tail keeps its subnormals instead of flushing to 0.
        XCTAssertGreaterThan(VectorMath.sigmoid(-100), 0)
        XCTAssertEqual(Double(VectorMath.sigmoid(-100)), Foundation.exp(-100), accuracy: 2e-45)
    }

    func testTensorKernelsMatchScalarCores() {
        let values = grid(-20...20, 50_000) + [.nan, .infinity, -.infinity, 0, -0.0]
        let x = Tensor(values)
        for (name, tensorOp, core) in [("exp", { (t: Tensor) in t.exp() }, VectorMath.exp),
                                       ("tanh", { $0.tanh() }, VectorMath.tanh),
                                       ("sigmoid", { $0.sigmoid() }, VectorMath.sigmoid),
                                       ("log", { $0.log() }, VectorMath.log)] as [(String, (Tensor) -> Tensor, (Float) -> Float)] {
            let got = tensorOp(x).scalars(as: Float.self)
            for (i, v) in values.enumerated() {
                let want = core(v)
                guard got[i] == want || (got[i].isNaN && want.isNaN) else {
                    return XCTFail("\(name)(\(v)): tensor \(got[i]) vs core \(want)")
                }
            }
        }
    }
}
