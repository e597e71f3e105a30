"""Reference detection AP for Tests/FathomVisionTests/AveragePrecisionTests.swift.

A NumPy transcription of `voc_ap` and `voc_eval` from the DOTA devkit
(DOTA_devkit/dota_evaluation_task1.py, itself from py-faster-rcnn's voc_eval.py):
detections sorted by descending confidence, each matched to the ground truth of its image
with the highest IoU; IoU > threshold and not difficult and not yet detected -> TP,
already detected -> FP, difficult -> neither; IoU <= threshold -> FP. Two changes, both
applied on the Swift side too: the sort is stable (np.argsort(kind="stable")) so tied
scores have a defined order, and IoU is the continuous horizontal IoU (no "+1" pixel
convention), standing in for any IoU function.
Run: python3 scripts/fixtures_detection_ap.py"""
import os

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomVisionTests", "Fixtures")

THRESHOLDS = [0.5 + 0.05 * k for k in range(10)]


def voc_ap(rec, prec, use_07_metric=False):
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
    else:
        mrec = np.concatenate(([0.0], rec, [1.0]))
        mpre = np.concatenate(([0.0], prec, [0.0]))
        for i in range(mpre.size - 1, 0, -1):
            mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
        i = np.where(mrec[1:] != mrec[:-1])[0]
        ap = np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])
    return ap


def iou(box, boxes):
    ixmin = np.maximum(boxes[:, 0], box[0])
    iymin = np.maximum(boxes[:, 1], box[1])
    ixmax = np.minimum(boxes[:, 2], box[2])
    iymax = np.minimum(boxes[:, 3], box[3])
    inters = np.maximum(ixmax - ixmin, 0.0) * np.maximum(iymax - iymin, 0.0)
    uni = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inters
    return inters / uni


def voc_eval(dets, gts, cls, ovthresh, use_07_metric):
    """dets rows: image, class, score, x1, y1, x2, y2; gts rows: image, class, difficult, x1..y2."""
    class_recs = {}
    npos = 0
    images = set(gts[:, 0].astype(int)) | set(dets[:, 0].astype(int))
    for img in images:
        R = gts[(gts[:, 0] == img) & (gts[:, 1] == cls)]
        difficult = R[:, 2].astype(bool)
        npos += np.sum(~difficult)
        class_recs[img] = {"bbox": R[:, 3:7], "difficult": difficult, "det": [False] * len(R)}
    D = dets[dets[:, 1] == cls]
    if npos == 0:
        return float("nan")
    sorted_ind = np.argsort(-D[:, 2], kind="stable")
    D = D[sorted_ind]
    nd = len(D)
    tp, fp = np.zeros(nd), np.zeros(nd)
    for d in range(nd):
        R = class_recs[int(D[d, 0])]
        bb = D[d, 3:7]
        ovmax = -np.inf
        BBGT = R["bbox"]
        if BBGT.size > 0:
            overlaps = iou(bb, BBGT)
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if ovmax > ovthresh:
            if not R["difficult"][jmax]:
                if not R["det"][jmax]:
                    tp[d] = 1.0
                    R["det"][jmax] = 1
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    fp, tp = np.cumsum(fp), np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec, use_07_metric)


def scene(rng, images, classes, per_image, difficult_rate, tie_levels):
    gts, dets = [], []
    for img in range(images):
        for _ in range(rng.integers(0, per_image + 1)):
            c = int(rng.integers(0, classes))
            x, y = rng.uniform(0, 80, 2)
            w, h = rng.uniform(5, 30, 2)
            gts.append([img, c, float(rng.random() < difficult_rate), x, y, x + w, y + h])
            # 0-2 detections near each object, of varying quality; sometimes the wrong class.
            for _ in range(rng.integers(0, 3)):
                j = rng.normal(0, rng.choice([0.5, 2, 5]), 4)
                dc = c if rng.random() < 0.85 else int(rng.integers(0, classes))
                dets.append([img, dc, rng.random(), x + j[0], y + j[1], x + w + j[2], y + h + j[3]])
        for _ in range(rng.integers(0, 3)):  # pure false positives
            x, y = rng.uniform(0, 80, 2)
            w, h = rng.uniform(5, 30, 2)
            dets.append([img, int(rng.integers(0, classes)), rng.random(), x, y, x + w, y + h])
    dets = np.array(dets, dtype=np.float64).reshape(-1, 7)
    gts = np.array(gts, dtype=np.float64).reshape(-1, 7)
    if tie_levels:
        dets[:, 2] = np.floor(dets[:, 2] * tie_levels) / tie_levels
    return dets, gts


def case(dets, gts, classes):
    out = np.zeros((2, len(THRESHOLDS), classes))
    for m, use07 in enumerate([False, True]):
        for t, thr in enumerate(THRESHOLDS):
            for c in range(classes):
                out[m, t, c] = voc_eval(dets, gts, c, thr, use07)
    return {"inputs": [dets, gts], "output": out, "params": {"classCount": classes}}


rng = np.random.default_rng(7)
cases = {
    "small": case(*scene(rng, 3, 2, 3, 0.0, 0), 2),
    "difficult": case(*scene(rng, 6, 3, 5, 0.3, 0), 3),
    "ties": case(*scene(rng, 6, 3, 5, 0.2, 4), 3),
    "large": case(*scene(rng, 25, 5, 8, 0.1, 0), 5),
    # Class 3 has detections but no ground truth: AP undefined (nan).
    "no_gt_class": case(*scene(rng, 4, 3, 4, 0.0, 0), 4),
}
write("detection_ap", cases)
