"""Reference values for Sources/FathomVision/Detection (boxes, rotated IoU, Gaussian and focal
losses), written from the papers' formulas and MMRotate / MMDetection / torchvision sources with
numpy only (float64). Rotated IoU is exact: corners are computed in float64, then the convex
clipping (Sutherland-Hodgman) and the shoelace area run in exact rational arithmetic
(fractions.Fraction), so the only rounding is in the corners themselves.
Run: python3 scripts/fixtures_detection_geometry.py"""
import math
import os
from fractions import Fraction

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomVisionTests", "Fixtures")
rng = np.random.default_rng(6)


# ---------- rotated boxes ----------
def corners(box):
    """MMRotate obb2poly order: offsets (-w/2,-h/2), (w/2,-h/2), (w/2,h/2), (-w/2,h/2) rotated by theta."""
    cx, cy, w, h, t = [float(v) for v in box]
    c, s = math.cos(t), math.sin(t)
    out = []
    for ux, uy in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        dx, dy = ux * w, uy * h
        out.append((cx + c * dx - s * dy, cy + s * dx + c * dy))
    return out


def clip_exact(subject, clipper):
    """Sutherland-Hodgman of convex `subject` by convex counter-clockwise `clipper`, in Fractions."""
    poly = [(Fraction(x), Fraction(y)) for x, y in subject]
    clip = [(Fraction(x), Fraction(y)) for x, y in clipper]
    for e in range(len(clip)):
        p, q = clip[e], clip[(e + 1) % len(clip)]
        qx, qy = q[0] - p[0], q[1] - p[1]
        side = lambda v: qx * (v[1] - p[1]) - qy * (v[0] - p[0])
        out = []
        for i in range(len(poly)):
            a, b = poly[i], poly[(i + 1) % len(poly)]
            sa, sb = side(a), side(b)
            if sa >= 0:
                out.append(a)
            if (sa >= 0) != (sb >= 0):
                t = sa / (sa - sb)
                out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
        poly = out
        if len(poly) < 3:
            return Fraction(0)
    twice = sum(poly[i][0] * poly[(i + 1) % len(poly)][1] - poly[(i + 1) % len(poly)][0] * poly[i][1]
                for i in range(len(poly)))
    return abs(twice) / 2


def rotated_iou(a, b):
    if a[2] <= 0 or a[3] <= 0 or b[2] <= 0 or b[3] <= 0:
        return 0.0
    inter = clip_exact(corners(b), corners(a))
    union = Fraction(float(a[2])) * Fraction(float(a[3])) + Fraction(float(b[2])) * Fraction(float(b[3])) - inter
    return float(inter / union) if union > 0 else 0.0


def pairwise_rotated(A, B):
    return np.array([[rotated_iou(a, b) for b in B] for a in A])


pi = math.pi
special_a = np.array([
    [0, 0, 2, 2, 0],            # unit square
    [10, 10, 4, 2, 0.3],
    [5, 5, 3, 1, pi / 2],
    [-3, 2, 2, 1, -pi / 2],
    [100, 100, 1e-3, 2e-3, 0.7],  # tiny
    [0, 0, 1e4, 5e3, 0.2],        # huge
    [1e5, -1e5, 30, 10, 1.0],     # far from the origin
])
special_b = np.array([
    [0, 0, 2, 2, 0],            # identical to a[0]
    [2, 0, 2, 2, 0],            # touches a[0] along an edge
    [2, 2, 2, 2, 0],            # touches a[0] at a corner
    [50, 50, 1, 1, 0.1],        # disjoint from everything
    [0, 0, 2, 2, pi / 4],       # a[0] turned 45 degrees
    [10, 10, 2, 4, 0.3 + pi / 2],  # a[1] with w,h swapped and theta + pi/2
    [5, 5, 3, 1, -pi / 2],      # a[2] with theta - pi
    [100, 100, 2e-3, 1e-3, 0.7 + pi / 2],
    [100, 100.0005, 1e-3, 2e-3, 1.1],
    [1e3, 0, 1e4, 5e3, -0.4],
    [1e5 + 5, -1e5, 30, 10, 1.3],
    [0.5, 0.5, 3, 0.5, 0.6],
    [10, 10, 1, 0.5, 1.0],      # inside a[1]
    [10 + 4 * math.cos(0.3), 10 + 4 * math.sin(0.3), 4, 2, 0.3],  # touches a[1] along a turned edge
    [10 + 3 * math.cos(0.3), 10 + 3 * math.sin(0.3), 4, 2, 0.3 + pi],  # a[1] slid by 3/4 of its width
])
rand_a = np.column_stack([rng.uniform(0, 20, 12), rng.uniform(0, 20, 12), rng.uniform(1, 8, 12),
                          rng.uniform(1, 8, 12), rng.uniform(-pi, pi, 12)])
rand_b = np.column_stack([rng.uniform(0, 20, 9), rng.uniform(0, 20, 9), rng.uniform(1, 8, 9),
                          rng.uniform(1, 8, 9), rng.uniform(-pi, pi, 9)])
cases = {
    "rotated_iou_special": {"inputs": [special_a, special_b], "output": pairwise_rotated(special_a, special_b)},
    "rotated_iou_random": {"inputs": [rand_a, rand_b], "output": pairwise_rotated(rand_a, rand_b)},
    "rotated_iou_aligned": {"inputs": [rand_a[:9], rand_b],
                            "output": np.array([rotated_iou(a, b) for a, b in zip(rand_a[:9], rand_b)])},
    "rotated_corners": {"inputs": [rand_a[:4]], "output": np.array([corners(b) for b in rand_a[:4]])},
}


# ---------- minimum-area rectangle of polygons ----------
def min_area_rect(points):
    """Brute force: the best rectangle has a side along the direction of some pair of points."""
    best = None
    for i in range(len(points)):
        for j in range(len(points)):
            if i == j:
                continue
            d = points[j] - points[i]
            if np.hypot(*d) == 0:
                continue
            u = d / np.hypot(*d)
            n = np.array([-u[1], u[0]])
            s, t = points @ u, points @ n
            area = (s.max() - s.min()) * (t.max() - t.min())
            if best is None or area < best[0] - 1e-12:
                sm, tm = (s.max() + s.min()) / 2, (t.max() + t.min()) / 2
                best = (area, sm * u + tm * n, s.max() - s.min(), t.max() - t.min(), math.atan2(u[1], u[0]))
    _, c, w, h, t = best
    # le90 (MMRotate regularize_boxes: width_longer=True, start_angle=-90 degrees)
    if not w > h:
        w, h, t = h, w, t + pi / 2
    t = (t + pi / 2) % pi - pi / 2
    return [c[0], c[1], w, h, t]


polys = []
for k in range(5):
    box = [rng.uniform(0, 50), rng.uniform(0, 50), rng.uniform(5, 20), rng.uniform(1, 4), rng.uniform(-1.4, 1.4)]
    pts = np.array(corners(box))
    polys.append(np.roll(pts, k % 4, axis=0))
polys.append(np.array([[0, 0], [4, 0.5], [5, 3], [0.5, 2]]))  # a general quadrilateral
polys.append(np.array([[1, 1], [6, 2], [5, 7], [-1, 5]]))
polys = np.array(polys)
cases["min_area_rect_le90"] = {"inputs": [polys.reshape(len(polys), 8)],
                               "output": np.array([min_area_rect(p) for p in polys])}


# ---------- horizontal IoU family (torchvision formulas) ----------
def hbox_family(a, b, eps=1e-7):
    area = lambda x: (x[2] - x[0]) * (x[3] - x[1])
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = area(a) + area(b) - inter
    iou = inter / union
    cw, ch = max(a[2], b[2]) - min(a[0], b[0]), max(a[3], b[3]) - min(a[1], b[1])
    giou = iou - (cw * ch - union) / (cw * ch)
    rho2 = ((a[0] + a[2] - b[0] - b[2]) / 2) ** 2 + ((a[1] + a[3] - b[1] - b[3]) / 2) ** 2
    diou = iou - rho2 / (cw ** 2 + ch ** 2 + eps)
    v = 4 / pi ** 2 * (math.atan((b[2] - b[0]) / (b[3] - b[1])) - math.atan((a[2] - a[0]) / (a[3] - a[1]))) ** 2
    alpha = v / (1 - iou + v + eps)
    return iou, giou, diou, diou - alpha * v


def random_xyxy(n):
    xy = rng.uniform(0, 10, (n, 2))
    wh = rng.uniform(0.5, 6, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


ha, hb = random_xyxy(6), random_xyxy(5)
hb[0] = ha[0]
hb[1] = [ha[1][2], ha[1][1], ha[1][2] + 1, ha[1][3]]  # touching
fam = np.array([[hbox_family(a, b) for b in hb] for a in ha])
for k, name in enumerate(["iou", "giou", "diou", "ciou"]):
    cases[f"hbox_{name}"] = {"inputs": [ha, hb], "output": fam[:, :, k]}


# ---------- Gaussian losses (full-matrix reference, MMRotate formulas) ----------
def gaussian(box):
    cx, cy, w, h, t = box
    w, h = np.clip(w, 1e-7, 1e7), np.clip(h, 1e-7, 1e7)
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return np.array([cx, cy]), R @ np.diag([w * w / 4, h * h / 4]) @ R.T


def msqrt(S):
    vals, vecs = np.linalg.eigh(S)
    return vecs @ np.diag(np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def post(d, fun, tau):
    f = {"none": d, "sqrt": math.sqrt(d), "log1p": math.log1p(d)}[fun]
    return 1 - 1 / (tau + f) if tau >= 1 else f


def gwd(p, t, fun="log1p", tau=0.0, alpha=1.0, normalize=True):
    mp, Sp = gaussian(p)
    mt, St = gaussian(t)
    sp = msqrt(Sp)
    coupling = np.trace(msqrt(sp @ St @ sp))  # Tr((Sp^1/2 St Sp^1/2)^1/2), computed directly
    d2 = np.sum((mp - mt) ** 2) + alpha ** 2 * (np.trace(Sp) + np.trace(St) - 2 * coupling)
    d = math.sqrt(max(d2, 0))
    if normalize:
        d /= 2 * max((np.linalg.det(Sp) * np.linalg.det(St)) ** 0.125, 1e-7)
    return post(d, fun, tau)


def kl(p_from, q_to, alpha=1.0):
    """KL(N_from || N_to)."""
    mf, Sf = p_from
    mq, Sq = q_to
    inv = np.linalg.inv(Sq)
    d = mf - mq
    return 0.5 * d @ inv @ d / alpha ** 2 + 0.5 * np.trace(inv @ Sf) + 0.5 * math.log(np.linalg.det(Sq) / np.linalg.det(Sf)) - 1


def kld(p, t, direction="targetToPrediction", fun="log1p", tau=1.0, alpha=1.0, sqrt=True):
    gp, gt = gaussian(p), gaussian(t)
    root = lambda x: math.sqrt(max(x, 0)) if sqrt else x
    tp, pt = kl(gt, gp, alpha), kl(gp, gt, alpha)
    d = {"targetToPrediction": root(tp), "predictionToTarget": root(pt), "symmetric": root(0.5 * (tp + pt)),
         "symmetricMax": max(root(tp), root(pt)), "symmetricMin": min(root(tp), root(pt))}[direction]
    return post(d, fun, tau)


def kfiou(p, t, eps=1e-6):
    _, Sp = gaussian(p)
    _, St = gaussian(t)
    K = Sp @ np.linalg.inv(Sp + St)
    S = Sp - K @ Sp
    vb = 4 * math.sqrt(max(np.linalg.det(S), 0))
    return vb / (4 * math.sqrt(np.linalg.det(Sp)) + 4 * math.sqrt(np.linalg.det(St)) - vb + eps)


def smooth_l1(d, beta):
    d = abs(d)
    return 0.5 * d * d / beta if d < beta else d - 0.5 * beta


gp = np.column_stack([rng.uniform(0, 10, 6), rng.uniform(0, 10, 6), rng.uniform(1, 6, 6), rng.uniform(1, 6, 6), rng.uniform(-pi, pi, 6)])
gt = gp + np.column_stack([rng.normal(0, 1, 6), rng.normal(0, 1, 6), rng.uniform(-0.5, 0.5, 6), rng.uniform(-0.5, 0.5, 6), rng.normal(0, 0.4, 6)])
cases["gwd_default"] = {"inputs": [gp, gt], "output": np.array([gwd(p, t) for p, t in zip(gp, gt)])}
cases["gwd_sqrt_tau2_raw"] = {"inputs": [gp, gt], "output": np.array([gwd(p, t, "sqrt", 2.0, 1.0, False) for p, t in zip(gp, gt)])}
for direction in ["targetToPrediction", "predictionToTarget", "symmetric", "symmetricMax", "symmetricMin"]:
    cases[f"kld_{direction}"] = {"inputs": [gp, gt], "output": np.array([kld(p, t, direction) for p, t in zip(gp, gt)])}
cases["kld_stable_none_alpha2"] = {"inputs": [gp, gt], "output": np.array([kld(p, t, "targetToPrediction", "none", 0.0, 2.0, False) for p, t in zip(gp, gt)])}
cases["kfiou_value"] = {"inputs": [gp, gt], "output": np.array([kfiou(p, t) for p, t in zip(gp, gt)])}
cases["kfiou_loss"] = {"inputs": [gp, gt], "output": np.array([
    max(smooth_l1(p[0] - t[0], 1 / 9) + smooth_l1(p[1] - t[1], 1 / 9) + 1 - kfiou(p, t), 0) for p, t in zip(gp, gt)])}


# ---------- focal losses ----------
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def bce(x, y):
    return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))


logits = rng.normal(0, 2, (4, 3))
onehot = np.eye(3)[rng.integers(0, 3, 4)]
soft = onehot * rng.uniform(0.2, 0.95, (4, 1))
p = sigmoid(logits)
pt = p * onehot + (1 - p) * (1 - onehot)
cases["focal"] = {"inputs": [logits, onehot],
                  "output": bce(logits, onehot) * (1 - pt) ** 2 * (0.25 * onehot + 0.75 * (1 - onehot))}
cases["qfl"] = {"inputs": [logits, soft], "output": bce(logits, soft) * np.abs(soft - p) ** 2}
cases["vfl"] = {"inputs": [logits, soft],
                "output": bce(logits, soft) * np.where(soft > 0, soft, 0.75 * np.abs(p - soft) ** 2)}

write("detection_geometry", cases)
