"""Fixtures for unary math, activations, comparisons, where, clamp, minimum and maximum
(run: python3 scripts/fixtures_unary.py; needs numpy and scipy)."""
import numpy as np
from scipy.special import erf

from fixture_common import write

rng = np.random.default_rng(1)
x = rng.uniform(-3, 3, (3, 4))                     # general values
pos = rng.uniform(0.1, 5, (3, 4))                  # positive values
small = rng.uniform(-0.5, 0.5, (3, 4))             # |x| < 1 for log1p/expm1 accuracy
wide = np.array([-100.0, -30.0, -5.0, -0.5, 0.0, 1e-8, 0.5, 5.0, 30.0, 100.0])
expo = rng.uniform(-2, 2, (4,))                    # exponent row, broadcast against pos
neg_base = np.array([-2.0, -1.5, 0.0, 1.5, 2.0])
y = rng.uniform(-3, 3, (1, 4))
ties = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
ties_other = np.array([2.0, 2.0, 2.0, np.nan])
cond = x > 0
# atan/atan2 inputs are fixed (no further rng draws) so the other cases stay unchanged.
atan_y = np.array([[0.0, 1.0, -1.0, 2.5], [-0.0, 1e-8, -3.0, 40.0]])
atan_x = np.array([[1.0, 0.0, -2.0, -0.5], [-1.0, 3.0, 0.5, -1e3]])


def sigmoid(v):
    return np.where(v >= 0, 1 / (1 + np.exp(-np.abs(v))), np.exp(-np.abs(v)) / (1 + np.exp(-np.abs(v))))


def gelu(v):
    return 0.5 * v * (1 + erf(v / np.sqrt(2)))


def gelu_tanh(v):
    return 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3)))


def softplus(v, beta, threshold):
    return np.where(v * beta > threshold, v, np.log1p(np.exp(v * beta)) / beta)


with np.errstate(over="ignore"):
    cases = {
        "pow_scalar_2_5": {"inputs": [pos], "output": pos ** 2.5, "params": {"p": 2.5}},
        "pow_scalar_3_negative_bases": {"inputs": [x], "output": x ** 3.0, "params": {"p": 3}},
        "pow_scalar_minus_0_5": {"inputs": [pos], "output": pos ** -0.5, "params": {"p": -0.5}},
        "pow_tensor_broadcast": {"inputs": [pos, expo], "output": pos ** expo},
        "pow_tensor_negative_base": {"inputs": [neg_base, np.array([2.0])], "output": neg_base ** 2.0},
        "square": {"inputs": [x], "output": x * x},
        "abs": {"inputs": [x], "output": np.abs(x)},
        "sign": {"inputs": [np.array([-2.0, 0.0, 3.0, np.nan])], "output": np.sign(np.array([-2.0, 0.0, 3.0, np.nan]))},
        "exp": {"inputs": [x], "output": np.exp(x)},
        "log": {"inputs": [pos], "output": np.log(pos)},
        "log1p": {"inputs": [small], "output": np.log1p(small)},
        "expm1": {"inputs": [small], "output": np.expm1(small)},
        "sqrt": {"inputs": [pos], "output": np.sqrt(pos)},
        "rsqrt": {"inputs": [pos], "output": 1 / np.sqrt(pos)},
        "sin": {"inputs": [x], "output": np.sin(x)},
        "cos": {"inputs": [x], "output": np.cos(x)},
        "tanh": {"inputs": [wide], "output": np.tanh(wide)},
        "sigmoid": {"inputs": [wide], "output": sigmoid(wide)},
        "erf": {"inputs": [x], "output": erf(x)},
        "atan": {"inputs": [wide], "output": np.arctan(wide)},
        "atan2_quadrants": {"inputs": [atan_y, atan_x], "output": np.arctan2(atan_y, atan_x)},
        "atan2_broadcast": {"inputs": [x, y], "output": np.arctan2(x, y)},
        "relu": {"inputs": [x], "output": np.maximum(x, 0)},
        "leaky_relu_0_2": {"inputs": [x], "output": np.where(x > 0, x, 0.2 * x), "params": {"slope": 0.2}},
        "gelu": {"inputs": [x], "output": gelu(x)},
        "gelu_tanh": {"inputs": [x], "output": gelu_tanh(x)},
        "silu": {"inputs": [wide], "output": wide * sigmoid(wide)},
        "softplus": {"inputs": [wide], "output": softplus(wide, 1.0, 20.0)},
        "softplus_beta_2_threshold_5": {"inputs": [x], "output": softplus(x, 2.0, 5.0),
                                        "params": {"beta": 2, "threshold": 5}},
        "clamp": {"inputs": [x], "output": np.clip(x, -1.0, 0.5), "params": {"min": -1, "max": 0.5}},
        "clamp_min_only": {"inputs": [x], "output": np.maximum(x, 0.25), "params": {"min": 0.25}},
        "maximum_broadcast": {"inputs": [x, y], "output": np.maximum(x, y)},
        "minimum_broadcast": {"inputs": [x, y], "output": np.minimum(x, y)},
        "maximum_nan": {"inputs": [ties, ties_other], "output": np.maximum(ties, ties_other)},
        "minimum_nan": {"inputs": [ties, ties_other], "output": np.minimum(ties, ties_other)},
        "where_broadcast": {"inputs": [cond, x, y], "output": np.where(cond, x, y)},
        "lt_broadcast": {"inputs": [x, y], "output": x < y},
        "ge_broadcast": {"inputs": [x, y], "output": x >= y},
        "eq_ties": {"inputs": [ties, ties_other], "output": ties == ties_other},
        "ne_ties": {"inputs": [ties, ties_other], "output": ties != ties_other},
    }
write("unary", cases)
