"""PyTorch side of `fathom-bench --json`: the same workloads, the same JSON keys.

Run: Benchmarks/.venv/bin/python Benchmarks/torch_core.py [--threads 2] [--repeats 9] [--filter sgemm]
(unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for this command only if your shell sets them).

Each figure: warm-up (0.1 s, at least one run), each repeat sized to ~0.25 s
(--repeat-seconds), median over the kept repeats; repeats in which other processes used 0.1
core or more (/proc/stat minus our own getrusage) are dropped, and when fewer than 3 are
quiet the 3 quietest are kept (spread.quiet_repeats tells). spread.values/other_cores list
every repeat. Keys absent in PyTorch (the pool's fork/join, the raw-buffer
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


NOISY_REPEAT_CORES = 0.1  # drop repeats in which other processes used this many cores or more
MIN_KEPT = 3  # if fewer repeats were quiet, keep the quietest MIN_KEPT


def measure(work, repeats, repeat_seconds=0.25, warmup=0.1):
    """Per-iteration seconds and others' cores of every repeat, the kept indices, and how many were quiet."""
    n, start = 0, time.perf_counter()
    while True:
        work()
        n += 1
        if time.perf_counter() - start >= warmup:
            break
    inner = max(1, int(repeat_seconds / ((time.perf_counter() - start) / n)))
    times, others = [], []
    for _ in range(repeats):
        sys0, own0 = system_busy_seconds(), own_cpu_seconds()
        t0 = time.perf_counter()
        for _ in range(inner):
            work()
        wall = time.perf_counter() - t0
        sys1 = system_busy_seconds()
        other = None if sys0 is None else max(0.0, (sys1 - sys0) - (own_cpu_seconds() - own0)) / wall
        times.append(wall / inner)
        others.append(other)
    quiet = [i for i in range(repeats) if (others[i] or 0) < NOISY_REPEAT_CORES]
    kept = quiet if len(quiet) >= min(MIN_KEPT, repeats) else sorted(
        sorted(range(repeats), key=lambda i: others[i] or 0)[:MIN_KEPT])
    return times, others, kept, len(quiet)


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
    items += conv_workloads(rand)
    items += step_workloads()
    return items


def conv_workloads(rand):
    """As ConvWorkloads.swift: 3×3 pad 1, forward alone (no grad) and forward + backward
    (weight and bias gradients, plus the input's for layers after the first)."""
    layers = [("conv_b64_1x32_28_fwdbwd_ms", 64, 1, 32, 28, 1, False),
              ("conv_b64_32x64_14_fwdbwd_ms", 64, 32, 64, 14, 1, True),
              ("conv_b128_3x64_32_fwdbwd_ms", 128, 3, 64, 32, 1, False),
              ("conv_b128_64x64_32_fwdbwd_ms", 128, 64, 64, 32, 1, True),
              ("conv_b128_dw64_32_fwdbwd_ms", 128, 64, 64, 32, 64, True)]
    items = []
    for key, batch, cin, cout, size, groups, input_grad in layers:
        x = rand(batch, cin, size, size)
        w = (rand(cout, cin // groups, 3, 3) * 0.1).requires_grad_()
        b = rand(cout).requires_grad_()
        g = rand(batch, cout, size, size)
        inp = x.clone().requires_grad_() if input_grad else x

        def fwd(x=x, w=w, b=b, groups=groups):
            with torch.no_grad():
                torch.nn.functional.conv2d(x, w, b, padding=1, groups=groups)

        def fwdbwd(inp=inp, w=w, b=b, g=g, groups=groups, input_grad=input_grad):
            y = torch.nn.functional.conv2d(inp, w, b, padding=1, groups=groups)
            torch.autograd.grad([y], [w, b, inp] if input_grad else [w, b], grad_outputs=[g])

        ms = lambda t: t * 1e3
        items.append((key.replace("_fwdbwd_", "_fwd_"), "ms", ms, fwd))
        items.append((key, "ms", ms, fwdbwd))
    return items


class LeNet5(torch.nn.Module):
    """Sources/FathomVision/LeNet5.swift on 28×28: padding 2 makes the 32×32 of the original."""

    def __init__(self, classes=10):
        super().__init__()
        nn = torch.nn
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(torch.nn.Module):
    def __init__(self, inp, planes, stride=1):
        super().__init__()
        nn = torch.nn
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = (nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
                           if stride != 1 or inp != planes else None)

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (self.downsample(x) if self.downsample is not None else x))


class CIFARResNet(torch.nn.Module):
    """Sources/FathomVision/ResNet.swift CIFARResNet: 16-32-64, option B (1×1 conv + BN) shortcuts."""

    def __init__(self, depth=20, classes=10):
        super().__init__()
        nn = torch.nn
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stage = lambda i, p, s: nn.Sequential(*[BasicBlock(i if k == 0 else p, p, s if k == 0 else 1) for k in range(n)])
        self.layer1, self.layer2, self.layer3 = stage(16, 16, 1), stage(16, 32, 2), stage(32, 64, 2)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(torch.relu(self.bn1(self.conv1(x))))))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def mlp(widths):
    nn = torch.nn
    layers = [nn.Flatten()]
    for a, b in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(widths[-2], widths[-1]))
    return nn.Sequential(*layers)


def step_workloads():
    """As StepWorkloads.swift: forward, cross-entropy, backward, SGD (lr 0.05, momentum 0.9)
    step, zero_grad (set_to_none), in training mode, on random inputs and labels."""
    torch.manual_seed(0)
    items = []

    def step(key, unit, scale, model, shape):
        x = torch.rand(*shape) * 2 - 1
        labels = torch.arange(shape[0]) * 7 % 10
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        model.train()

        def work():
            loss = torch.nn.functional.cross_entropy(model(x), labels)
            loss.backward()
            opt.step()
            opt.zero_grad()

        items.append((key, unit, lambda t: t * scale, work))

    step("step_mlp_b128_ms", "ms", 1e3, mlp([784, 512, 512, 10]), (128, 1, 28, 28))
    step("step_lenet_b64_ms", "ms", 1e3, LeNet5(), (64, 1, 28, 28))
    step("step_resnet20_b128_ms", "ms", 1e3, CIFARResNet(20), (128, 3, 32, 32))
    step("step_tiny_mlp_b8_us", "us", 1e6, mlp([16, 16, 10]), (8, 16))
    return items


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--filter", default=None)
    parser.add_argument("--repeat-seconds", type=float, default=0.25,
                        help="seconds each repeat lasts (iterations batched up to it; at least one)")
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
        times, others, kept, quiet = measure(work, args.repeats, args.repeat_seconds)
        kept_times = [times[i] for i in kept]
        result[key] = round(value(statistics.median(kept_times)), 4)
        a, b = value(min(kept_times)), value(max(kept_times))
        kept_others = [others[i] for i in kept]
        other = None if any(o is None for o in kept_others) else sum(kept_others) / len(kept_others) / os.cpu_count()
        spread[key] = {"min": round(min(a, b), 4), "max": round(max(a, b), 4),
                       "other_cpu_fraction": None if other is None else round(other, 4),
                       "dropped_repeats": len(times) - len(kept), "kept_repeats": len(kept),
                       "quiet_repeats": quiet, "total_repeats": len(times),
                       "values": [round(value(t), 4) for t in times],
                       "other_cores": [None if o is None else round(o, 4) for o in others]}
    wall = time.perf_counter() - t0
    other = None if sys0 is None else max(0.0, (system_busy_seconds() - sys0) - (own_cpu_seconds() - own0))
    result["threads"] = torch.get_num_threads()
    result["blas_core"] = f"torch {torch.__version__} (mkl={torch.backends.mkl.is_available()}, mkldnn={torch.backends.mkldnn.is_available()})"
    result["repeats"] = args.repeats
    result["noisy_repeat_cores"] = NOISY_REPEAT_CORES
    result["spread"] = spread
    result["noise"] = {"other_cpu_fraction": None if other is None else round(other / (wall * os.cpu_count()), 4),
                       "wall_seconds": round(wall, 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
