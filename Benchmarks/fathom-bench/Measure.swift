#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds on a monotonic clock.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// CPU seconds of this process on a precise clock (all threads): the timing clock under
/// `--cpu-time`, steadier than wall time when other processes load the machine.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// The clock repeats are timed with: wall time (`now`) unless `--cpu-time` picks
/// `processCPUSeconds`. Set once before measuring.
nonisolated(unsafe) var timingClock: () -> Double = now

/// CPU seconds this process used so far (all threads, OpenBLAS's included).
func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU seconds all processes used so far (the busy jiffies of /proc/stat's `cpu` line).
func systemBusySeconds() -> Double? {
    guard let file = fopen("/proc/stat", "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 512)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
    let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard fields.count >= 4 else { return nil }
    // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    let idle = fields[3] + (fields.count > 4 ? fields[4] : 0)
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    return (fields.prefix(8).reduce(0, +) - idle) / ticks
}

/// CPU seconds other processes used, sampled around a piece of work.
struct NoiseProbe {
    let system: Double?
    let own: Double
    init() { system = systemBusySeconds(); own = ownCPUSeconds() }
    /// Other processes' CPU seconds since the probe was made (nil without /proc/stat).
    func otherCPUSeconds() -> Double? {
        guard let start = system, let end = systemBusySeconds() else { return nil }
        return max(0, (end - start) - (ownCPUSeconds() - own))
    }
}

/// Repeats in which other processes used at least this many cores (CPU seconds per wall
/// second, from /proc/stat minus our own `getrusage`) are dropped.
let noisyRepeatCores = 0.1

/// Fewest repeats a figure is computed from: when fewer were quiet, the quietest this many.
let minimumKeptRepeats = 3

/// One measured figure: per-iteration seconds of every repeat, the noise seen in each, and
/// which repeats were kept.
struct Sample {
    /// Per-iteration seconds of each repeat, in the order run.
    var all: [Double]
    /// Cores' worth of CPU other processes used during each repeat (nil without /proc/stat).
    var otherCores: [Double?]
    /// Indices into `all` of the kept repeats.
    var keptIndices: [Int]
    /// Repeats under `noisyRepeatCores` (may be fewer than kept: see `minimumKeptRepeats`).
    var quietRepeats: Int

    var seconds: [Double] { keptIndices.map { all[$0] } }
    var droppedRepeats: Int { all.count - keptIndices.count }
    /// Other processes' share of the machine during the kept repeats.
    var otherCPUFraction: Double? {
        let values = keptIndices.map { otherCores[$0] }
        if values.contains(where: { $0 == nil }) { return nil }
        let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return values.reduce(0) { $0 + $1! } / Double(values.count) / cores
    }
    var median: Double {
        let s = seconds.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    var min: Double { seconds.min()! }
    var max: Double { seconds.max()! }
}

/// Runs `work` until `warmup` seconds have passed (at least once), sizes each repeat to take
/// about `repeatSeconds`, then times `repeats` repeats. Repeats during which other processes
/// used `noisyRepeatCores` or more are dropped; if fewer than `minimumKeptRepeats` remain,
/// the quietest `minimumKeptRepeats` are kept instead (`quietRepeats` tells).
func measure(repeats: Int, repeatSeconds: Double = 0.25, warmup: Double = 0.1, _ work: () -> Void) -> Sample {
    var iterations = 0
    let warmStart = now()
    repeat {
        work()
        iterations += 1
    } while now() - warmStart < warmup
    let perIteration = (now() - warmStart) / Double(iterations)
    let inner = Swift.max(1, Int(repeatSeconds / perIteration))
    var all: [Double] = [], others: [Double?] = []
    for _ in 0..<repeats {
        let probe = NoiseProbe()
        let start = now(), clockStart = timingClock()
        for _ in 0..<inner { work() }
        let wall = now() - start
        all.append((timingClock() - clockStart) / Double(inner))
        others.append(probe.otherCPUSeconds().map { $0 / wall })
    }
    let quiet = all.indices.filter { (others[$0] ?? 0) < noisyRepeatCores }
    let kept = quiet.count >= Swift.min(minimumKeptRepeats, repeats)
        ? quiet
        : Array(all.indices.sorted { (others[$0] ?? 0) < (others[$1] ?? 0) }.prefix(minimumKeptRepeats)).sorted()
    return Sample(all: all, otherCores: others, keptIndices: kept, quietRepeats: quiet.count)
}
