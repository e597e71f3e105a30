#!/usr/bin/env python3
"""Tables for docs/detection.md from the run directories of scripts/detect_experiment.sh."""
import json, statistics, sys, os

out = sys.argv[1] if len(sys.argv) > 1 else "runs/detect-experiment"

def load(name):
    path = os.path.join(out, name, "summary.json")
    return json.load(open(path)) if os.path.exists(path) else None

def ms(values):
    if not values: return "–"
    if len(values) == 1: return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"

runs = {loss: [s for s in (load(f"{loss}-heavy-neck-seed{seed}") for seed in range(3)) if s] for loss in ["kld", "smoothl1"]}
print("| box loss | seeds | mAP50 | mAP75 | mAP50:95 |")
print("|---|---|---|---|---|")
for loss, label in [("smoothl1", "Smooth-L1"), ("kld", "KLD")]:
    r = runs[loss]
    print(f"| {label} | {len(r)} | {ms([s['map50'] for s in r])} | {ms([s['map75'] for s in r])} | {ms([s['map50_95'] for s in r])} |")
print()
print("Per seed (mAP50 / mAP75):")
for loss in ["smoothl1", "kld"]:
    print(f"- {loss}: " + ", ".join(f"{s['map50']:.3f} / {s['map75']:.3f}" for s in runs[loss]))
print()
buckets = sorted({b for r in runs.values() for s in r for b in s["ap_by_aspect"]}, key=lambda b: float(b.strip("[>=").split(",")[0]))
print("| aspect ratio | objects | Smooth-L1 AP50 | KLD AP50 | Smooth-L1 AP75 | KLD AP75 |")
print("|---|---|---|---|---|---|")
for b in buckets:
    objects = int(runs["kld"][0]["ap_by_aspect"][b]["objects"]) if runs["kld"] else 0
    cells = [ms([s["ap_by_aspect"][b][k] for s in runs[loss]]) for k in ["map50", "map75"] for loss in ["smoothl1", "kld"]]
    print(f"| {b} | {objects} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
print()
print("| detector (KLD, seed 0) | MACs | parameters | mAP50 | mAP75 | mAP50:95 | train s |")
print("|---|---|---|---|---|---|---|")
for name in ["kld-heavy-neck-seed0", "kld-heavy-backbone-seed0"]:
    s = load(name)
    if s:
        print(f"| {s['preset']} | {s['multiply_adds']/1e6:.2f} M | {s['parameters']} | {s['map50']:.3f} | {s['map75']:.3f} | {s['map50_95']:.3f} | {s['train_seconds']:.0f} |")
print()
print("Per class AP50 (mean over seeds):")
for loss in ["smoothl1", "kld"]:
    r = runs[loss]
    if r:
        names = sorted(r[0]["per_class_ap"])
        print(f"- {loss}: " + ", ".join(f"{n} {statistics.mean(s['per_class_ap'][n]['ap50'] for s in r):.3f}" for n in names))
