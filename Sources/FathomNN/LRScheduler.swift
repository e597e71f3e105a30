import Foundation
import FathomTensor

/// A learning-rate schedule: the rate at step `t` (counted from 0) given the base rate.
/// Schedules are pure functions of `t`, so resuming at step `t` restores them exactly.
public protocol LRSchedule {
    func lr(at t: Int, base: Double) -> Double
}

/// Multiplies by `gamma` every `stepSize` steps (PyTorch `StepLR`).
public struct StepLR: LRSchedule {
    public let stepSize: Int, gamma: Double
    public init(stepSize: Int, gamma: Double = 0.1) {
        precondition(stepSize > 0, "Fathom.StepLR: stepSize must be positive")
        self.stepSize = stepSize
        self.gamma = gamma
    }
    public func lr(at t: Int, base: Double) -> Double { base * pow(gamma, Double(t / stepSize)) }
}

/// Multiplies by `gamma` at each milestone (PyTorch `MultiStepLR`).
public struct MultiStepLR: LRSchedule {
    public let milestones: [Int], gamma: Double
    public init(milestones: [Int], gamma: Double = 0.1) {
        self.milestones = milestones.sorted()
        self.gamma = gamma
    }
    public func lr(at t: Int, base: Double) -> Double {
        base * pow(gamma, Double(milestones.filter { $0 <= t }.count))
    }
}

/// Multiplies by `gamma` every step (PyTorch `ExponentialLR`).
public struct ExponentialLR: LRSchedule {
    public let gamma: Double
    public init(gamma: Double) { self.gamma = gamma }
    public func lr(at t: Int, base: Double) -> Double { base * pow(gamma, Double(t)) }
}

/// Half a cosine from the base rate down to `minLR` over `tMax` steps (PyTorch
/// `CosineAnnealingLR`, closed form), constant at `minLR` after.
public struct CosineAnnealingLR: LRSchedule {
    public let tMax: Int, minLR: Double
    public init(tMax: Int, minLR: Double = 0) {
        precondition(tMax > 0, "Fathom.CosineAnnealingLR: tMax must be positive")
        self.tMax = tMax
        self.minLR = minLR
    }
    public func lr(at t: Int, base: Double) -> Double {
        minLR + (base - minLR) * (1 + cos(Double.pi * Double(min(t, tMax)) / Double(tMax))) / 2
    }
}

/// Cosine annealing restarted after `t0` steps, periods growing by `tMult` (SGDR;
/// PyTorch `CosineAnnealingWarmRestarts`).
public struct CosineAnnealingWarmRestarts: LRSchedule {
    public let t0: Int, tMult: Int, minLR: Double
    public init(t0: Int, tMult: Int = 1, minLR: Double = 0) {
        precondition(t0 > 0 && tMult >= 1, "Fathom.CosineAnnealingWarmRestarts: need t0 > 0 and tMult >= 1")
        self.t0 = t0
        self.tMult = tMult
        self.minLR = minLR
    }
    public func lr(at t: Int, base: Double) -> Double {
        var period = t0, position = t
        while position >= period {
            position -= period
            period *= tMult
        }
        return minLR + (base - minLR) * (1 + cos(Double.pi * Double(position) / Double(period))) / 2
    }
}

/// A linear ramp of the factor from `startFactor` to `endFactor` over `steps`, then
/// constant (PyTorch `LinearLR`; with `then`, the warm-up before another schedule, whose
/// step count starts after the warm-up).
public struct LinearWarmup: LRSchedule {
    public let steps: Int, startFactor: Double, endFactor: Double
    public let then: (any LRSchedule)?
    public init(steps: Int, startFactor: Double = 1.0 / 3, endFactor: Double = 1, then: (any LRSchedule)? = nil) {
        precondition(steps > 0, "Fathom.LinearWarmup: steps must be positive")
        self.steps = steps
        self.startFactor = startFactor
        self.endFactor = endFactor
        self.then = then
    }
    public func lr(at t: Int, base: Double) -> Double {
        if t < steps {
            return base * (startFactor + (endFactor - startFactor) * Double(t) / Double(steps))
        }
        return then?.lr(at: t - steps, base: base * endFactor) ?? base * endFactor
    }
}

/// The one-cycle policy (Smith & Topin 2019; PyTorch `OneCycleLR` with cosine annealing,
/// three_phase = false): from maxLR/divFactor up to maxLR over pctStart of the steps,
/// then down to maxLR/(divFactor·finalDivFactor). The base rate is ignored.
public struct OneCycleLR: LRSchedule {
    public let maxLR: Double, totalSteps: Int, pctStart: Double, divFactor: Double, finalDivFactor: Double
    public init(maxLR: Double, totalSteps: Int, pctStart: Double = 0.3, divFactor: Double = 25, finalDivFactor: Double = 1e4) {
        precondition(totalSteps > 1 && pctStart > 0 && pctStart < 1, "Fathom.OneCycleLR: need totalSteps > 1 and 0 < pctStart < 1")
        self.maxLR = maxLR
        self.totalSteps = totalSteps
        self.pctStart = pctStart
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
    }
    public func lr(at t: Int, base: Double) -> Double {
        let initial = maxLR / divFactor, final = initial / finalDivFactor
        let peak = pctStart * Double(totalSteps) - 1
        let end = Double(totalSteps - 1)
        func anneal(_ from: Double, _ to: Double, _ fraction: Double) -> Double {
            to + (from - to) / 2 * (1 + cos(Double.pi * fraction))
        }
        let step = Double(min(t, totalSteps - 1))
        if step <= peak { return anneal(initial, maxLR, step / peak) }
        return anneal(maxLR, final, (step - peak) / (end - peak))
    }
}

/// Applies a schedule to an optimizer: call `step()` once per scheduled unit (an epoch or
/// a batch, as the schedule was designed), after `optimizer.step()`.
public final class LRScheduler {
    public let optimizer: any Optimizer
    public let schedule: any LRSchedule
    public let baseLRs: [Double]
    /// Steps taken so far; save it to resume.
    public private(set) var stepCount = 0

    public init(_ optimizer: any Optimizer, _ schedule: any LRSchedule) {
        self.optimizer = optimizer
        self.schedule = schedule
        self.baseLRs = optimizer.learningRates
        apply()
    }

    public func step() {
        stepCount += 1
        apply()
    }

    /// Jumps to `stepCount` (for resuming).
    public func resume(at stepCount: Int) {
        self.stepCount = stepCount
        apply()
    }

    private func apply() {
        optimizer.learningRates = baseLRs.map { schedule.lr(at: stepCount, base: $0) }
    }
}
