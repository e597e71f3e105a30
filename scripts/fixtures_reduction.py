"""Fixtures for reductions, softmax and cumsum (run: python3 scripts/fixtures_reduction.py).

Each case names its input and the NumPy expression it was computed with; the Swift test
applies the same view (permute, slice) before the op so non-contiguous inputs are covered.
"""
import numpy as np

from fixture_common import write

rng = np.random.default_rng(1)
a = rng.standard_normal((3, 4, 5))
wide = rng.standard_normal((2, 700)) * 3          # longer rows than one 8-wide block
tall = rng.standard_normal((300, 7))              # reduction over a leading axis
ties = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0], [-1.0, -4.0, -4.0, 0.0]])
with_inf = np.array([[0.5, -np.inf, 2.0], [-np.inf, -np.inf, -np.inf], [np.inf, 1.0, 0.0]])
perm = a.transpose(2, 0, 1)                        # Swift: a.permuted([2, 0, 1])
sliced = a[:, 1:4, ::2]                            # Swift: a[.all, 1..<4, .stride(0, nil, by: 2)]


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def logsumexp(x, axis, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isinf(m), 0, m)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def norm(x, p, axis=None, keepdims=False):
    ax = x if axis is None else x
    if p == np.inf:
        return np.abs(ax).max(axis=axis, keepdims=keepdims)
    if p == -np.inf:
        return np.abs(ax).min(axis=axis, keepdims=keepdims)
    if p == 0:
        return (ax != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype)
    return (np.abs(ax) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


cases = {
    "sum_axes_0_2_keep": {"inputs": [a], "output": a.sum(axis=(0, 2), keepdims=True)},
    "sum_perm_axes_0_1": {"inputs": [a], "output": perm.sum(axis=(0, 1))},
    "sum_sliced_axis_1": {"inputs": [a], "output": sliced.sum(axis=1)},
    "sum_wide_axis_1": {"inputs": [wide], "output": wide.sum(axis=1)},
    "sum_tall_axis_0": {"inputs": [tall], "output": tall.sum(axis=0)},
    "mean_perm_all": {"inputs": [a], "output": np.array(perm.mean())},
    "max_axes_1_2": {"inputs": [a], "output": a.max(axis=(1, 2))},
    "max_perm_axis_2_keep": {"inputs": [a], "output": perm.max(axis=2, keepdims=True)},
    "min_sliced_axis_0": {"inputs": [a], "output": sliced.min(axis=0)},
    "max_tall_axis_0": {"inputs": [tall], "output": tall.max(axis=0)},
    "min_all": {"inputs": [a], "output": np.array(a.min())},
    "argmax_axis_1": {"inputs": [a], "output": a.argmax(axis=1)},
    "argmin_perm_axis_0": {"inputs": [a], "output": perm.argmin(axis=0)},
    "argmax_flat": {"inputs": [a], "output": np.array(a.argmax())},
    "argmax_ties_axis_1": {"inputs": [ties], "output": ties.argmax(axis=1)},
    "argmin_ties_axis_1": {"inputs": [ties], "output": ties.argmin(axis=1)},
    "argmax_ties_axis_0_keep": {"inputs": [ties], "output": ties.argmax(axis=0, keepdims=True)},
    "var_axes_0_2": {"inputs": [a], "output": a.var(axis=(0, 2), ddof=1)},
    "var_all_pop": {"inputs": [a], "output": np.array(a.var(ddof=0))},
    "var_sliced_axis_2_keep": {"inputs": [a], "output": sliced.var(axis=2, ddof=1, keepdims=True)},
    "std_axis_1": {"inputs": [a], "output": a.std(axis=1, ddof=1)},
    "std_perm_axes_1_2_pop": {"inputs": [a], "output": perm.std(axis=(1, 2), ddof=0)},
    "logsumexp_axis_2": {"inputs": [a], "output": logsumexp(a, 2)},
    "logsumexp_axes_0_1_keep": {"inputs": [a], "output": logsumexp(a, (0, 1), keepdims=True)},
    "logsumexp_all_wide": {"inputs": [wide], "output": np.array(logsumexp(wide * 100, (0, 1)))},
    "logsumexp_inf_axis_1": {"inputs": [with_inf], "output": logsumexp(with_inf, 1)},
    "norm2_all": {"inputs": [a], "output": np.array(norm(a, 2))},
    "norm2_axes_1_2": {"inputs": [a], "output": norm(a, 2, axis=(1, 2))},
    "norm1_axis_0_keep": {"inputs": [a], "output": norm(a, 1, axis=0, keepdims=True)},
    "norminf_axis_1": {"inputs": [a], "output": norm(a, np.inf, axis=1)},
    "normneginf_axis_1": {"inputs": [a], "output": norm(a, -np.inf, axis=1)},
    "norm0_ties": {"inputs": [ties], "output": np.array(norm(ties - 5 * (ties == 5), 0))},
    "norm3_perm_axis_0": {"inputs": [a], "output": norm(perm, 3, axis=0)},
    "norm0p5_axis_2": {"inputs": [a], "output": norm(a, 0.5, axis=2)},
    "softmax_last": {"inputs": [a], "output": softmax(a, -1)},
    "softmax_axis_1": {"inputs": [a], "output": softmax(a, 1)},
    "softmax_perm_axis_0": {"inputs": [a], "output": softmax(perm, 0)},
    "softmax_wide": {"inputs": [wide], "output": softmax(wide * 10, 1)},
    "logsoftmax_last": {"inputs": [a], "output": log_softmax(a, -1)},
    "logsoftmax_axis_0": {"inputs": [a], "output": log_softmax(a, 0)},
    "logsoftmax_sliced_axis_1": {"inputs": [a], "output": log_softmax(sliced, 1)},
    "logsoftmax_wide": {"inputs": [wide], "output": log_softmax(wide * 10, 1)},
    "cumsum_axis_0": {"inputs": [a], "output": np.cumsum(a, axis=0)},
    "cumsum_axis_2": {"inputs": [a], "output": np.cumsum(a, axis=2)},
    "cumsum_perm_axis_1": {"inputs": [a], "output": np.cumsum(perm, axis=1)},
}
write("reduction", cases)
