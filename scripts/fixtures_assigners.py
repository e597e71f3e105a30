"""Reference label assignments (ATSS, FCOS centre sampling, SimOTA, AlignedOTA) in NumPy,
written from MMDetection's ATSSAssigner.assign, FCOSHead._get_targets_single (center_sampling),
SimOTAAssigner (get_in_gt_and_in_center_info, dynamic_k_matching) and DAMO-YOLO's
AlignOTAAssigner._assign, for horizontal xyxy boxes in float64. Ties are broken by the lowest
index (stable sorts, first argmax/argmin), which the Swift assigners document; the random
scenes use non-grid gt centres so that ties do not occur anyway.

Each case: inputs = [priors [P, 4] (cx, cy, stride, level), gt boxes [G, 4], gt labels [G],
logits [P, C], predicted boxes [P, 4]]; output = [P, 8]: (gt index or -1, quality) for ATSS,
FCOS (regression ranges (-1, 24), (24, 48), (48, inf)), SimOTA and AlignedOTA in that order.
Run: python3 scripts/fixtures_assigners.py"""
import os

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomVisionTests", "Fixtures")


def box_iou(a, b):
    """Pairwise IoU [N, M] of xyxy boxes (0 for empty unions)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def atss(priors, gts, topk=9, scale=8.0, margin=0.01):
    P, G = len(priors), len(gts)
    gt_ind = -np.ones(P, dtype=np.int64)
    quality = np.zeros(P)
    if G == 0:
        return gt_ind, quality
    cx, cy, stride, level = priors.T
    side = scale * stride
    anchors = np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], 1)
    overlaps = box_iou(anchors, gts)  # [P, G]
    gcx, gcy = (gts[:, 0] + gts[:, 2]) / 2, (gts[:, 1] + gts[:, 3]) / 2
    dist = np.sqrt((cx[:, None] - gcx[None]) ** 2 + (cy[:, None] - gcy[None]) ** 2)
    cand = []
    for lv in np.unique(level):
        idx = np.nonzero(level == lv)[0]
        k = min(topk, len(idx))
        order = np.argsort(dist[idx], axis=0, kind="stable")[:k]  # [k, G]
        cand.append(idx[order])
    cand = np.concatenate(cand, 0)  # [K, G]
    cand_ov = overlaps[cand, np.arange(G)]
    mean = cand_ov.mean(0)
    std = cand_ov.std(0, ddof=1) if len(cand_ov) > 1 else np.zeros(G)
    is_pos = cand_ov >= (mean + std)[None]
    px, py = cx[cand], cy[cand]
    d = np.stack([px - gts[:, 0], py - gts[:, 1], gts[:, 2] - px, gts[:, 3] - py], 1).min(1)
    is_pos &= d > margin
    ov_inf = np.full((P, G), -np.inf)
    for g in range(G):
        sel = cand[is_pos[:, g], g]
        ov_inf[sel, g] = overlaps[sel, g]
    best = ov_inf.max(1)
    arg = ov_inf.argmax(1)
    pos = best != -np.inf
    gt_ind[pos] = arg[pos]
    quality[pos] = best[pos]
    return gt_ind, quality


def fcos(priors, gts, ranges, radius=1.5):
    P, G = len(priors), len(gts)
    gt_ind = -np.ones(P, dtype=np.int64)
    quality = np.zeros(P)
    if G == 0:
        return gt_ind, quality
    xs, ys, stride, level = priors.T
    areas = np.tile(((gts[:, 2] - gts[:, 0]) * (gts[:, 3] - gts[:, 1]))[None], (P, 1))
    rr = np.asarray(ranges)[level.astype(int)]  # [P, 2]
    left = xs[:, None] - gts[None, :, 0]
    top = ys[:, None] - gts[None, :, 1]
    right = gts[None, :, 2] - xs[:, None]
    bottom = gts[None, :, 3] - ys[:, None]
    targets = np.stack([left, top, right, bottom], -1)  # [P, G, 4]
    cxs, cys = (gts[:, 0] + gts[:, 2]) / 2, (gts[:, 1] + gts[:, 3]) / 2
    r = stride[:, None] * radius
    x_mins, y_mins = cxs[None] - r, cys[None] - r
    x_maxs, y_maxs = cxs[None] + r, cys[None] + r
    cg = np.stack([np.where(x_mins > gts[None, :, 0], x_mins, gts[None, :, 0]),
                   np.where(y_mins > gts[None, :, 1], y_mins, gts[None, :, 1]),
                   np.where(x_maxs > gts[None, :, 2], gts[None, :, 2], x_maxs),
                   np.where(y_maxs > gts[None, :, 3], gts[None, :, 3], y_maxs)], -1)
    cb = np.stack([xs[:, None] - cg[..., 0], ys[:, None] - cg[..., 1],
                   cg[..., 2] - xs[:, None], cg[..., 3] - ys[:, None]], -1)
    inside = cb.min(-1) > 0
    maxd = targets.max(-1)
    in_range = (maxd >= rr[:, 0:1]) & (maxd <= rr[:, 1:2])
    areas[~inside] = np.inf
    areas[~in_range] = np.inf
    amin = areas.min(1)
    arg = areas.argmin(1)
    pos = amin != np.inf
    gt_ind[pos] = arg[pos]
    t = targets[np.arange(P), arg]
    lr = np.minimum(t[:, 0], t[:, 2]) / np.maximum(t[:, 0], t[:, 2])
    tb = np.minimum(t[:, 1], t[:, 3]) / np.maximum(t[:, 1], t[:, 3])
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.sqrt(lr * tb)
    quality[pos] = c[pos]
    return gt_ind, quality


def bce(p, t):
    """F.binary_cross_entropy(reduction='none'): logs clamped at -100."""
    with np.errstate(divide="ignore"):
        lp = np.maximum(np.log(p), -100)
        l1p = np.maximum(np.log(1 - p), -100)
    return -(t * lp + (1 - t) * l1p)


def ota(priors, gts, labels, logits, pred, aligned, radius=2.5, topk=10, iou_w=3.0, cls_w=1.0, INF=1e8, EPS=1e-7):
    P, G = len(priors), len(gts)
    gt_ind = -np.ones(P, dtype=np.int64)
    quality = np.zeros(P)
    if G == 0:
        return gt_ind, quality
    x, y, s = priors[:, 0:1], priors[:, 1:2], priors[:, 2:3]
    is_in_gts = np.stack([x - gts[:, 0], y - gts[:, 1], gts[:, 2] - x, gts[:, 3] - y], 1).min(1) > 0
    gcx, gcy = (gts[:, 0] + gts[:, 2]) / 2, (gts[:, 1] + gts[:, 3]) / 2
    is_in_cts = np.stack([x - (gcx - radius * s), y - (gcy - radius * s),
                          (gcx + radius * s) - x, (gcy + radius * s) - y], 1).min(1) > 0
    valid = is_in_gts.any(1) | is_in_cts.any(1)
    in_both = is_in_gts[valid] & is_in_cts[valid]
    vidx = np.nonzero(valid)[0]
    V = len(vidx)
    if V == 0:
        return gt_ind, quality
    ious = box_iou(pred[vidx], gts)  # [V, G]
    iou_cost = -np.log(ious + EPS)
    scores = 1 / (1 + np.exp(-logits[vidx]))  # [V, C]
    C = scores.shape[1]
    onehot = np.eye(C)[labels]  # [G, C]
    sc = np.repeat(scores[:, None, :], G, 1)  # [V, G, C]
    if aligned:
        soft = onehot[None] * ious[..., None]
        cls_cost = (bce(sc, soft) * np.abs(soft - sc) ** 2).sum(-1)
    else:
        cls_cost = bce(sc, np.broadcast_to(onehot[None], sc.shape)).sum(-1)
    cost = cls_cost * cls_w + iou_cost * iou_w + (~in_both) * INF
    # dynamic_k_matching
    match = np.zeros((V, G), dtype=np.int64)
    k_cand = min(topk, V)
    top_ious = -np.sort(-ious, axis=0, kind="stable")[:k_cand]
    dyn_k = np.maximum(top_ious.sum(0).astype(np.int64), 1)
    for g in range(G):
        order = np.argsort(cost[:, g], kind="stable")[: dyn_k[g]]
        match[order, g] = 1
    multi = match.sum(1) > 1
    if multi.any():
        amin = cost[multi].argmin(1)
        match[multi] = 0
        match[np.nonzero(multi)[0], amin] = 1
    fg = match.sum(1) > 0
    matched = match[fg].argmax(1)
    gt_ind[vidx[fg]] = matched
    quality[vidx[fg]] = (match * ious).sum(1)[fg]
    return gt_ind, quality


def make_priors(image, strides, offset=0.5):
    rows = []
    for lv, s in enumerate(strides):
        n = int(np.ceil(image / s))
        for yy in range(n):
            for xx in range(n):
                rows.append([(xx + offset) * s, (yy + offset) * s, s, lv])
    return np.array(rows, dtype=np.float64)


def random_scene(rng, image, strides, G, C, min_size, max_size):
    priors = make_priors(image, strides)
    P = len(priors)
    w = rng.uniform(min_size, max_size, G)
    h = rng.uniform(min_size, max_size, G)
    cx = rng.uniform(w / 2, image - w / 2)
    cy = rng.uniform(h / 2, image - h / 2)
    gts = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    labels = rng.integers(0, C, G)
    logits = rng.normal(0, 2, (P, C))
    # Decoded predictions: boxes around each prior of random size (ltrb distances).
    d = rng.uniform(0.5, 3.0, (P, 4)) * priors[:, 2:3] * 2
    pred = np.stack([priors[:, 0] - d[:, 0], priors[:, 1] - d[:, 1], priors[:, 0] + d[:, 2], priors[:, 1] + d[:, 3]], 1)
    # Half the priors inside a gt predict that gt, jittered, so dynamic k exceeds 1.
    for p in range(P):
        inside = np.nonzero((priors[p, 0] > gts[:, 0]) & (priors[p, 0] < gts[:, 2])
                            & (priors[p, 1] > gts[:, 1]) & (priors[p, 1] < gts[:, 3]))[0]
        if len(inside) and rng.uniform() < 0.5:
            g = inside[rng.integers(len(inside))]
            size = np.array([w[g], h[g], w[g], h[g]])
            pred[p] = gts[g] + rng.normal(0, 0.1, 4) * size
    return priors, gts, labels, logits, pred


def main():
    rng = np.random.default_rng(6)
    cases = {}
    fcos_ranges = [(-1, 24), (24, 48), (48, np.inf)]
    scenes = {
        "s1": (64, [8, 16, 32], 1, 3, 8, 40),
        "s3": (96, [8, 16, 32], 3, 4, 6, 60),
        "s6": (128, [8, 16, 32], 6, 5, 6, 80),
        "crowd": (64, [8, 16, 32], 8, 2, 10, 40),
    }
    for name, (image, strides, G, C, lo, hi) in scenes.items():
        priors, gts, labels, logits, pred = random_scene(rng, image, strides, G, C, lo, hi)
        inputs = [priors, gts, labels, logits, pred]
        results = {
            "atss": atss(priors, gts),
            "fcos": fcos(priors, gts, fcos_ranges),
            "simota": ota(priors, gts, labels, logits, pred, aligned=False),
            "alignedota": ota(priors, gts, labels, logits, pred, aligned=True),
        }
        columns = []
        for method, (ind, q) in results.items():
            assert (ind >= 0).any(), (name, method)
            columns += [ind.astype(np.float64), q]
        cases[name] = {"inputs": inputs, "output": np.stack(columns, 1), "params": {"classes": float(C)}}
    write("assigners", cases)


if __name__ == "__main__":
    main()
