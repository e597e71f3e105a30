import Foundation
import FathomTensor

/// Everything a training run needs to continue exactly where it stopped: the model's
/// state, the optimizer's buffers, the progress counters, the schedule position and the
/// random generator's state. Stored as one safetensors file (tensors under `model.` and
/// `optimizer.`, counters in the header's metadata), written atomically.
public struct TrainingCheckpoint {
    public var model: StateDict
    public var optimizer: [(name: String, tensor: Tensor)]
    /// Epochs completed.
    public var epoch: Int
    /// Optimizer steps taken.
    public var step: Int
    /// The learning-rate scheduler's `stepCount`.
    public var schedulerStep: Int
    /// The default generator's state (dropout and other draws during training).
    public var generator: Generator.State
    /// Free-form strings (the run's configuration, for example).
    public var metadata: [String: String]

    public init(model: StateDict, optimizer: [(name: String, tensor: Tensor)], epoch: Int, step: Int,
                schedulerStep: Int, generator: Generator.State, metadata: [String: String] = [:]) {
        self.model = model
        self.optimizer = optimizer
        self.epoch = epoch
        self.step = step
        self.schedulerStep = schedulerStep
        self.generator = generator
        self.metadata = metadata
    }

    /// Writes the checkpoint atomically (temporary file, then rename).
    public func save(to url: URL) throws {
        var header = metadata
        header["fathom.epoch"] = String(epoch)
        header["fathom.step"] = String(step)
        header["fathom.scheduler_step"] = String(schedulerStep)
        header["fathom.generator_seed"] = String(generator.seed)
        header["fathom.generator_offset"] = String(generator.offset)
        let tensors = model.entries.map { ("model." + $0.key, $0.tensor) } + optimizer.map { ("optimizer." + $0.name, $0.tensor) }
        try Safetensors.write(tensors, metadata: header, to: url)
    }

    /// Reads a checkpoint written by `save(to:)`.
    public static func load(from url: URL) throws -> TrainingCheckpoint {
        let (tensors, header) = try Safetensors.read(from: url)
        func counter<T: FixedWidthInteger>(_ key: String, as _: T.Type) throws -> T {
            guard let text = header[key], let value = T(text) else {
                throw SafetensorsError(file: url.path, "is not a Fathom training checkpoint: metadata '\(key)' is missing or not a number")
            }
            return value
        }
        var model: [(String, Tensor)] = [], optimizer: [(name: String, tensor: Tensor)] = []
        for (name, tensor) in tensors {
            if name.hasPrefix("model.") {
                model.append((String(name.dropFirst(6)), tensor))
            } else if name.hasPrefix("optimizer.") {
                optimizer.append((String(name.dropFirst(10)), tensor))
            }
        }
        return TrainingCheckpoint(
            model: StateDict(model), optimizer: optimizer,
            epoch: try counter("fathom.epoch", as: Int.self), step: try counter("fathom.step", as: Int.self),
            schedulerStep: try counter("fathom.scheduler_step", as: Int.self),
            generator: Generator.State(seed: try counter("fathom.generator_seed", as: UInt64.self),
                                       offset: try counter("fathom.generator_offset", as: UInt64.self)),
            metadata: header.filter { !$0.key.hasPrefix("fathom.") })
    }
}
