"""Fixtures for gather/scatter, indexSelect, maskedFill, oneHot and sorting
(run: python3 scripts/fixtures_indexing.py)."""
import numpy as np

from fixture_common import write

rng = np.random.default_rng(2)
a = rng.standard_normal((3, 4, 5))
perm = a.transpose(2, 0, 1)                      # Swift: a.permuted([2, 0, 1])
idx1 = rng.integers(0, 4, (3, 2, 5))             # gather along axis 1 of a
idx2 = rng.integers(0, 5, (2, 3, 4))             # gather along axis 2, smaller on axes 0, 1
base = rng.standard_normal((4, 6))
sidx = rng.integers(0, 4, (5, 6))                # scatter into axis 0, with repeats
src = rng.standard_normal((5, 6))
sel = np.array([3, 0, 3, 1])
mask = rng.random((4, 1)) > 0.5
labels = np.array([[0, 2], [4, 1], [2, 2]])
ties = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.0, 0.0, -1.0, 5.0, 0.0]])


def gather(x, axis, index):
    return np.take_along_axis(x[tuple(slice(0, s) if d != axis else slice(None) for d, s in enumerate(index.shape))], index, axis)


def scatter_add(x, axis, index, source):
    out = x.copy()
    for pos in np.ndindex(index.shape):
        target = list(pos)
        target[axis] = index[pos]
        out[tuple(target)] += source[pos]
    return out


def stable_desc(x, axis):
    # Descending, ties in original order: a stable sort of the negation.
    return np.argsort(-x, axis=axis, kind="stable")


cases = {
    "gather_axis_1": {"inputs": [a, idx1], "output": gather(a, 1, idx1)},
    "gather_axis_2_smaller": {"inputs": [a, idx2], "output": gather(a, 2, idx2)},
    "gather_perm_axis_0": {"inputs": [a, idx2[:, :, :3] % 3], "output": gather(perm, 0, idx2[:, :, :3] % 3)},
    "scatter_add_axis_0": {"inputs": [base, sidx, src], "output": scatter_add(base, 0, sidx, src)},
    "scatter_add_axis_1": {"inputs": [base, sidx[:4, :3] + 2, src[:4, :3]], "output": scatter_add(base, 1, sidx[:4, :3] + 2, src[:4, :3])},
    "index_select_axis_1": {"inputs": [a, sel], "output": np.take(a, sel, axis=1)},
    "index_select_perm_axis_2": {"inputs": [a, sel % 3], "output": np.take(perm, sel % 3, axis=2)},
    "index_add_axis_0": {"inputs": [base, sel, src[:4]], "output": (lambda o: (np.add.at(o, sel, src[:4]), o)[1])(base.copy())},
    "masked_fill": {"inputs": [base, mask], "output": np.where(mask, -2.5, base)},
    "one_hot": {"inputs": [labels], "output": np.eye(6)[labels]},
    "sort_last": {"inputs": [a], "output": np.sort(a, axis=-1)},
    "sort_indices_ties": {"inputs": [ties], "output": np.argsort(ties, axis=1, kind="stable")},
    "sort_desc_indices_ties": {"inputs": [ties], "output": stable_desc(ties, 1)},
    "sort_perm_axis_1_desc": {"inputs": [a], "output": -np.sort(-perm, axis=1)},
    "argsort_axis_0": {"inputs": [a], "output": np.argsort(a, axis=0, kind="stable")},
    "topk3_last_values": {"inputs": [a], "output": np.take_along_axis(a, stable_desc(a, -1)[..., :3], -1)},
    "topk2_axis_1_smallest_indices": {"inputs": [a], "output": np.argsort(a, axis=1, kind="stable")[:, :2, :]},
    "topk2_ties_indices": {"inputs": [ties], "output": stable_desc(ties, 1)[:, :2]},
}
write("indexing", cases)
