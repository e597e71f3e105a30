"""Fixtures for convolution, pooling, padding and upsampling
(run: python3 scripts/fixtures_conv.py).

The references are direct loops over NCHW written from PyTorch's documented formulas,
deliberately naive so that they are obviously correct; sizes are kept small.
Writes conv.json, pooling.json and padding_upsample.json.
"""
import math

import numpy as np

from fixture_common import write

rng = np.random.default_rng(7)


def out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d(x, w, b, stride, pad, dil, groups):
    """y[n, o, i, j] = b[o] + sum_{c, kh, kw} x[n, g*Cg + c, i*s - p + kh*d, j*s - p + kw*d] * w[o, c, kh, kw]."""
    N, C, H, W = x.shape
    O, Cg, kH, kW = w.shape
    OH = out_size(H, kH, stride[0], pad[0], dil[0])
    OW = out_size(W, kW, stride[1], pad[1], dil[1])
    Og = O // groups
    y = np.zeros((N, O, OH, OW))
    for n in range(N):
        for o in range(O):
            g = o // Og
            for i in range(OH):
                for j in range(OW):
                    s = 0.0
                    for c in range(Cg):
                        for kh in range(kH):
                            for kw in range(kW):
                                ih = i * stride[0] - pad[0] + kh * dil[0]
                                iw = j * stride[1] - pad[1] + kw * dil[1]
                                if 0 <= ih < H and 0 <= iw < W:
                                    s += x[n, g * Cg + c, ih, iw] * w[o, c, kh, kw]
                    y[n, o, i, j] = s + (b[o] if b is not None else 0.0)
    return y


def conv_transpose2d(x, w, b, stride, pad, out_pad, dil, groups):
    """Scatter form: every input element adds x * w[c, o] at position h*s - p + kh*d."""
    N, C, H, W = x.shape
    _, Og, kH, kW = w.shape
    Cg = C // groups
    OH = (H - 1) * stride[0] - 2 * pad[0] + dil[0] * (kH - 1) + out_pad[0] + 1
    OW = (W - 1) * stride[1] - 2 * pad[1] + dil[1] * (kW - 1) + out_pad[1] + 1
    y = np.zeros((N, Og * groups, OH, OW))
    for n in range(N):
        for c in range(C):
            g = c // Cg
            for h in range(H):
                for v in range(W):
                    for o in range(Og):
                        for kh in range(kH):
                            for kw in range(kW):
                                oh = h * stride[0] - pad[0] + kh * dil[0]
                                ow = v * stride[1] - pad[1] + kw * dil[1]
                                if 0 <= oh < OH and 0 <= ow < OW:
                                    y[n, g * Og + o, oh, ow] += x[n, c, h, v] * w[c, o, kh, kw]
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def pool_out(size, k, s, p, d, ceil_mode):
    num = size + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return num // s + 1
    out = -(-num // s) + 1
    if (out - 1) * s >= size + p:  # the last window must start inside the input or left padding
        out -= 1
    return out


def max_pool2d(x, k, s, p, d, ceil_mode):
    N, C, H, W = x.shape
    OH, OW = pool_out(H, k[0], s[0], p[0], d[0], ceil_mode), pool_out(W, k[1], s[1], p[1], d[1], ceil_mode)
    y = np.zeros((N, C, OH, OW))
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    best = -math.inf
                    for kh in range(k[0]):
                        for kw in range(k[1]):
                            ih, iw = i * s[0] - p[0] + kh * d[0], j * s[1] - p[1] + kw * d[1]
                            if 0 <= ih < H and 0 <= iw < W:
                                best = max(best, x[n, c, ih, iw])
                    y[n, c, i, j] = best
    return y


def avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    """PyTorch's avg_pool2d: the divisor counts padding but not the part of a ceil-mode
    window beyond the padded input."""
    N, C, H, W = x.shape
    OH, OW = pool_out(H, k[0], s[0], p[0], 1, ceil_mode), pool_out(W, k[1], s[1], p[1], 1, ceil_mode)
    y = np.zeros((N, C, OH, OW))
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
                    h1, w1 = min(h0 + k[0], H + p[0]), min(w0 + k[1], W + p[1])
                    pool = (h1 - h0) * (w1 - w0)
                    h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
                    total = x[n, c, h0:h1, w0:w1].sum()
                    if divisor_override:
                        div = divisor_override
                    elif count_include_pad:
                        div = pool
                    else:
                        div = (h1 - h0) * (w1 - w0)
                    y[n, c, i, j] = total / div
    return y


def adaptive_avg_pool2d(x, out):
    N, C, H, W = x.shape
    y = np.zeros((N, C, out[0], out[1]))
    for i in range(out[0]):
        h0, h1 = (i * H) // out[0], -(-((i + 1) * H) // out[0])
        for j in range(out[1]):
            w0, w1 = (j * W) // out[1], -(-((j + 1) * W) // out[1])
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y


def nearest_index(dst, in_size, scale):
    return min(int(math.floor(dst * scale)), in_size - 1)


def upsample_nearest(x, out, scales):
    N, C, H, W = x.shape
    y = np.zeros((N, C, out[0], out[1]))
    for i in range(out[0]):
        for j in range(out[1]):
            y[:, :, i, j] = x[:, :, nearest_index(i, H, scales[0]), nearest_index(j, W, scales[1])]
    return y


def linear_taps(dst, in_size, out_size, align_corners, scale):
    """PyTorch's source index and weights for one output position along one axis."""
    if align_corners:
        src = dst * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    else:
        src = max((dst + 0.5) * scale - 0.5, 0.0)
    i0 = int(src)
    i1 = i0 + (1 if i0 < in_size - 1 else 0)
    l1 = src - i0
    return i0, i1, 1.0 - l1, l1


def upsample_bilinear(x, out, align_corners, scales):
    N, C, H, W = x.shape
    y = np.zeros((N, C, out[0], out[1]))
    for i in range(out[0]):
        h0, h1, a0, a1 = linear_taps(i, H, out[0], align_corners, scales[0])
        for j in range(out[1]):
            w0, w1, b0, b1 = linear_taps(j, W, out[1], align_corners, scales[1])
            y[:, :, i, j] = (a0 * (b0 * x[:, :, h0, w0] + b1 * x[:, :, h0, w1])
                             + a1 * (b0 * x[:, :, h1, w0] + b1 * x[:, :, h1, w1]))
    return y


def self_check():
    """The loops agree with SciPy's correlate2d, and conv_transpose2d is conv2d's adjoint."""
    from scipy.signal import correlate2d
    x, w = rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.stack([sum(correlate2d(padded[0, c], w[o, c], mode="valid") for c in range(2)) for o in range(3)])
    assert np.allclose(conv2d(x, w, None, (1, 1), (1, 1), (1, 1), 1)[0], expected)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    y = conv2d(x, w, None, (2, 1), (1, 0), (1, 2), 2)
    z = rng.standard_normal(y.shape)
    back = conv_transpose2d(z, w, None, (2, 1), (1, 0), (0, 0), (1, 2), 2)
    assert back.shape == x.shape and np.isclose((y * z).sum(), (x * back).sum())


self_check()

# ---------------------------------------------------------------- convolutions
conv_cases = {}


def conv_case(name, n, c, h, w, o, k, stride=(1, 1), pad=(0, 0), dil=(1, 1), groups=1, bias=True):
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((o, c // groups, k[0], k[1]))
    b = rng.standard_normal(o) if bias else None
    conv_cases[name] = {
        "inputs": [x, wt] + ([b] if bias else []),
        "output": conv2d(x, wt, b, stride, pad, dil, groups),
        "params": {"stride_h": stride[0], "stride_w": stride[1], "pad_h": pad[0], "pad_w": pad[1],
                   "dil_h": dil[0], "dil_w": dil[1], "groups": groups},
    }


conv_case("basic_3x3", 2, 3, 6, 7, 4, (3, 3), bias=False)
conv_case("bias_pad1", 2, 3, 5, 5, 4, (3, 3), pad=(1, 1))
conv_case("stride2_pad1", 3, 2, 7, 8, 3, (3, 3), stride=(2, 2), pad=(1, 1))
conv_case("stride_asym", 2, 2, 9, 7, 3, (3, 2), stride=(2, 3), pad=(1, 0))
conv_case("dilation2", 2, 2, 9, 9, 3, (3, 3), pad=(2, 1), dil=(2, 2))
conv_case("groups2", 2, 4, 6, 6, 6, (3, 3), pad=(1, 1), groups=2)
conv_case("depthwise", 2, 4, 6, 5, 4, (3, 3), stride=(2, 1), pad=(1, 1), groups=4)
conv_case("depthwise_s1_dilated", 2, 3, 7, 6, 3, (3, 2), pad=(2, 1), dil=(2, 3), groups=3)
conv_case("depthwise_multiplier", 2, 3, 5, 5, 6, (3, 3), pad=(1, 1), groups=3)
conv_case("pointwise", 3, 5, 4, 6, 4, (1, 1))
conv_case("pointwise_groups", 2, 4, 3, 3, 6, (1, 1), groups=2)
conv_case("pointwise_stride2", 2, 3, 5, 5, 2, (1, 1), stride=(2, 2))
conv_case("kernel_5x5_batch5", 5, 2, 8, 8, 3, (5, 5), pad=(2, 2))
# Rows of 16 or more outputs take the vector row copies of im2col/col2im, with their tails.
conv_case("wide_rows_pad1", 1, 2, 4, 37, 2, (3, 3), pad=(1, 1))
conv_case("wide_rows_k5_pad2", 2, 1, 3, 21, 2, (5, 5), pad=(2, 2))
# 16+ input channels at stride 1: the shifted-GEMM path (ShiftedConvolution.swift).
conv_case("shifted_c16_pad1", 2, 16, 5, 6, 3, (3, 3), pad=(1, 1))
conv_case("shifted_c16_k3x2_pad21", 1, 16, 4, 7, 2, (3, 2), pad=(2, 1), bias=False)
conv_case("shifted_c16_nopad", 2, 16, 5, 5, 2, (3, 3))


def conv_t_case(name, n, c, h, w, o, k, stride=(1, 1), pad=(0, 0), out_pad=(0, 0), dil=(1, 1), groups=1, bias=True):
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((c, o // groups, k[0], k[1]))
    b = rng.standard_normal(o) if bias else None
    conv_cases["t_" + name] = {
        "inputs": [x, wt] + ([b] if bias else []),
        "output": conv_transpose2d(x, wt, b, stride, pad, out_pad, dil, groups),
        "params": {"stride_h": stride[0], "stride_w": stride[1], "pad_h": pad[0], "pad_w": pad[1],
                   "outpad_h": out_pad[0], "outpad_w": out_pad[1], "dil_h": dil[0], "dil_w": dil[1],
                   "groups": groups},
    }


conv_t_case("basic", 2, 3, 4, 5, 2, (3, 3), bias=False)
conv_t_case("stride2", 2, 3, 4, 4, 2, (3, 3), stride=(2, 2), pad=(1, 1))
conv_t_case("stride2_outpad1", 2, 2, 3, 4, 3, (3, 3), stride=(2, 2), pad=(1, 1), out_pad=(1, 1))
conv_t_case("k4_s2_p1", 2, 2, 3, 3, 2, (4, 4), stride=(2, 2), pad=(1, 1))
conv_t_case("groups2_asym", 2, 4, 3, 4, 6, (3, 2), stride=(2, 1), pad=(0, 1), out_pad=(1, 0), groups=2)
conv_t_case("dilation2", 1, 2, 4, 4, 2, (3, 3), stride=(1, 1), pad=(1, 1), dil=(2, 2))
conv_t_case("pointwise", 2, 3, 3, 4, 5, (1, 1))
conv_t_case("wide_rows", 1, 2, 3, 35, 2, (3, 3), pad=(1, 1))
conv_t_case("shifted_out16", 2, 3, 4, 5, 16, (3, 3), pad=(1, 1))
conv_t_case("depthwise_dilated_outpad", 2, 3, 4, 5, 3, (3, 3), pad=(1, 2), out_pad=(1, 1), dil=(2, 2), groups=3)
write("conv", conv_cases)

# ---------------------------------------------------------------- pooling
pool_cases = {}


def max_case(name, shape, k, s, p=(0, 0), d=(1, 1), ceil_mode=False):
    x = rng.standard_normal(shape)
    pool_cases["max_" + name] = {
        "inputs": [x], "output": max_pool2d(x, k, s, p, d, ceil_mode),
        "params": {"k_h": k[0], "k_w": k[1], "s_h": s[0], "s_w": s[1], "p_h": p[0], "p_w": p[1],
                   "d_h": d[0], "d_w": d[1], "ceil": int(ceil_mode)},
    }


max_case("2x2", (2, 3, 6, 6), (2, 2), (2, 2))
max_case("3x3_s2_p1", (2, 2, 7, 7), (3, 3), (2, 2), (1, 1))
max_case("asym", (1, 2, 7, 9), (3, 2), (2, 3), (1, 1))
max_case("overlap_s1", (1, 2, 5, 5), (3, 3), (1, 1))
max_case("ceil", (2, 2, 7, 7), (2, 2), (2, 2), ceil_mode=True)
max_case("ceil_pad", (1, 2, 6, 6), (3, 3), (2, 2), (1, 1), ceil_mode=True)
max_case("dilation", (1, 2, 8, 8), (2, 2), (1, 1), (1, 1), (2, 2))


def avg_case(name, shape, k, s, p=(0, 0), ceil_mode=False, include_pad=True, divisor=None):
    x = rng.standard_normal(shape)
    params = {"k_h": k[0], "k_w": k[1], "s_h": s[0], "s_w": s[1], "p_h": p[0], "p_w": p[1],
              "ceil": int(ceil_mode), "include_pad": int(include_pad)}
    if divisor:
        params["divisor"] = divisor
    pool_cases["avg_" + name] = {"inputs": [x], "output": avg_pool2d(x, k, s, p, ceil_mode, include_pad, divisor),
                                 "params": params}


avg_case("2x2", (2, 3, 6, 6), (2, 2), (2, 2))
avg_case("3x3_s2_p1", (2, 2, 7, 7), (3, 3), (2, 2), (1, 1))
avg_case("3x3_s2_p1_exclude_pad", (2, 2, 7, 7), (3, 3), (2, 2), (1, 1), include_pad=False)
avg_case("asym", (1, 2, 7, 9), (3, 2), (2, 3), (1, 0))
avg_case("ceil", (2, 2, 7, 7), (2, 2), (2, 2), ceil_mode=True)
avg_case("ceil_pad", (1, 2, 6, 6), (3, 3), (2, 2), (1, 1), ceil_mode=True)
avg_case("ceil_pad_exclude", (1, 2, 6, 6), (3, 3), (2, 2), (1, 1), ceil_mode=True, include_pad=False)
avg_case("divisor", (1, 2, 5, 5), (2, 2), (1, 1), divisor=3)


def adaptive_case(name, shape, out):
    x = rng.standard_normal(shape)
    pool_cases["adaptive_" + name] = {"inputs": [x], "output": adaptive_avg_pool2d(x, out),
                                      "params": {"out_h": out[0], "out_w": out[1]}}


adaptive_case("divisible", (2, 3, 8, 6), (4, 3))
adaptive_case("non_divisible", (2, 2, 7, 5), (3, 4))
adaptive_case("global", (2, 3, 5, 7), (1, 1))
adaptive_case("upscale", (1, 2, 3, 2), (5, 4))
write("pooling", pool_cases)

# ---------------------------------------------------------------- padding and upsampling
pu_cases = {}
modes = {0: "constant", 1: "reflect", 2: "edge"}  # 2 = replicate


def pad_case(name, shape, pads, mode, value=0.0):
    x = rng.standard_normal(shape)
    # PyTorch order: last axis first, (left, right, top, bottom).
    width = [(0, 0)] * len(shape)
    for i in range(len(pads) // 2):
        width[len(shape) - 1 - i] = (pads[2 * i], pads[2 * i + 1])
    kwargs = {"constant_values": value} if mode == 0 else {}
    y = np.pad(x, width, mode=modes[mode], **kwargs)
    params = {"mode": mode, "value": value}
    for i, p in enumerate(pads):
        params[f"p{i}"] = p
    pu_cases["pad_" + name] = {"inputs": [x], "output": y, "params": params}


pad_case("constant_2d", (2, 3, 4, 5), [1, 2, 0, 3], 0, value=0.5)
pad_case("constant_1d", (2, 3, 4), [2, 1], 0)
pad_case("constant_3d", (1, 2, 3, 2, 2), [1, 0, 0, 1, 2, 1], 0, value=-1.0)
pad_case("reflect_2d", (2, 2, 4, 5), [2, 1, 3, 1], 1)
pad_case("reflect_1d", (2, 3, 6), [3, 2], 1)
pad_case("replicate_2d", (2, 2, 3, 4), [2, 3, 1, 4], 2)
pad_case("replicate_1d", (2, 3, 4), [1, 5], 2)


def up_case(name, shape, size=None, scale=None, mode="nearest", align_corners=False):
    x = rng.standard_normal(shape)
    H, W = shape[2], shape[3]
    if size is not None:
        out, scales = size, (H / size[0], W / size[1])
    else:
        out, scales = (int(math.floor(H * scale[0])), int(math.floor(W * scale[1]))), (1 / scale[0], 1 / scale[1])
    if mode == "nearest":
        y = upsample_nearest(x, out, scales)
    else:
        y = upsample_bilinear(x, out, align_corners, scales)
    params = {"bilinear": int(mode == "bilinear"), "align": int(align_corners)}
    if size is not None:
        params.update({"size_h": size[0], "size_w": size[1]})
    else:
        params.update({"scale_h": scale[0], "scale_w": scale[1]})
    pu_cases["up_" + name] = {"inputs": [x], "output": y, "params": params}


up_case("nearest_scale2", (2, 2, 3, 4), scale=(2, 2))
up_case("nearest_size", (1, 2, 3, 5), size=(7, 8))
up_case("nearest_down", (1, 2, 6, 7), size=(4, 3))
up_case("nearest_scale_frac", (1, 1, 4, 5), scale=(1.5, 2.5))
up_case("bilinear_scale2", (2, 2, 3, 4), scale=(2, 2), mode="bilinear")
up_case("bilinear_size", (1, 2, 4, 5), size=(7, 9), mode="bilinear")
up_case("bilinear_align", (1, 2, 4, 5), size=(7, 9), mode="bilinear", align_corners=True)
up_case("bilinear_align_scale3", (1, 1, 3, 3), scale=(3, 3), mode="bilinear", align_corners=True)
up_case("bilinear_down", (1, 2, 7, 8), size=(3, 5), mode="bilinear")
up_case("bilinear_scale_frac", (1, 1, 4, 5), scale=(1.5, 2.5), mode="bilinear")
write("padding_upsample", pu_cases)
