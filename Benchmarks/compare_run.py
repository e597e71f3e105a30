"""Driver of `Benchmarks/compare` (run that script, which builds first).

Alternates `fathom-bench --json` and `torch_core.py` for --rounds rounds (ABBA order),
pools every workload's repeats across rounds, drops the repeats in which other processes
used >= 0.1 core (if fewer than 3 are quiet, keeps the 3 quietest and says so), then runs
the end-to-end MNIST epochs (`fathom train` and `torch_mnist.py`, alternately) and records
wall time and peak RSS (wait4's rusage of each process). Writes Benchmarks/results/latest.json
and latest.md.

ratio = Fathom / PyTorch for times and PyTorch / Fathom for rates (GFLOP/s, GB/s), so a
ratio below 1 always means Fathom is faster.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

NOISY = 0.1
MIN_KEPT = 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measured(cmd, env=None):
    """Like run, with the child's peak RSS and CPU from wait4 (communicate would reap it first)."""
    sys0 = busy_seconds()
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        sys1 = busy_seconds()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{stderr[-3000:]}\n{stdout[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    others = None if sys0 is None else max(0.0, (sys1 - sys0) - cpu) / wall
    return stdout, {"wall_s": round(wall, 3), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
                    "cpu_s": round(cpu, 2), "others_cores": None if others is None else round(others, 2)}


def busy_seconds():
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def lower_is_better(key):
    return not (key.endswith("_gflops") or key.endswith("_gbps"))


def pool(runs, key):
    """Every round's repeats of key -> kept values and counts."""
    values, others = [], []
    for r in runs:
        s = r.get("spread", {}).get(key)
        if s and "values" in s:
            values += s["values"]
            others += s["other_cores"]
    if not values:
        return None
    quiet = [i for i in range(len(values)) if (others[i] or 0) < NOISY]
    kept = quiet if len(quiet) >= MIN_KEPT else sorted(range(len(values)), key=lambda i: others[i] or 0)[:MIN_KEPT]
    v = [values[i] for i in kept]
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "kept": len(kept), "quiet": len(quiet),
            "total": len(values), "others_cores_kept": round(statistics.mean([others[i] or 0 for i in kept]), 3)}


def fmt(x):
    return "—" if x is None else (f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="Benchmarks/.venv/bin/python")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="repeats per round (pooled over rounds)")
    parser.add_argument("--repeat-seconds", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--filter", default=None)
    parser.add_argument("--data-dir", default="../shared/data/mnist")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--out", default="Benchmarks/results")
    args = parser.parse_args()

    torch_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    common = ["--threads", str(args.threads), "--repeats", str(args.repeats), "--repeat-seconds", str(args.repeat_seconds)]
    if args.filter:
        common += ["--filter", args.filter]
    fathom_cmd = [".build/release/fathom-bench", "--json"] + common
    torch_cmd = [args.python, "Benchmarks/torch_core.py"] + common
    fathom_runs, torch_runs, processes = [], [], {"fathom": [], "torch": []}
    started = time.perf_counter()
    for r in range(args.rounds):
        order = [("fathom", fathom_cmd, None), ("torch", torch_cmd, torch_env)]
        if r % 2:
            order.reverse()
        for name, cmd, env in order:
            print(f"== round {r + 1}/{args.rounds}: {name}", flush=True)
            out, proc = measured(cmd, env)
            (fathom_runs if name == "fathom" else torch_runs).append(json.loads(out))
            processes[name].append(proc)

    keys = [k for k, v in fathom_runs[0].items() if k in fathom_runs[0].get("spread", {})]
    workloads = {}
    for key in keys:
        f, t = pool(fathom_runs, key), pool(torch_runs, key)
        ratio = None
        if f and t and f["median"] > 0 and t["median"] > 0:
            ratio = f["median"] / t["median"] if lower_is_better(key) else t["median"] / f["median"]
        workloads[key] = {"fathom": f, "torch": t, "ratio": None if ratio is None else round(ratio, 3),
                          "lower_is_better": lower_is_better(key)}

    e2e = {}
    if not args.skip_e2e:
        for model in ("mlp", "lenet5"):
            work = tempfile.mkdtemp(prefix="fathom-e2e-")
            print(f"== end to end: {model} on MNIST, 1 epoch (fathom)", flush=True)
            out, fproc = measured([".build/release/fathom", "train", "--model", model, "--dataset", "mnist", "--data-dir",
                                   args.data_dir, "--epochs", "1", "--threads", str(args.threads), "--out", work])
            with open(os.path.join(work, "summary.json")) as fh:
                summary = json.load(fh)
            shutil.rmtree(work, ignore_errors=True)
            fproc["test_accuracy"] = summary.get("test_accuracy")
            fproc["train_seconds_in_process"] = summary.get("train_seconds")
            print(f"== end to end: {model} on MNIST, 1 epoch (torch)", flush=True)
            out, tproc = measured([args.python, "Benchmarks/torch_mnist.py", "--model", model, "--data-dir", args.data_dir,
                                   "--threads", str(args.threads)], torch_env)
            report = json.loads(out)
            tproc["test_accuracy"] = report["test_accuracy"]
            tproc["train_seconds_in_process"] = report["train_seconds"]
            e2e[f"e2e_{model}_mnist_epoch"] = {"fathom": fproc, "torch": tproc,
                                               "ratio": round(fproc["wall_s"] / tproc["wall_s"], 3),
                                               "rss_ratio": round(fproc["peak_rss_mib"] / tproc["peak_rss_mib"], 3)}

    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {cpu_model()}",
            "threads": args.threads, "rounds": args.rounds, "repeats_per_round": args.repeats,
            "repeat_seconds": args.repeat_seconds, "noisy_repeat_cores": NOISY,
            "torch": torch_runs[0].get("blas_core"), "fathom_blas_core": fathom_runs[0].get("blas_core"),
            "bench_processes": processes, "total_seconds": round(time.perf_counter() - started, 1),
            "ratio": "Fathom time / PyTorch time (rates: PyTorch / Fathom); below 1 means Fathom is faster",
            "kept": "repeats in which other processes used >= noisy_repeat_cores cores are dropped; "
                    "if fewer than 3 were quiet, the 3 quietest are kept"}
    os.makedirs(os.path.join(ROOT, args.out), exist_ok=True)
    with open(os.path.join(ROOT, args.out, "latest.json"), "w") as fh:
        json.dump({"meta": meta, "workloads": workloads, "end_to_end": e2e}, fh, indent=1)
    table = markdown(meta, workloads, e2e)
    with open(os.path.join(ROOT, args.out, "latest.md"), "w") as fh:
        fh.write(table)
    print(table)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def markdown(meta, workloads, e2e):
    lines = [f"Fathom vs PyTorch, {meta['date']}, {meta['machine']}, {meta['threads']} threads each; "
             f"{meta['rounds']} alternating rounds × {meta['repeats_per_round']} repeats pooled; {meta['torch']}.",
             "Median (min–max) over kept repeats; kept = repeats in which other processes used < 0.1 core "
             "(`3*` = too few quiet, the 3 quietest). Ratio = Fathom time / PyTorch time "
             "(for GFLOP/s and GB/s: PyTorch / Fathom): **below 1 means Fathom is faster**.", "",
             "| workload | Fathom | PyTorch | ratio | kept F / T |", "|---|---|---|---|---|"]
    for key, w in workloads.items():
        def cell(s):
            return "—" if s is None else f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"

        def kept(s):
            return "—" if s is None else (f"{s['kept']}/{s['total']}" if s["quiet"] >= MIN_KEPT else f"3*/{s['total']}")
        ratio = "—" if w["ratio"] is None else f"{w['ratio']:.3g}"
        lines.append(f"| `{key}` | {cell(w['fathom'])} | {cell(w['torch'])} | {ratio} | {kept(w['fathom'])} / {kept(w['torch'])} |")
    bp = meta["bench_processes"]
    rss = lambda ps: max(p["peak_rss_mib"] for p in ps) if ps else None
    lines += ["", f"Benchmark processes' peak RSS: Fathom {fmt(rss(bp['fathom']))} MiB, PyTorch {fmt(rss(bp['torch']))} MiB; "
              f"others' CPU during them (cores): Fathom {[p['others_cores'] for p in bp['fathom']]}, "
              f"PyTorch {[p['others_cores'] for p in bp['torch']]}."]
    if e2e:
        lines += ["", "End to end (whole process, one epoch on MNIST + test-set evaluation, one run each):", "",
                  "| run | Fathom wall s | PyTorch wall s | ratio | Fathom peak RSS MiB | PyTorch peak RSS MiB | test acc F / T | others' cores F / T |",
                  "|---|---|---|---|---|---|---|---|"]
        for key, w in e2e.items():
            f, t = w["fathom"], w["torch"]
            lines.append(f"| `{key}` | {f['wall_s']:.1f} | {t['wall_s']:.1f} | {w['ratio']:.2f} | {f['peak_rss_mib']:.0f} | "
                         f"{t['peak_rss_mib']:.0f} | {100 * f['test_accuracy']:.2f}% / {100 * t['test_accuracy']:.2f}% | "
                         f"{f['others_cores']} / {t['others_cores']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
