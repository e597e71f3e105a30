"""Reference optimizer trajectories, written from the update rules in PyTorch's
documentation for torch.optim.SGD / Adam / AdamW / RMSprop (numpy, float64).
Run: python3 scripts/fixtures_optim.py"""
import os

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomNNTests", "Fixtures")

rng = np.random.default_rng(1)
p0 = rng.standard_normal(6)
grads = [rng.standard_normal(6) for _ in range(5)]


def sgd(lr, momentum=0.0, dampening=0.0, wd=0.0, nesterov=False):
    p, buf = p0.copy(), None
    for g in grads:
        g = g + wd * p
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adam(lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False):
    p, m, v = p0.copy(), np.zeros(6), np.zeros(6)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps
        p = p - lr / (1 - b1 ** t) * m / denom
    return p


def rmsprop(lr, alpha=0.99, eps=1e-8, wd=0.0, momentum=0.0, centered=False):
    p, sq, ga, buf = p0.copy(), np.zeros(6), np.zeros(6), np.zeros(6)
    for g in grads:
        g = g + wd * p
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
    return p


inputs = [p0] + grads
write("optim", {
    "sgd_plain": {"inputs": inputs, "output": sgd(0.1)},
    "sgd_momentum_dampening_wd": {"inputs": inputs, "output": sgd(0.1, momentum=0.9, dampening=0.1, wd=0.01)},
    "sgd_nesterov": {"inputs": inputs, "output": sgd(0.05, momentum=0.9, nesterov=True, wd=1e-3)},
    "adam": {"inputs": inputs, "output": adam(0.01, wd=0.1)},
    "adamw": {"inputs": inputs, "output": adam(0.01, wd=0.1, decoupled=True)},
    "rmsprop": {"inputs": inputs, "output": rmsprop(0.01)},
    "rmsprop_centered_momentum": {"inputs": inputs, "output": rmsprop(0.01, momentum=0.5, centered=True, wd=0.01)},
})
