import Foundation
import XCTest
@testable import FathomTensor

/// One tensor of a fixture file written by `scripts/fixture_common.py`.
struct FixtureTensor: Decodable {
    let shape: [Int]
    let dtype: String
    let data: [Double]

    /// The tensor in its stored dtype.
    var tensor: Tensor { Tensor(data, shape: shape, dtype: DType(rawValue: dtype)!) }

    private enum Keys: String, CodingKey { case shape, dtype, data }
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        shape = try c.decode([Int].self, forKey: .shape)
        dtype = try c.decode(String.self, forKey: .dtype)
        var values = try c.nestedUnkeyedContainer(forKey: .data)
        var decoded: [Double] = []
        while !values.isAtEnd {
            if let number = try? values.decode(Double.self) {
                decoded.append(number)
            } else {
                switch try values.decode(String.self) {
                case "nan": decoded.append(.nan)
                case "inf": decoded.append(.infinity)
                default: decoded.append(-.infinity)
                }
            }
        }
        data = decoded
    }
}

/// A named case: inputs, the reference output, and op parameters.
struct FixtureCase: Decodable {
    let inputs: [FixtureTensor]
    let output: FixtureTensor
    let params: [String: Double]
}

/// Loads `Tests/FathomTensorTests/Fixtures/<name>.json`.
func loadFixtures(_ name: String) throws -> [String: FixtureCase] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/\(name).json")
    return try JSONDecoder().decode([String: FixtureCase].self, from: Data(contentsOf: url))
}

/// Asserts `actual` matches the reference within `|a - e| <= atol + rtol * |e|` (NaNs must match).
func assertMatches(_ actual: Tensor, _ expected: FixtureTensor, rtol: Double = 1e-10, atol: Double = 1e-12,
                   _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(label): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let got = actual.doubles
    for (i, (a, e)) in zip(got, expected.data).enumerated() {
        let ok = (a.isNaN && e.isNaN) || a == e || abs(a - e) <= atol + rtol * abs(e)
        if !ok {
            XCTFail("\(label): element \(i) is \(a), NumPy gives \(e)", file: file, line: line)
            return
        }
    }
}
