import Fathom
import Foundation

/// Everything that defines a training run, as written to `config.json` (and read back by
/// `--resume`, so a resumed run continues with exactly the same settings).
struct TrainingConfig {
    var model: String
    var dataset: String
    var dataDir: String?
    var recipe: Recipe
    var seed: UInt64
    var out: String
    var checkpointEvery: Int
    var trainLimit: Int?
    var threads: Int?
    /// Spawning: the run this one branches from and the step it branches at. Up to that
    /// step everything (data, initialization, data order, dropout) follows the parent's
    /// seed, so the shared prefix is the parent's training exactly; after it, `seed` takes over.
    var spawn: Spawn?

    struct Spawn {
        var parent: String
        var parentSeed: UInt64
        var step: Int
    }

    /// The seed that fixes the data, the initialization and the order before the branch point.
    var baseSeed: UInt64 { spawn?.parentSeed ?? seed }

    /// The seed of the data order and dropout at `step`.
    func seed(atStep step: Int) -> UInt64 {
        guard let spawn, step < spawn.step else { return seed }
        return spawn.parentSeed
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "model": model, "dataset": dataset, "epochs": recipe.epochs, "batch_size": recipe.batchSize,
            "lr": recipe.lr, "optimizer": recipe.optimizer, "momentum": recipe.momentum,
            "weight_decay": recipe.weightDecay, "schedule": recipe.schedule, "augment": recipe.augment,
            "seed": seed, "checkpoint_every": checkpointEvery,
        ]
        if let dataDir { object["data_dir"] = dataDir }
        if let trainLimit { object["train_limit"] = trainLimit }
        if let threads { object["threads"] = threads }
        if let spawn {
            object["spawn_from"] = spawn.parent
            object["spawn_parent_seed"] = spawn.parentSeed
            object["spawn_step"] = spawn.step
        }
        return object
    }

    /// The configuration saved in a run directory's `config.json`.
    static func read(fromRun directory: URL) throws -> TrainingConfig {
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationFailure("--resume \(directory.path): no readable config.json there; pass the run directory a previous `fathom train` wrote")
        }
        func value<T>(_ key: String, _: T.Type) throws -> T {
            guard let v = object[key] as? T else {
                throw ValidationFailure("--resume \(directory.path): config.json lacks '\(key)'; the file is not from fathom train or was edited")
            }
            return v
        }
        let recipe = Recipe(epochs: try value("epochs", Int.self), batchSize: try value("batch_size", Int.self),
                            lr: try value("lr", Double.self), optimizer: try value("optimizer", String.self),
                            momentum: try value("momentum", Double.self), weightDecay: try value("weight_decay", Double.self),
                            schedule: try value("schedule", String.self), augment: try value("augment", Bool.self))
        return TrainingConfig(model: try value("model", String.self), dataset: try value("dataset", String.self),
                              dataDir: object["data_dir"] as? String, recipe: recipe,
                              seed: UInt64(try value("seed", Int.self)), out: directory.path,
                              checkpointEvery: try value("checkpoint_every", Int.self),
                              trainLimit: object["train_limit"] as? Int, threads: object["threads"] as? Int,
                              spawn: (object["spawn_from"] as? String).flatMap { parent in
                                  guard let seed = object["spawn_parent_seed"] as? Int, let step = object["spawn_step"] as? Int else { return nil }
                                  return Spawn(parent: parent, parentSeed: UInt64(seed), step: step)
                              })
    }
}
