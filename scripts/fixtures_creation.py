"""Fixtures for ranges and joining: arange, linspace, eye, concatenate, stack, split
(run: python3 scripts/fixtures_creation.py)."""
import numpy as np

from fixture_common import write

rng = np.random.default_rng(1)
a = rng.standard_normal((2, 3, 4))
b = rng.standard_normal((2, 1, 4))
c = rng.standard_normal((2, 5, 4))
d = rng.standard_normal((2, 3, 4))

cases = {
    # params hold the op's arguments; the Swift test reads them back.
    "arange_int_10": {"output": np.arange(10), "params": {"end": 10}},
    "arange_int_neg_step": {"output": np.arange(7, -6, -3), "params": {"start": 7, "end": -6, "step": -3}},
    "arange_float": {"output": np.arange(0.0, 1.0, 0.1), "params": {"start": 0.0, "end": 1.0, "step": 0.1}},
    "arange_float_neg": {"output": np.arange(2.5, -1.0, -0.75), "params": {"start": 2.5, "end": -1.0, "step": -0.75}},
    "arange_empty": {"output": np.arange(3.0, 1.0, 0.5), "params": {"start": 3.0, "end": 1.0, "step": 0.5}},
    "linspace_5": {"output": np.linspace(-1.0, 2.0, 5), "params": {"start": -1.0, "end": 2.0, "count": 5}},
    "linspace_1": {"output": np.linspace(3.0, 9.0, 1), "params": {"start": 3.0, "end": 9.0, "count": 1}},
    "linspace_odd": {"output": np.linspace(0.1, 0.7, 7), "params": {"start": 0.1, "end": 0.7, "count": 7}},
    "linspace_desc": {"output": np.linspace(5.0, -5.0, 12), "params": {"start": 5.0, "end": -5.0, "count": 12}},
    "eye_3": {"output": np.eye(3), "params": {"n": 3, "m": 3}},
    "eye_2x4": {"output": np.eye(2, 4), "params": {"n": 2, "m": 4}},
    "eye_4x2": {"output": np.eye(4, 2), "params": {"n": 4, "m": 2}},
    "cat_axis1": {"inputs": [a, b, c], "output": np.concatenate([a, b, c], axis=1), "params": {"axis": 1}},
    "cat_axis0": {"inputs": [a, d], "output": np.concatenate([a, d], axis=0), "params": {"axis": 0}},
    "cat_axis_neg1": {"inputs": [a, d], "output": np.concatenate([a, d], axis=-1), "params": {"axis": -1}},
    "stack_axis0": {"inputs": [a, d], "output": np.stack([a, d], axis=0), "params": {"axis": 0}},
    "stack_axis2": {"inputs": [a, d], "output": np.stack([a, d], axis=2), "params": {"axis": 2}},
    "stack_axis_neg1": {"inputs": [a, d], "output": np.stack([a, d], axis=-1), "params": {"axis": -1}},
}
# split: pieces of c along axis 1 at sizes [2, 3] are c[:, :2] and c[:, 2:].
cases["split_piece1"] = {"inputs": [c], "output": np.split(c, [2], axis=1)[1], "params": {"axis": 1}}
write("creation", cases)
