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

/// One measured figure: per-iteration seconds of each kept repeat, and the noise seen.
struct Sample {
    var seconds: [Double]
    /// Fraction of the machine's CPU time that other processes used during the kept repeats.
    var otherCPUFraction: Double?
    var droppedRepeats: Int

    var median: Double {
        let s = seconds.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    var min: Double { seconds.min()! }
    var max: Double { seconds.max()! }
}

/// Runs `work` until `warmup` seconds have passed, sizes each repeat to take about
/// `repeatSeconds`, then times `repeats` repeats. Repeats during which other processes
/// used more than a quarter of the machine are dropped while at least 5 remain.
func measure(repeats: Int, repeatSeconds: Double = 0.05, warmup: Double = 0.1, _ work: () -> Void) -> Sample {
    var iterations = 0
    let warmStart = now()
    repeat {
        work()
        iterations += 1
    } while now() - warmStart < warmup
    let perIteration = (now() - warmStart) / Double(iterations)
    let inner = Swift.max(1, Int(repeatSeconds / perIteration))
    let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    var runs: [(seconds: Double, other: Double?, wall: Double)] = []
    for _ in 0..<repeats {
        let probe = NoiseProbe()
        let start = now()
        for _ in 0..<inner { work() }
        let wall = now() - start
        runs.append((wall / Double(inner), probe.otherCPUSeconds(), wall))
    }
    let quiet = runs.filter { ($0.other ?? 0) <= 0.25 * $0.wall * cores }
    let kept = quiet.count >= 5 ? quiet : runs
    let wall = kept.reduce(0) { $0 + $1.wall }
    let other: Double? = kept.contains { $0.other == nil } ? nil : kept.reduce(0) { $0 + $1.other! } / (wall * cores)
    return Sample(seconds: kept.map(\.seconds), otherCPUFraction: other, droppedRepeats: runs.count - kept.count)
}
