"""Reference values for the losses in Sources/FathomNN/Losses, written in NumPy (float64)
from the formulas in PyTorch's documentation and source (torch.nn.functional.cross_entropy,
nll_loss, binary_cross_entropy[_with_logits], mse/l1/smooth_l1/huber_loss, kl_div).
Run: python3 scripts/fixtures_losses.py

Case names start with the loss (ce_, nll_, bcel_, bce_, mse_, l1_, sl1_, huber_, kl_).
params: reduction (0 none, 1 mean, 2 sum, 3 batchmean) and the loss's options; inputs:
[input, target] then the optional weight / posWeight named by has_weight / has_pos_weight.
"""
import os

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomNNTests", "Fixtures")

rng = np.random.default_rng(7)
REDUCTIONS = {"none": 0, "mean": 1, "sum": 2, "batchmean": 3}
cases = {}


def log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.array(loss.sum())
    if reduction == "batchmean":
        return np.array(loss.sum() / loss.shape[0])
    return np.array(loss.mean())


# ---- cross entropy (class indices): PyTorch's nll_loss_nd + label smoothing term ----
def cross_entropy(x, t, weight=None, ignore_index=-100, eps=0.0, reduction="mean"):
    C = x.shape[1] if x.ndim > 1 else x.shape[0]
    if x.ndim == 1:
        x, t = x[None], np.array([t])
    logp = log_softmax(x, 1)
    w = np.ones(C) if weight is None else weight
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    picked = np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
    wt = np.where(valid, w[safe], 0.0)
    nll = -picked * wt
    # smooth_loss = -(logp * w).sum(class), masked at ignored positions
    wshape = [1] * logp.ndim
    wshape[1] = C
    smooth = np.where(valid, -(logp * w.reshape(wshape)).sum(axis=1), 0.0)
    if reduction == "none":
        out = (1 - eps) * nll + eps / C * smooth
    elif reduction == "sum":
        out = (1 - eps) * nll.sum() + eps / C * smooth.sum()
    else:
        out = (1 - eps) * nll.sum() / wt.sum() + eps / C * smooth.sum() / wt.sum()
    return np.asarray(out)


def cross_entropy_probs(x, y, weight=None, eps=0.0, reduction="mean"):
    C = x.shape[1]
    y = y * (1 - eps) + eps / C
    logp = log_softmax(x, 1)
    wshape = [1] * x.ndim
    wshape[1] = C
    w = np.ones(wshape) if weight is None else weight.reshape(wshape)
    per = -(logp * y * w).sum(axis=1)
    if reduction == "none":
        return per
    if reduction == "sum":
        return np.array(per.sum())
    return np.array(per.sum() / (x.size / C))


def add(name, inputs, output, **params):
    cases[name] = {"inputs": inputs, "output": np.asarray(output, dtype=np.float64), "params": {k: float(v) for k, v in params.items()}}


x = rng.standard_normal((6, 5)) * 2
t = np.array([0, 4, 2, 2, 1, 3])
t_ign = np.array([0, -100, 2, 4, -100, 3])
w = rng.uniform(0.2, 2.0, 5)
for r in ["none", "mean", "sum"]:
    R = REDUCTIONS[r]
    add(f"ce_basic_{r}", [x, t], cross_entropy(x, t, reduction=r), reduction=R)
    add(f"ce_weight_{r}", [x, t, w], cross_entropy(x, t, w, reduction=r), reduction=R, has_weight=1)
    add(f"ce_ignore_weight_{r}", [x, t_ign, w], cross_entropy(x, t_ign, w, reduction=r), reduction=R, has_weight=1)
    add(f"ce_smooth_{r}", [x, t], cross_entropy(x, t, eps=0.1, reduction=r), reduction=R, smoothing=0.1)
    add(f"ce_smooth_weight_ignore_{r}", [x, t_ign, w], cross_entropy(x, t_ign, w, eps=0.2, reduction=r),
        reduction=R, smoothing=0.2, has_weight=1)
    add(f"ce_ignore_class_{r}", [x, t], cross_entropy(x, t, ignore_index=2, reduction=r), reduction=R, ignore_index=2)
    p = rng.dirichlet(np.ones(5), size=6)
    add(f"ce_probs_{r}", [x, p], cross_entropy_probs(x, p, reduction=r), reduction=R)
    add(f"ce_probs_weight_smooth_{r}", [x, p, w], cross_entropy_probs(x, p, w, eps=0.15, reduction=r),
        reduction=R, has_weight=1, smoothing=0.15)

# K-dimensional: [N, C, H, W]
xk = rng.standard_normal((2, 3, 4, 5))
tk = rng.integers(0, 3, (2, 4, 5))
tk[0, 1, 2] = -100
tk[1, 3, 0] = -100
wk = np.array([0.5, 1.5, 1.0])
pk = np.moveaxis(rng.dirichlet(np.ones(3), size=(2, 4, 5)), -1, 1)
for r in ["none", "mean", "sum"]:
    R = REDUCTIONS[r]
    add(f"ce_kdim_{r}", [xk, tk], cross_entropy(xk, tk, reduction=r), reduction=R)
    add(f"ce_kdim_weight_smooth_{r}", [xk, tk, wk], cross_entropy(xk, tk, wk, eps=0.1, reduction=r),
        reduction=R, has_weight=1, smoothing=0.1)
    add(f"ce_kdim_probs_{r}", [xk, pk], cross_entropy_probs(xk, pk, reduction=r), reduction=R)
# unbatched [C] logits, scalar target
x1 = rng.standard_normal(7)
add("ce_unbatched_none", [x1, np.array(3)], cross_entropy(x1, 3, reduction="none")[0], reduction=0)
add("ce_unbatched_mean", [x1, np.array(3)], cross_entropy(x1, 3, reduction="mean"), reduction=1)
# large logits stay finite (stability)
xl = np.array([[1000.0, 0.0, -1000.0], [-500.0, 500.0, 499.0]])
add("ce_large_none", [xl, np.array([2, 2])], cross_entropy(xl, np.array([2, 2]), reduction="none"), reduction=0)

# ---- nll loss ----
lp = log_softmax(x, 1)
for r in ["none", "mean", "sum"]:
    R = REDUCTIONS[r]
    add(f"nll_basic_{r}", [lp, t], cross_entropy(x, t, reduction=r), reduction=R)
    add(f"nll_ignore_weight_{r}", [lp, t_ign, w], cross_entropy(x, t_ign, w, reduction=r), reduction=R, has_weight=1)
    add(f"nll_kdim_{r}", [log_softmax(xk, 1), tk], cross_entropy(xk, tk, reduction=r), reduction=R)


# ---- binary cross entropy ----
def bce_logits(x, y, weight=None, pos_weight=None, reduction="mean"):
    pw = np.ones(x.shape[-1]) if pos_weight is None else pos_weight
    lw = 1 + (pw - 1) * y
    loss = (1 - y) * x + lw * (np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0))
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


def bce(p, y, weight=None, reduction="mean"):
    loss = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


xb = rng.standard_normal((4, 3)) * 3
xb[0, 0] = 40.0
xb[1, 1] = -40.0
yb = rng.uniform(0, 1, (4, 3))
yb[2] = [0, 1, 1]
wb = rng.uniform(0.5, 2, (4, 3))
wrow = rng.uniform(0.5, 2, (4, 1))
pwb = np.array([0.5, 2.0, 3.0])
pb = 1 / (1 + np.exp(-rng.standard_normal((4, 3))))
for r in ["none", "mean", "sum"]:
    R = REDUCTIONS[r]
    add(f"bcel_basic_{r}", [xb, yb], bce_logits(xb, yb, reduction=r), reduction=R)
    add(f"bcel_weight_{r}", [xb, yb, wb], bce_logits(xb, yb, wb, reduction=r), reduction=R, has_weight=1)
    add(f"bcel_rowweight_{r}", [xb, yb, wrow], bce_logits(xb, yb, wrow, reduction=r), reduction=R, has_weight=1)
    add(f"bcel_posweight_{r}", [xb, yb, pwb], bce_logits(xb, yb, pos_weight=pwb, reduction=r), reduction=R, has_pos_weight=1)
    add(f"bcel_both_{r}", [xb, yb, wb, pwb], bce_logits(xb, yb, wb, pwb, reduction=r), reduction=R, has_weight=1, has_pos_weight=1)
    add(f"bce_basic_{r}", [pb, yb], bce(pb, yb, reduction=r), reduction=R)
    add(f"bce_weight_{r}", [pb, yb, wb], bce(pb, yb, wb, reduction=r), reduction=R, has_weight=1)
# probabilities of exactly 0 and 1: logs clamp at -100
p01 = np.array([0.0, 1.0, 0.5, 1.0])
y01 = np.array([1.0, 0.0, 1.0, 1.0])
add("bce_clamped_none", [p01, y01], bce(p01, y01, reduction="none"), reduction=0)

# ---- regression ----
xr = rng.standard_normal((3, 4)) * 2
yr = rng.standard_normal((3, 4))


def smooth_l1(x, y, beta):
    d = np.abs(x - y)
    if beta == 0:
        return d
    return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


def huber(x, y, delta):
    d = np.abs(x - y)
    return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


for r in ["none", "mean", "sum"]:
    R = REDUCTIONS[r]
    add(f"mse_{r}", [xr, yr], reduce((xr - yr) ** 2, r), reduction=R)
    add(f"l1_{r}", [xr, yr], reduce(np.abs(xr - yr), r), reduction=R)
    for beta in [1.0, 0.5, 0.0]:
        add(f"sl1_beta{beta}_{r}", [xr, yr], reduce(smooth_l1(xr, yr, beta), r), reduction=R, beta=beta)
    for delta in [1.0, 2.0]:
        add(f"huber_delta{delta}_{r}", [xr, yr], reduce(huber(xr, yr, delta), r), reduction=R, delta=delta)

# ---- KL divergence (input = log-probs) ----
q = log_softmax(rng.standard_normal((4, 5)), 1)
pt = rng.dirichlet(np.ones(5), size=4)
pt[1, 2] = 0.0
pt[1] /= pt[1].sum()
with np.errstate(divide="ignore", invalid="ignore"):
    xlogy = np.where(pt > 0, pt * np.log(np.where(pt > 0, pt, 1)), 0.0)
lt = np.log(rng.dirichlet(np.ones(5), size=4))
for r in ["none", "mean", "sum", "batchmean"]:
    R = REDUCTIONS[r]
    add(f"kl_{r}", [q, pt], reduce(xlogy - pt * q, r), reduction=R)
    add(f"kl_logtarget_{r}", [q, lt], reduce(np.exp(lt) * (lt - q), r), reduction=R, log_target=1)

write("losses", cases)
