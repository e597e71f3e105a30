/// Barrier heights along a linear interpolation θ(λ) = (1 − λ)·θA + λ·θB, λ ∈ [0, 1],
/// evaluated on a grid that includes both endpoints. Two definitions are in use and
/// they differ when the endpoints differ, so both are reported, named apart:
///
/// - `midpoint` — Frankle, Dziugaite, Roy & Carbin (2020), "Linear Mode Connectivity and
///   the Lottery Ticket Hypothesis" (their *instability*, on error), and Ainsworth,
///   Hayase & Srinivasa (2023), "Git Re-Basin" (on loss):
///   B = max_λ f(θ(λ)) − ½·(f(θA) + f(θB)).
/// - `linear` — Entezari, Sedghi, Saukh & Neyshabur (2022), "The Role of Permutation
///   Invariance in Linear Mode Connectivity of Neural Networks":
///   B = max_λ [ f(θ(λ)) − ((1 − λ)·f(θA) + λ·f(θB)) ]
///   (they write α for the weight of θ1; the value is the same).
///
/// f is the loss or the error. The maximum runs over the grid, endpoints included, so
/// the `linear` barrier is ≥ 0 and the `midpoint` one is ≥ ½·|f(θA) − f(θB)|.
public enum Barrier {
    /// Frankle et al. 2020 / Git Re-Basin: max_i values[i] − ½·(values.first + values.last).
    /// `values` are f at λ = 0, …, 1 (the grid's spacing does not matter).
    public static func midpoint(_ values: [Double]) -> Double {
        precondition(values.count >= 2, "Fathom.Barrier.midpoint: need f at λ = 0 and λ = 1 at least, got \(values.count) values")
        return values.max()! - 0.5 * (values.first! + values.last!)
    }

    /// Entezari et al. 2022: max_i [values[i] − ((1 − λ_i)·values.first + λ_i·values.last)].
    /// `lambdas` must start at 0 and end at 1.
    public static func linear(lambdas: [Double], _ values: [Double]) -> Double {
        precondition(lambdas.count == values.count && values.count >= 2,
                     "Fathom.Barrier.linear: need as many λ as values (at least 2), got \(lambdas.count) λ and \(values.count) values")
        precondition(lambdas.first == 0 && lambdas.last == 1,
                     "Fathom.Barrier.linear: the λ grid must run from 0 to 1 (the endpoints are θA and θB), got \(lambdas.first!)…\(lambdas.last!)")
        let a = values.first!, b = values.last!
        return zip(lambdas, values).map { lambda, f in f - ((1 - lambda) * a + lambda * b) }.max()!
    }
}

/// Both barrier definitions for loss and error along one interpolation curve, with the
/// curve itself; JSON keys are snake_case for scripts.
public struct BarrierReport: Codable, Equatable, Sendable {
    /// Frankle / Git Re-Basin barrier of the loss: max_λ L(θλ) − ½(L(θA) + L(θB)).
    public var lossBarrier: Double
    /// Frankle / Git Re-Basin barrier of the error rate (Frankle's instability).
    public var errorBarrier: Double
    /// Entezari barrier of the loss: max_λ [L(θλ) − ((1 − λ)L(θA) + λL(θB))].
    public var lossBarrierLinear: Double
    /// Entezari barrier of the error rate.
    public var errorBarrierLinear: Double
    /// The curve the barriers were read from.
    public var curve: InterpolationCurve

    enum CodingKeys: String, CodingKey {
        case lossBarrier = "loss_barrier", errorBarrier = "error_barrier"
        case lossBarrierLinear = "loss_barrier_linear", errorBarrierLinear = "error_barrier_linear"
        case curve
    }

    /// Reads both barriers off `curve` (whose λ grid must run from 0 to 1).
    public init(curve: InterpolationCurve) {
        self.curve = curve
        lossBarrier = Barrier.midpoint(curve.losses)
        errorBarrier = Barrier.midpoint(curve.errors)
        lossBarrierLinear = Barrier.linear(lambdas: curve.lambdas, curve.losses)
        errorBarrierLinear = Barrier.linear(lambdas: curve.lambdas, curve.errors)
    }
}
