"""Side-by-side table of `fathom-bench --json` and `torch_core.py` output (Markdown).

    .build/release/fathom-bench --json > /tmp/fathom.json
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE Benchmarks/.venv/bin/python Benchmarks/torch_core.py > /tmp/torch.json
    python3 Benchmarks/compare.py /tmp/fathom.json /tmp/torch.json

ratio = Fathom / PyTorch for rates (higher is better for Fathom) and PyTorch / Fathom for
times (`*_us`), so a ratio above 1 always means Fathom is faster.
"""
import json
import sys

TARGETS = {  # from the performance issue; 2-core FP32 FMA peak ~348 GFLOP/s, triad ~26 GB/s
    "sgemm_1024_gflops": ">= 278 (80% of peak)",
    "sgemm_2048_gflops": ">= 296 (85% of peak)",
    "sgemm_128x784x512_gflops": ">= 244 (70%)",
    "sgemm_784x128x512_gflops": ">= 244 (70%)",
    "sgemm_128x512x784_gflops": ">= 244 (70%)",
    "add_4m_gbps": ">= 18 (70% of 26 GB/s)",
    "mul_4m_gbps": ">= 18",
    "exp_4m_gbps": ">= 18",
    "relu_4m_gbps": ">= 18",
    "eager_add_4_forward_us": "<= 0.6",
    "eager_add_4_tape_us": "<= 0.6",
}


def main(fathom_path, torch_path):
    fathom, torch = json.load(open(fathom_path)), json.load(open(torch_path))
    fs, ts = fathom.get("spread", {}), torch.get("spread", {})

    def cell(value, spread):
        if value is None:
            return "—"
        text = f"{value:.3g}"
        if spread and spread.get("min") is not None:
            text += f" ({spread['min']:.3g}–{spread['max']:.3g})"
        if spread and spread.get("other_cpu_fraction") is not None:
            text += f" [{100 * spread['other_cpu_fraction']:.0f}%]"
        return text

    print("| workload | Fathom | PyTorch | ratio | target |")
    print("|---|---|---|---|---|")
    for key, value in fathom.items():
        if not isinstance(value, (int, float)) or key in ("threads", "repeats", "noisy_repeat_cores"):
            if value is not None or key not in torch:
                continue
        other = torch.get(key)
        ratio = "—"
        if isinstance(value, (int, float)) and isinstance(other, (int, float)) and value > 0 and other > 0:
            ratio = f"{(other / value) if key.endswith('_us') else (value / other):.2f}×"
        print(f"| `{key}` | {cell(value, fs.get(key))} | {cell(other, ts.get(key))} | {ratio} | {TARGETS.get(key, '')} |")
    print()
    print(f"Fathom: {fathom.get('threads')} threads, OpenBLAS core {fathom.get('blas_core')} "
          f"(detected {fathom.get('blas_core_detected')}), others used "
          f"{100 * (fathom['noise'].get('other_cpu_fraction') or 0):.0f}% of the CPU during the run. "
          f"PyTorch: {torch.get('blas_core')}, {torch.get('threads')} threads, others used "
          f"{100 * (torch['noise'].get('other_cpu_fraction') or 0):.0f}%.")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
