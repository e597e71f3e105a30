"""Reference re-identification metrics, k-reciprocal re-ranking and DBSCAN (NumPy, float64),
written from:
- `eval_func` (Market-1501 protocol) in reid-strong-baseline (Luo et al. 2019), with a stable
  argsort so ties are broken by gallery index;
- `re_ranking` of Zhong et al. 2017 as released in reid-strong-baseline's utils/re_ranking.py
  (features -> squared Euclidean -> column-max scaling; V kept in float64, not float16;
  stable argsort);
- sklearn's DBSCAN (metric="precomputed"): neighbourhoods d <= eps (self included), core if
  |N| >= min_samples, depth-first growth from core samples in index order (dbscan_inner).
Run: python3 scripts/fixtures_reid.py"""
import os

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomVisionTests", "Fixtures")


def eval_func(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=50):
    num_q, num_g = distmat.shape
    max_rank = min(max_rank, num_g)
    indices = np.argsort(distmat, axis=1, kind="stable")
    matches = (g_pids[indices] == q_pids[:, None]).astype(np.int64)
    all_cmc, all_ap, all_inp, skipped = [], [], [], 0
    for q in range(num_q):
        order = indices[q]
        keep = ~((g_pids[order] == q_pids[q]) & (g_camids[order] == q_camids[q]))
        raw = matches[q][keep]
        if not np.any(raw):
            skipped += 1
            continue
        cmc = raw.cumsum()
        last = np.max(np.where(raw == 1))
        all_inp.append(cmc[last] / (last + 1.0))
        cmc[cmc > 1] = 1
        cmc = cmc[:max_rank].astype(np.float64)
        if len(cmc) < max_rank:  # junk removal left fewer entries: extend with the last value
            cmc = np.concatenate([cmc, np.full(max_rank - len(cmc), cmc[-1])])
        all_cmc.append(cmc)
        precision = raw.cumsum() / np.arange(1, len(raw) + 1)
        all_ap.append((precision * raw).sum() / raw.sum())
    return np.mean(all_cmc, axis=0), np.mean(all_ap), np.mean(all_inp), len(all_ap), skipped


def squared_euclidean(a, b):
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


def k_reciprocal(initial_rank, i, k):
    forward = initial_rank[i, :k + 1]
    backward = initial_rank[forward, :k + 1]
    fi = np.where(backward == i)[0]
    return forward[fi]


def re_ranking(original, query_num, k1=20, k2=6, lambda_value=0.3):
    all_num = original.shape[0]
    original_dist = np.transpose(original / np.max(original, axis=0))
    V = np.zeros_like(original_dist)
    initial_rank = np.argsort(original_dist, axis=1, kind="stable")
    for i in range(all_num):
        r = k_reciprocal(initial_rank, i, k1)
        expansion = r
        for candidate in r:
            rc = k_reciprocal(initial_rank, candidate, int(np.around(k1 / 2)))
            if len(np.intersect1d(rc, r)) > 2 / 3 * len(rc):
                expansion = np.append(expansion, rc)
        expansion = np.unique(expansion)
        weight = np.exp(-original_dist[i, expansion])
        V[i, expansion] = weight / np.sum(weight)
    if k2 != 1:
        V = np.stack([np.mean(V[initial_rank[i, :k2], :], axis=0) for i in range(all_num)])
    jaccard = np.zeros((all_num, all_num))
    for i in range(all_num):
        s = np.minimum(V[i][None, :], V).sum(1)
        jaccard[i] = 1 - s / (2 - s)
    final = jaccard * (1 - lambda_value) + original_dist * lambda_value
    return final[:query_num, query_num:], jaccard


def dbscan(d, eps, min_samples):
    n = d.shape[0]
    neighbourhoods = [np.where(d[i] <= eps)[0] for i in range(n)]
    core = np.array([len(nb) >= min_samples for nb in neighbourhoods])
    labels = np.full(n, -1)
    label = 0
    for start in range(n):
        if labels[start] != -1 or not core[start]:
            continue
        stack, i = [], start
        while True:
            if labels[i] == -1:
                labels[i] = label
                if core[i]:
                    stack.extend(j for j in neighbourhoods[i] if labels[j] == -1)
            if not stack:
                break
            i = stack.pop()
        label += 1
    return labels


rng = np.random.default_rng(7)
cases = {}

# Evaluation: random distances, ids drawn from few identities and cameras so junk and
# skipped queries both occur; an integer-valued case exercises tie-breaking.
for name, (q, g, ids, cams, integer) in {
    "eval_random": (12, 40, 6, 3, False),
    "eval_ties": (10, 30, 5, 2, True),
    "eval_small_gallery": (6, 8, 4, 2, False),
}.items():
    dist = rng.integers(0, 5, size=(q, g)).astype(np.float64) if integer else rng.random((q, g))
    q_pids, g_pids = rng.integers(0, ids, q), rng.integers(0, ids, g)
    q_cams, g_cams = rng.integers(0, cams, q), rng.integers(0, cams, g)
    max_rank = 10
    cmc, m_ap, m_inp, valid, skipped = eval_func(dist, q_pids, g_pids, q_cams, g_cams, max_rank)
    cases[name] = {"inputs": [dist, q_pids, g_pids, q_cams, g_cams], "output": cmc,
                   "params": {"mAP": m_ap, "mINP": m_inp, "valid": valid, "skipped": skipped, "maxRank": max_rank}}

# Re-ranking from features: clustered features so reciprocal sets are non-trivial.
for name, (q, g, dim, k1, k2, lam) in {
    "rerank_default": (8, 40, 6, 20, 6, 0.3),
    "rerank_small_k": (5, 20, 4, 5, 3, 0.5),
    "rerank_no_qe": (4, 16, 3, 4, 1, 0.2),
}.items():
    centres = rng.standard_normal((6, dim)) * 2
    feats = centres[rng.integers(0, 6, q + g)] + 0.5 * rng.standard_normal((q + g, dim))
    final, jaccard = re_ranking(squared_euclidean(feats, feats), q, k1, k2, lam)
    cases[name] = {"inputs": [feats[:q], feats[q:], jaccard], "output": final,
                   "params": {"k1": k1, "k2": k2, "lambda": lam}}

# DBSCAN on Euclidean distances of blobs plus scattered noise points.
for name, (n, eps, min_samples) in {"dbscan_blobs": (60, 0.6, 4), "dbscan_min1": (25, 0.5, 1),
                                    "dbscan_border": (40, 0.9, 5)}.items():
    centres = rng.standard_normal((3, 2)) * 4
    pts = np.concatenate([centres[rng.integers(0, 3, n - 8)] + 0.4 * rng.standard_normal((n - 8, 2)),
                          rng.uniform(-8, 8, (8, 2))])
    d = np.sqrt(squared_euclidean(pts, pts))
    cases[name] = {"inputs": [d], "output": dbscan(d, eps, min_samples),
                   "params": {"eps": eps, "minSamples": min_samples}}

write("reid", cases)
