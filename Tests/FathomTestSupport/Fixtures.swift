import Foundation
import XCTest
import FathomTensor

/// One tensor of a fixture file written by `scripts/fixture_common.py`.
public struct FixtureTensor: Decodable {
    public let shape: [Int]
    public let dtype: String
    public let data: [Double]

    /// The tensor in its stored dtype.
    public var tensor: Tensor { Tensor(data, shape: shape, dtype: DType(rawValue: dtype)!) }

    private enum Keys: String, CodingKey { case shape, dtype, data }
    public init(from decoder: Decoder) throws {
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
public struct FixtureCase: Decodable {
    public let inputs: [FixtureTensor]
    public let output: FixtureTensor
    public let params: [String: Double]
}

/// Loads `Fixtures/<name>.json` beside the calling test file.
public func loadFixtures(_ name: String, caller: String = #filePath) throws -> [String: FixtureCase] {
    let url = URL(fileURLWithPath: caller).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/\(name).json")
    return try JSONDecoder().decode([String: FixtureCase].self, from: Data(contentsOf: url))
}

/// Asserts `actual` matches the reference within `|a - e| <= atol + rtol * |e|` (NaNs must match).
public func assertMatches(_ actual: Tensor, _ expected: FixtureTensor, rtol: Double = 1e-10, atol: Double = 1e-12,
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
