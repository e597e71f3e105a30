"""PyTorch side of `fathom-bench --json`: the same workloads, the same JSON keys.

Run: Benchmarks/.venv/bin/python Benchmarks/torch_core.py [--threads 2] [--repeats 9] [--filter sgemm]
(unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for this command only if your shell sets them).

Each figure: warm-up (0.1 s), each repeat sized to ~0.05 s, median over repeats; repeats in
which other processes used more than a quarter of the machine (/proc/stat) are dropped
while at least 5 remain. Keys absent in PyTorch (the pool's fork/join, the raw-buffer
reference loop) are null.
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch


def system_busy_seconds():
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def measure(work, repeats, repeat_seconds=0.05, warmup=0.1):
    n, start = 0, time.perf_counter()
    while True:
        work()
        n += 1
        if time.perf_counter() - start >= warmup:
            break
    inner = max(1, int(repeat_seconds / ((time.perf_counter() - start) / n)))
    cores = os.cpu_count()
    runs = []
    for _ in range(repeats):
        sys0, own0 = system_busy_seconds(), own_cpu_seconds()
        t0 = time.perf_counter()
        for _ in range(inner):
            work()
        wall = time.perf_counter() - t0
        sys1 = system_busy_seconds()
        other = None if sys0 is None else max(0.0, (sys1 - sys0) - (own_cpu_seconds() - own0))
        runs.append((wall / inner, other, wall))
    quiet = [r for r in runs if (r[1] or 0) <= 0.25 * r[2] * cores]
    kept = quiet if len(quiet) >= 5 else runs
    wall = sum(r[2] for r in kept)
    other = None if any(r[1] is None for r in kept) else sum(r[1] for r in kept) / (wall * cores)
    return [r[0] for r in kept], other, len(runs) - len(kept)


def wait_for_quiet(limit):
    """Like fathom-bench --quiet-wait: wait until others use under 10% of the CPU."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        sys0, own0 = system_busy_seconds(), own_cpu_seconds()
        time.sleep(0.2)
        if sys0 is None:
            return
        other = (system_busy_seconds() - sys0) - (own_cpu_seconds() - own0)
        if other <= 0.1 * 0.2 * os.cpu_count():
            return


def workloads():
    g = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.rand(*shape, generator=g) * 2 - 1

    items = []

    def gemm(key, a, b):
        m, k = a.shape
        n = b.shape[1]
        items.append((key, "GFLOP/s", lambda t: 2 * m * k * n / t / 1e9, lambda: torch.matmul(a, b)))

    for size in (256, 512, 1024, 2048):
        gemm(f"sgemm_{size}_gflops", rand(size, size), rand(size, size))
    x, w, gr = rand(128, 784), rand(784, 512), rand(128, 512)
    gemm("sgemm_128x784x512_gflops", x, w)
    gemm("sgemm_784x128x512_gflops", x.T, gr)
    gemm("sgemm_128x512x784_gflops", gr, w.T)

    count = 4 << 20
    p, q = rand(count), rand(count)
    nbytes = count * 4
    items.append(("add_4m_gbps", "GB/s", lambda t: 3 * nbytes / t / 1e9, lambda: p + q))
    items.append(("mul_4m_gbps", "GB/s", lambda t: 3 * nbytes / t / 1e9, lambda: p * q))
    items.append(("exp_4m_gbps", "GB/s", lambda t: 2 * nbytes / t / 1e9, lambda: p.exp()))
    items.append(("relu_4m_gbps", "GB/s", lambda t: 2 * nbytes / t / 1e9, lambda: p.relu()))
    items.append(("raw_mul_4m_gbps", "GB/s", None, None))

    small, other = torch.tensor([1.0, 2, 3, 4]), torch.tensor([0.5, 0.25, 0.125, 1])
    small_grad = torch.tensor([1.0, 2, 3, 4], requires_grad=True)
    ops = 10_000

    def forward():
        for _ in range(ops):
            small + other

    def tape():
        for _ in range(ops):
            small_grad + other

    items.append(("eager_add_4_forward_us", "us/op", lambda t: t / ops * 1e6, forward))
    items.append(("eager_add_4_tape_us", "us/op", lambda t: t / ops * 1e6, tape))
    items.append(("fork_join_us", "us", None, None))
    return items


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--filter", default=None)
    parser.add_argument("--quiet-wait", type=float, default=0.0,
                        help="before each figure, wait up to this many seconds for a quiet machine")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result, spread = {}, {}
    sys0, own0, t0 = system_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    for key, unit, value, work in workloads():
        if args.filter and args.filter not in key:
            continue
        if work is None:
            result[key] = None
            continue
        if args.quiet_wait > 0:
            wait_for_quiet(args.quiet_wait)
        times, other, dropped = measure(work, args.repeats)
        result[key] = round(value(statistics.median(times)), 4)
        a, b = value(min(times)), value(max(times))
        spread[key] = {"min": round(min(a, b), 4), "max": round(max(a, b), 4),
                       "other_cpu_fraction": None if other is None else round(other, 4),
                       "dropped_repeats": dropped}
    wall = time.perf_counter() - t0
    other = None if sys0 is None else max(0.0, (system_busy_seconds() - sys0) - (own_cpu_seconds() - own0))
    result["threads"] = torch.get_num_threads()
    result["blas_core"] = f"torch {torch.__version__} (mkl={torch.backends.mkl.is_available()}, mkldnn={torch.backends.mkldnn.is_available()})"
    result["repeats"] = args.repeats
    result["spread"] = spread
    result["noise"] = {"other_cpu_fraction": None if other is None else round(other / (wall * os.cpu_count()), 4),
                       "wall_seconds": round(wall, 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
