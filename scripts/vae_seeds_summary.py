"""Tabulates scripts/vae_seeds.sh runs: mean ± sample std over seeds, and per seed.

Usage: python3 scripts/vae_seeds_summary.py [runs/vae-seeds]
"""
import json
import os
import statistics
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "runs/vae-seeds"
models = [("beta", "β-VAE, β = 4"), ("tcvae", "β-TCVAE, β = 6"), ("tcvae-split", "β-TCVAE, β = 6, Split Encoder")]
keys = ["mig", "reconstruction", "kl", "tc", "train_seconds"]


def runs(model):
    found = []
    for name in sorted(os.listdir(root)):
        prefix = model + "-seed"
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            path = os.path.join(root, name, "summary.json")
            if os.path.exists(path):
                with open(path) as f:
                    found.append((int(name[len(prefix):]), json.load(f)))
    return sorted(found)


def cell(values, digits):
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    per = ", ".join(f"{v:.{digits}f}" for v in values)
    return f"{mean:.{digits}f} ± {std:.{digits}f} ({per})"


print("| Model | seeds | MIG | reconstruction (nats/image) | KL | tc | train s |")
print("|---|---|---|---|---|---|---|")
for model, label in models:
    found = runs(model)
    if not found:
        continue
    seeds = ",".join(str(s) for s, _ in found)
    cols = [cell([r[k] for _, r in found], d) for k, d in zip(keys, [3, 2, 2, 2, 0])]
    print(f"| {label} | {seeds} | " + " | ".join(cols) + " |")
print()
print("Per seed, MIG per factor (" + ", ".join(found[0][1]["factor_names"]) + "):" if found else "")
for model, label in models:
    for seed, r in runs(model):
        per = ", ".join(f"{v:.3f}" for v in r["mig_per_factor"])
        print(f"- {label}, seed {seed}: MIG {r['mig']:.3f} ({per}); reconstruction {r['reconstruction']:.2f}, "
              f"KL {r['kl']:.2f}, tc {r['tc']:.2f}, tc_mws {r['tc_mws']:.1f}, {r['train_seconds']:.0f} s")
