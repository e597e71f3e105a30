import ArgumentParser
import Fathom
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Measures Fathom's core kernels; `--json` prints one JSON object whose keys match
/// `Benchmarks/torch_core.py`, so the two can be compared side by side.
@main
struct FathomBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fathom-bench",
        abstract: "Times GEMM, elementwise kernels and eager-mode overhead (median of repeats).")

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Timed repeats per figure (the median is reported).")
    var repeats = 9

    @Option(help: "Seconds each repeat lasts (iterations are batched up to it; at least one).")
    var repeatSeconds = 0.25

    @Flag(help: "Time repeats with this process's CPU time (all threads) instead of wall time.")
    var cpuTime = false

    @Option(help: "Threads (default: FATHOM_NUM_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Only figures whose key contains this text.")
    var filter: String?

    @Option(help: "Before each figure, wait up to this many seconds for other processes to use under 10% of the CPU (0: do not wait).")
    var quietWait: Double = 0

    mutating func run() throws {
        if let threads { ThreadPool.shared.threadCount = threads }
        if cpuTime { timingClock = processCPUSeconds }
        let workloads = coreWorkloads().filter { filter == nil || $0.key.contains(filter!) }
        let totalProbe = NoiseProbe()
        let totalStart = now()
        var results: [(Workload, Sample)] = []
        for workload in workloads {
            if quietWait > 0 { waitForQuiet(upTo: quietWait) }
            let sample = measure(repeats: max(repeats, 1), repeatSeconds: repeatSeconds, workload.body)
            results.append((workload, sample))
            if !json {
                let value = workload.value(sample.median)
                let a = workload.value(sample.min), b = workload.value(sample.max)
                let noise = sample.otherCPUFraction.map { String(format: "%5.1f%%", $0 * 100) } ?? "   n/a"
                print(pad(workload.key, 30), pad(String(format: "%10.3f", value), 11), pad(workload.unit, 7),
                      String(format: "[%.3f … %.3f]", min(a, b), max(a, b)), "others' CPU", noise,
                      "kept \(sample.keptIndices.count)/\(sample.all.count)" + (sample.quietRepeats < sample.keptIndices.count ? " (too few quiet: the quietest)" : ""))
            }
        }
        let wall = now() - totalStart
        let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let overall = totalProbe.otherCPUSeconds().map { $0 / (wall * cores) }
        if json {
            var fields: [(String, String)] = []
            for (workload, sample) in results { fields.append((workload.key, number(workload.value(sample.median)))) }
            fields.append(("threads", "\(ThreadPool.shared.threadCount)"))
            fields.append(("blas_core", quoted(BLAS.coreName)))
            fields.append(("blas_core_detected", quoted(BLAS.detectedCoreName)))
            fields.append(("repeats", "\(repeats)"))
            fields.append(("noisy_repeat_cores", number(noisyRepeatCores)))
            var spread: [(String, String)] = []
            for (workload, sample) in results {
                let a = workload.value(sample.min), b = workload.value(sample.max)
                spread.append((workload.key, object([
                    ("min", number(min(a, b))), ("max", number(max(a, b))),
                    ("other_cpu_fraction", sample.otherCPUFraction.map(number) ?? "null"),
                    ("dropped_repeats", "\(sample.droppedRepeats)"),
                    ("kept_repeats", "\(sample.keptIndices.count)"),
                    ("quiet_repeats", "\(sample.quietRepeats)"),
                    ("total_repeats", "\(sample.all.count)"),
                    ("values", "[" + sample.all.map { number(workload.value($0)) }.joined(separator: ", ") + "]"),
                    ("other_cores", "[" + sample.otherCores.map { $0.map(number) ?? "null" }.joined(separator: ", ") + "]"),
                ])))
            }
            fields.append(("spread", object(spread)))
            fields.append(("noise", object([
                ("other_cpu_fraction", overall.map(number) ?? "null"),
                ("wall_seconds", number(wall)),
                ("note", quoted("other_cpu_fraction: share of all cores' time used by other processes during the run (/proc/stat); spread: min/max over kept repeats; a repeat is dropped when others used >= noisy_repeat_cores cores during it (if fewer than 3 are quiet, the 3 quietest are kept); values/other_cores: every repeat, in order")),
            ])))
            print(object(fields))
        } else {
            print("threads \(ThreadPool.shared.threadCount), OpenBLAS core \(BLAS.coreName) (detected \(BLAS.detectedCoreName)),",
                  "\(repeats) repeats, others used \(overall.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a") of the CPU")
        }
    }
}

/// Polls /proc/stat every 0.2 s until other processes used under 10% of the machine over
/// the last poll, or `limit` seconds have passed.
func waitForQuiet(upTo limit: Double) {
    let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    let start = now()
    while now() - start < limit {
        let probe = NoiseProbe()
        usleep(200_000)
        guard let other = probe.otherCPUSeconds(), other > 0.1 * 0.2 * cores else { return }
    }
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
func quoted(_ s: String) -> String { "\"" + s.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"") + "\"" }
func number(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "null" }
func object(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
}

extension String {
    func replacingAll(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

