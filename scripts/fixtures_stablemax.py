"""Reference StableMax and StableMax cross-entropy (Prieto et al. 2025), written from the
paper's definition s(x) = x + 1 (x >= 0), 1 / (1 - x) (x < 0) in numpy float64.
Run: python3 scripts/fixtures_stablemax.py"""
import os

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomNNTests", "Fixtures")

rng = np.random.default_rng(5)


def s(x):
    return np.where(x >= 0, x + 1.0, 1.0 / (1.0 - np.minimum(x, 0.0)))


def stablemax(x, axis=-1):
    v = s(x)
    return v / v.sum(axis=axis, keepdims=True)


def cross_entropy(logits, target):
    p = stablemax(logits, axis=1)
    return -np.log(p[np.arange(len(target)), target])


cases = {}
x = rng.standard_normal((4, 7)) * 3
x[0, 0] = 0.0
x[1, :] = np.linspace(-50, 50, 7)  # far tails: s grows linearly / decays like 1/|x|
cases["stablemax_last"] = {"inputs": [x], "output": stablemax(x, -1), "params": {"axis": -1}}
cases["stablemax_axis0"] = {"inputs": [x], "output": stablemax(x, 0), "params": {"axis": 0}}
y = rng.standard_normal((2, 3, 5)) * 4
cases["stablemax_rank3_axis1"] = {"inputs": [y], "output": stablemax(y, 1), "params": {"axis": 1}}

logits = rng.standard_normal((6, 5)) * 5
target = rng.integers(0, 5, size=6)
per = cross_entropy(logits, target)
for code, name, out in [(0, "none", per), (1, "mean", per.mean()), (2, "sum", per.sum())]:
    cases[f"ce_{name}"] = {"inputs": [logits, target], "output": out, "params": {"reduction": code}}
# Huge logits: softmax would give exactly one-hot probabilities and zero loss in float32.
big = np.array([[1e4, -1e4, 3.0], [-7.0, 2e3, 2e3]])
cases["ce_large_mean"] = {"inputs": [big, np.array([0, 2])], "output": cross_entropy(big, np.array([0, 2])).mean(),
                          "params": {"reduction": 1}}

write("stablemax", cases)
