import ArgumentParser
import Fathom
import Foundation

/// `fathom info FILE`: the tensors (name, dtype, shape) and metadata of a safetensors file.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the tensors in a safetensors file.")

    @Argument(help: "A .safetensors file (a checkpoint, or one written by Python's safetensors).") var file: String

    func run() throws {
        let (tensors, metadata) = try Safetensors.read(from: URL(fileURLWithPath: file))
        let width = tensors.map(\.name.count).max() ?? 0
        var total = 0
        for (name, tensor) in tensors {
            total += tensor.count
            print(name.padding(toLength: width, withPad: " ", startingAt: 0), " ", tensor.dtype.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0),
                  tensor.shape)
        }
        print("\(tensors.count) tensors, \(total) elements")
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { print("metadata \(key) = \(value)") }
    }
}
