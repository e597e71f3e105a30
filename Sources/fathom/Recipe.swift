import Fathom

/// Default hyperparameters for a (model, dataset) pair; every flag overrides its field.
struct Recipe {
    var epochs: Int
    var batchSize: Int
    var lr: Double
    var optimizer: String
    var momentum: Double
    var weightDecay: Double
    var schedule: String
    var augment: Bool

    static func defaults(model: String, dataset: String) -> Recipe {
        switch (model, dataset) {
        case (_, "shapes"):
            return Recipe(epochs: 10, batchSize: 64, lr: 0.05, optimizer: "sgd", momentum: 0.9, weightDecay: 5e-4,
                          schedule: "cosine", augment: false)
        case ("mlp", _):
            return Recipe(epochs: 5, batchSize: 128, lr: 0.05, optimizer: "sgd", momentum: 0.9, weightDecay: 0,
                          schedule: "cosine", augment: false)
        case (_, "cifar10"), (_, "cifar100"):
            return Recipe(epochs: 30, batchSize: 128, lr: 0.1, optimizer: "sgd", momentum: 0.9, weightDecay: 5e-4,
                          schedule: "cosine", augment: true)
        default:
            return Recipe(epochs: 3, batchSize: 64, lr: 0.05, optimizer: "sgd", momentum: 0.9, weightDecay: 0,
                          schedule: "cosine", augment: false)
        }
    }

    /// The optimizer named by `optimizer` over `parameters`.
    func makeOptimizer(_ parameters: [Tensor]) throws -> any Optimizer {
        switch optimizer {
        case "sgd": return SGD(parameters, lr: lr, momentum: momentum, weightDecay: weightDecay, nesterov: false)
        case "nesterov": return SGD(parameters, lr: lr, momentum: momentum, weightDecay: weightDecay, nesterov: true)
        case "adam": return Adam(parameters, lr: lr, weightDecay: weightDecay)
        case "adamw": return AdamW(parameters, lr: lr, weightDecay: weightDecay)
        case "rmsprop": return RMSprop(parameters, lr: lr, weightDecay: weightDecay, momentum: momentum)
        default: throw ValidationFailure("--optimizer \(optimizer) is unknown; choose sgd, nesterov, adam, adamw or rmsprop")
        }
    }

    /// The per-step schedule named by `schedule`.
    func makeSchedule(totalSteps: Int) throws -> any LRSchedule {
        switch schedule {
        case "cosine": return CosineAnnealingLR(tMax: max(totalSteps, 1))
        case "constant": return StepLR(stepSize: Int.max / 2, gamma: 1)
        case "onecycle": return OneCycleLR(maxLR: lr, totalSteps: max(totalSteps, 2))
        case "step": return StepLR(stepSize: max(totalSteps / 3, 1), gamma: 0.1)
        default: throw ValidationFailure("--schedule \(schedule) is unknown; choose cosine, constant, onecycle or step")
        }
    }
}

/// A bad flag value found after parsing, reported the way argument-parser reports its own.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
