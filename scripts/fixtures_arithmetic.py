"""Fixtures for broadcasting arithmetic and sums (run: python3 scripts/fixtures_arithmetic.py)."""
import numpy as np

from fixture_common import write

rng = np.random.default_rng(0)
a = rng.standard_normal((2, 3, 4))
b = rng.standard_normal((3, 1))
c = rng.uniform(0.5, 2.0, (4,))
write("arithmetic", {
    "add_broadcast": {"inputs": [a, b], "output": a + b},
    "sub_broadcast": {"inputs": [a, b], "output": a - b},
    "mul_broadcast": {"inputs": [a, c], "output": a * c},
    "div_broadcast": {"inputs": [a, c], "output": a / c},
    "sum_axes_0_2": {"inputs": [a], "output": a.sum(axis=(0, 2)), "params": {}},
    "sum_all": {"inputs": [a], "output": np.array(a.sum())},
    "mean_axis_1_keepdims": {"inputs": [a], "output": a.mean(axis=1, keepdims=True)},
})
