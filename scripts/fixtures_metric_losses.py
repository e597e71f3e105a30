"""Reference values for the representation / metric-learning losses, written in NumPy
(float64) directly from the papers' formulas, anchor by anchor (loops, not the Swift
code's masked-matrix form):
NT-Xent (SimCLR eq. 1), SupCon L_out (Khosla et al. 2020 eq. 2), DCL / DCLW (Yeh et al.
2022 eq. 6, vMF weights), batch-hard triplet (Hermans et al. 2017), center loss (Wen et
al. 2016), ArcFace / CosFace logits (insightface arcface_torch), ID loss (label-smoothed
cross-entropy), Hinton distillation, feature MSE, PaLM's z-loss and the spherical Z-loss
(de Brebisson & Vincent 2016 eq. 3).
Run: python3 scripts/fixtures_metric_losses.py"""
import math
import os

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomNNTests", "Fixtures")

rng = np.random.default_rng(7)
REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def reduce(values, reduction):
    values = np.asarray(values, dtype=np.float64)
    return {0: values, 1: np.array(values.mean()), 2: np.array(values.sum())}[reduction]


def unit(v):
    return v / max(np.linalg.norm(v), 1e-12)


def logsumexp(values):
    values = np.asarray(values, dtype=np.float64)
    m = values.max()
    return m + math.log(np.exp(values - m).sum())


def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def nt_xent(v1, v2, tau):
    z = [unit(r) for r in np.concatenate([v1, v2])]
    n = len(v1)
    losses = []
    for k in range(2 * n):
        partner = (k + n) % (2 * n)
        others = [z[k] @ z[j] / tau for j in range(2 * n) if j != k]
        losses.append(-(z[k] @ z[partner]) / tau + logsumexp(others))
    return losses


def supcon(features, labels, tau, base):
    z = [unit(r) for r in features]
    m = len(z)
    losses = []
    for i in range(m):
        denominator = logsumexp([z[i] @ z[a] / tau for a in range(m) if a != i])
        positives = [p for p in range(m) if p != i and labels[p] == labels[i]]
        if not positives:
            losses.append(0.0)
            continue
        mean_log_prob = sum(z[i] @ z[p] / tau - denominator for p in positives) / len(positives)
        losses.append(-(tau / base) * mean_log_prob)
    return losses


def dcl(v1, v2, tau, sigma=None):
    z = [unit(r) for r in np.concatenate([v1, v2])]
    n = len(v1)
    cos = np.array([z[i] @ z[i + n] for i in range(n)])
    if sigma is None:
        w = np.ones(n)
    else:
        e = np.exp(cos / sigma)
        w = 2 - e / e.mean()
    losses = []
    for k in range(2 * n):
        partner = (k + n) % (2 * n)
        negatives = [z[k] @ z[j] / tau for j in range(2 * n) if j not in (k, partner)]
        losses.append(-w[k % n] * cos[k % n] / tau + logsumexp(negatives))
    return losses


def triplet(x, labels, margin, soft):
    n = len(x)
    d = np.array([[np.linalg.norm(x[a] - x[b]) for b in range(n)] for a in range(n)])
    losses, valid = [], 0
    for a in range(n):
        pos = [d[a, p] for p in range(n) if p != a and labels[p] == labels[a]]
        neg = [d[a, q] for q in range(n) if labels[q] != labels[a]]
        if not pos or not neg:
            losses.append(0.0)
            continue
        valid += 1
        gap = max(pos) - min(neg)
        losses.append(softplus(gap) if soft else max(margin + gap, 0.0))
    return losses, valid


def arcface(cosine, labels, s, m, easy):
    out = cosine.copy()
    for i, y in enumerate(labels):
        if y < 0:
            continue
        c = cosine[i, y]
        phi = c * math.cos(m) - math.sqrt(max(1 - c * c, 0.0)) * math.sin(m)
        if easy:
            out[i, y] = phi if c > 0 else c
        else:
            out[i, y] = phi if c > math.cos(math.pi - m) else c - math.sin(math.pi - m) * m
    return out * s


def cosface(cosine, labels, s, m):
    out = cosine.copy()
    for i, y in enumerate(labels):
        if y >= 0:
            out[i, y] -= m
    return out * s


def smoothed_ce(logits, labels, eps):
    c = logits.shape[1]
    losses = []
    for row, y in zip(logits, labels):
        logp = row - logsumexp(row)
        q = np.full(c, eps / c)
        q[y] += 1 - eps
        losses.append(-(q * logp).sum())
    return losses


def log_softmax_last(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def distillation(s, t, temperature):
    logq = log_softmax_last(s / temperature)
    logp = log_softmax_last(t / temperature)
    return (np.exp(logp) * (logp - logq)).sum(axis=-1) * temperature ** 2


def spherical_z(o, labels, a, b):
    losses = []
    for row, y in zip(o, labels):
        mu = row.mean()
        sigma = math.sqrt((row ** 2).mean() - mu ** 2)
        z = (row[y] - mu) / sigma
        losses.append(softplus(a * (b - z)) / a)
    return losses


cases = {}

for k, (n, d, tau, red) in enumerate([(4, 5, 0.5, 1), (3, 4, 0.1, 0), (5, 3, 1.0, 2)]):
    v1, v2 = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    cases[f"ntxent_{k}"] = {"inputs": [v1, v2], "output": reduce(nt_xent(v1, v2, tau), red),
                            "params": {"temperature": tau, "reduction": red}}
    cases[f"dcl_{k}"] = {"inputs": [v1, v2], "output": reduce(dcl(v1, v2, tau), red),
                         "params": {"temperature": tau, "reduction": red}}
    cases[f"dclw_{k}"] = {"inputs": [v1, v2], "output": reduce(dcl(v1, v2, tau, 0.5 + 0.2 * k), red),
                          "params": {"temperature": tau, "sigma": 0.5 + 0.2 * k, "reduction": red}}

for k, (labels, tau, base, red) in enumerate([([0, 1, 0, 2, 1, 0], 0.07, 0.07, 1),
                                             ([3, 1, 3, 0, 1], 0.5, 0.07, 0),  # label 0 has no positive
                                             ([1, 1, 2, 2, 0, 0, 2], 0.2, 0.2, 2)]):
    f = rng.standard_normal((len(labels), 4))
    cases[f"supcon_{k}"] = {"inputs": [f, np.array(labels, dtype=np.int64)],
                            "output": reduce(supcon(f, labels, tau, base), red),
                            "params": {"temperature": tau, "base_temperature": base, "reduction": red}}

for k, (labels, margin, soft, red) in enumerate([([0, 0, 1, 1, 2, 2], 0.3, 0, 1),
                                                ([0, 1, 0, 1, 1, 2], 1.0, 0, 0),  # label 2 has no positive
                                                ([2, 2, 0, 0, 0, 1, 1], 0.3, 1, 1),
                                                ([0, 0, 1, 1], 0.5, 1, 2)]):
    x = rng.standard_normal((len(labels), 3))
    losses, valid = triplet(x, labels, margin, soft)
    out = np.array(sum(losses) / max(valid, 1)) if red == 1 else reduce(losses, red)
    cases[f"triplet_{k}"] = {"inputs": [x, np.array(labels, dtype=np.int64)], "output": out,
                             "params": {"margin": margin, "soft": soft, "reduction": red}}

for k, red in enumerate([1, 0, 2]):
    x, centers = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    labels = np.array([0, 3, 1, 3, 2], dtype=np.int64)
    losses = [0.5 * ((x[i] - centers[labels[i]]) ** 2).sum() for i in range(5)]
    cases[f"center_{k}"] = {"inputs": [x, labels, centers], "output": reduce(losses, red), "params": {"reduction": red}}

# Cosines in (-1, 1), with target cosines on both sides of cos(pi - m) and of 0.
cosine = rng.uniform(-0.9, 0.9, (6, 5))
labels = np.array([0, 2, -1, 4, 1, 3], dtype=np.int64)
cosine[0, 0], cosine[1, 2], cosine[3, 4], cosine[4, 1] = -0.95, 0.97, -0.3, 0.4
for k, (s, m, easy) in enumerate([(64.0, 0.5, 0), (30.0, 0.3, 1), (10.0, 0.5, 1), (16.0, 0.2, 0)]):
    cases[f"arcface_{k}"] = {"inputs": [cosine, labels], "output": arcface(cosine, labels, s, m, easy),
                             "params": {"scale": s, "margin": m, "easy": easy}}
for k, (s, m) in enumerate([(64.0, 0.4), (30.0, 0.35)]):
    cases[f"cosface_{k}"] = {"inputs": [cosine, labels], "output": cosface(cosine, labels, s, m),
                             "params": {"scale": s, "margin": m}}

for k, (eps, red) in enumerate([(0.1, 1), (0.0, 0), (0.3, 2)]):
    logits, y = rng.standard_normal((4, 6)) * 2, rng.integers(0, 6, 4)
    cases[f"id_{k}"] = {"inputs": [logits, y], "output": reduce(smoothed_ce(logits, y, eps), red),
                        "params": {"epsilon": eps, "reduction": red}}

for k, (shape, temperature, red) in enumerate([((4, 5), 4.0, 1), ((2, 3, 4), 2.0, 0), ((3, 6), 1.0, 2)]):
    s, t = rng.standard_normal(shape) * 3, rng.standard_normal(shape) * 3
    cases[f"kd_{k}"] = {"inputs": [s, t], "output": reduce(distillation(s, t, temperature), red),
                        "params": {"temperature": temperature, "reduction": red}}

for k, red in enumerate([1, 0, 2]):
    s, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    cases[f"feat_{k}"] = {"inputs": [s, t], "output": reduce((s - t) ** 2, red), "params": {"reduction": red}}

for k, (shape, coef, red) in enumerate([((4, 7), 1e-4, 1), ((2, 3, 5), 1.0, 0), ((6,), 0.5, 2)]):
    logits = rng.standard_normal(shape) * 4 + 3
    lse = np.log(np.exp(logits).sum(axis=-1))
    cases[f"auxz_{k}"] = {"inputs": [logits], "output": reduce(coef * lse ** 2, red),
                          "params": {"coefficient": coef, "reduction": red}}

for k, (a, b, red) in enumerate([(1.0, 1.0, 1), (0.1, 10.0, 0), (5.0, -0.5, 2)]):
    o, y = rng.standard_normal((5, 6)) * 2, rng.integers(0, 6, 5)
    cases[f"sphz_{k}"] = {"inputs": [o, y], "output": reduce(spherical_z(o, y, a, b), red),
                          "params": {"a": a, "b": b, "reduction": red}}
o = rng.standard_normal(7)
cases["sphz_vector"] = {"inputs": [o, np.array(3, dtype=np.int64)], "output": np.array(spherical_z([o], [3], 2.0, 1.5)[0]),
                        "params": {"a": 2.0, "b": 1.5, "reduction": 1}}

write("metric_losses", cases)
