"""Fixtures for batchNorm, layerNorm and groupNorm (run: python3 scripts/fixtures_norm.py).

Reference implementations in NumPy (float64) of PyTorch's definitions:
batch norm normalizes each channel (axis 1) over the batch and spatial axes with the biased
variance, and updates running statistics with the unbiased variance; layer norm normalizes
over the trailing `normalized_shape` axes; group norm over groups of consecutive channels.
Float32 cases store float32 inputs; their references are computed in float64 from those values.
"""
import numpy as np

from fixture_common import write

rng = np.random.default_rng(7)
EPS = 1e-5


def batch_norm(x, rm, rv, w, b, training, momentum=0.1, eps=EPS):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        m = x.shape[0] * int(np.prod(x.shape[2:]))
        mean = x.mean(axis=axes)
        var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)
        rm = (1 - momentum) * rm + momentum * mean
        rv = (1 - momentum) * rv + momentum * var * m / (m - 1)
    else:
        mean, var = rm, rv
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y, rm, rv


def layer_norm(x, k, w, b, eps=EPS):
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def group_norm(x, groups, w, b, eps=EPS):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    mean = g.mean(axis=2, keepdims=True)
    var = ((g - mean) ** 2).mean(axis=2, keepdims=True)
    y = ((g - mean) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


cases = {}


def f32(a):
    return a.astype(np.float32)


def add_batch_norm(name, shape, offset=0.0, scale=1.0):
    c = shape[1]
    x1 = rng.standard_normal(shape) * scale + offset
    x2 = rng.standard_normal(shape) * scale * 1.5 + offset - 0.5
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    rm0, rv0 = rng.standard_normal(c) * 0.1, 1 + rng.random(c)
    for suffix, cast in (("f64", lambda a: a), ("f32", f32)):
        xs1, xs2, ws, bs, rms, rvs = (cast(a) for a in (x1, x2, w, b, rm0, rv0))
        ref = lambda a: np.asarray(a, dtype=np.float64)
        y1, rm1, rv1 = batch_norm(ref(xs1), ref(rms), ref(rvs), ref(ws), ref(bs), True)
        y2, rm2, rv2 = batch_norm(ref(xs2), rm1, rv1, ref(ws), ref(bs), True)
        inputs = [xs1, xs2, ws, bs, rms, rvs]
        key = f"{name}_{suffix}"
        cases[key + "_train_step1"] = {"inputs": inputs, "output": y1}
        # The other cases of this family reuse the inputs of "_train_step1" (keeps the file small).
        cases[key + "_train_step2"] = {"output": y2}
        cases[key + "_running_mean"] = {"output": rm2}
        cases[key + "_running_var"] = {"output": rv2}
        ye, _, _ = batch_norm(ref(xs1), ref(rms), ref(rvs), ref(ws), ref(bs), False)
        cases[key + "_eval"] = {"output": ye}
        yn, _, _ = batch_norm(ref(xs1), ref(rms), ref(rvs), None, None, True)
        cases[key + "_train_no_affine"] = {"output": yn}


add_batch_norm("bn2d", (8, 5))
add_batch_norm("bn4d", (4, 3, 5, 6), offset=2.0, scale=3.0)
add_batch_norm("bn3d_offset", (3, 4, 37), offset=1000.0, scale=0.5)   # mean far from 0: tests the shifted sums

for suffix, cast in (("f64", lambda a: a), ("f32", f32)):
    ref = lambda a: np.asarray(a, dtype=np.float64)
    x = cast(rng.standard_normal((3, 4, 20)) * 2 + 0.7)
    w, b = cast(rng.standard_normal(20)), cast(rng.standard_normal(20))
    cases[f"ln_last_{suffix}"] = {"inputs": [x, w, b], "output": layer_norm(ref(x), 1, ref(w), ref(b))}
    cases[f"ln_last_no_affine_{suffix}"] = {"output": layer_norm(ref(x), 1, None, None)}
    w2, b2 = cast(rng.standard_normal((4, 20))), cast(rng.standard_normal((4, 20)))
    cases[f"ln_two_axes_{suffix}"] = {"inputs": [w2, b2],  # x of ln_last
        "output": layer_norm(ref(x), 2, ref(w2), ref(b2))}
    wide = cast(rng.standard_normal((3, 301)) + 300)
    cases[f"ln_wide_offset_{suffix}"] = {"inputs": [wide], "output": layer_norm(ref(wide), 1, None, None)}

    g4 = cast(rng.standard_normal((2, 6, 3, 4)) * 1.5 - 0.3)
    gw, gb = cast(rng.standard_normal(6)), cast(rng.standard_normal(6))
    cases[f"gn_g3_{suffix}"] = {"inputs": [g4, gw, gb], "output": group_norm(ref(g4), 3, ref(gw), ref(gb))}
    for groups in (1, 6):  # inputs of gn_g3
        cases[f"gn_g{groups}_{suffix}"] = {"output": group_norm(ref(g4), groups, ref(gw), ref(gb))}
    g2 = cast(rng.standard_normal((4, 6)))
    cases[f"gn_2d_{suffix}"] = {"inputs": [g2],  # weight and bias of gn_g3
        "output": group_norm(ref(g2), 2, ref(gw), ref(gb))}
    cases[f"gn_no_affine_{suffix}"] = {  # input of gn_g3
        "output": group_norm(ref(g4), 2, None, None)}

write("norm", cases)

# Layer-level cases (FathomNN): a module trained on a few batches, then evaluated.
import os  # noqa: E402

import fixture_common  # noqa: E402

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomNNTests", "Fixtures")
layer_cases = {}
xs = [rng.standard_normal((3, 2, 3, 3)) * (1 + k) + k for k in range(3)]
rm, rv = np.zeros(2), np.ones(2)
for x in xs[:2]:
    _, rm, rv = batch_norm(x, rm, rv, None, None, True, momentum=0.1)
y, _, _ = batch_norm(xs[2], rm, rv, None, None, False)
layer_cases["bn2d_two_steps_then_eval"] = {"inputs": xs, "output": y}
layer_cases["bn2d_two_steps_running_mean"] = {"output": rm}
layer_cases["bn2d_two_steps_running_var"] = {"output": rv}

# momentum=None: the running statistics are the cumulative average (factor 1/num_batches).
xs1 = [rng.standard_normal((5, 3, 4)) * (1 + k) - k for k in range(3)]
rm, rv = np.zeros(3), np.ones(3)
for t, x in enumerate(xs1, start=1):
    _, rm, rv = batch_norm(x, rm, rv, None, None, True, momentum=1.0 / t)
layer_cases["bn1d_cumulative_running_mean"] = {"inputs": xs1, "output": rm}
layer_cases["bn1d_cumulative_running_var"] = {"output": rv}
write("norm_layers", layer_cases)
