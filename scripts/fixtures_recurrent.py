"""Reference outputs of RNN / LSTM / GRU and MultiheadAttention, written in NumPy (float64)
from the equations in PyTorch's documentation for torch.nn.RNN, LSTM, GRU and
MultiheadAttention (parameters in PyTorch's layout and state-dict order).
Run: python3 scripts/fixtures_recurrent.py"""
import os

import numpy as np

import fixture_common
from fixture_common import write

fixture_common.FIXTURE_DIR = os.path.join(os.path.dirname(__file__), "..", "Tests", "FathomNNTests", "Fixtures")

rng = np.random.default_rng(7)
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def make_params(mode, input_size, hidden, layers, bidirectional, bias):
    """Parameters in state-dict order: per layer, per direction: w_ih, w_hh, b_ih, b_hh."""
    bound = 1 / np.sqrt(hidden)
    dirs = 2 if bidirectional else 1
    params = []
    for layer in range(layers):
        inputs = input_size if layer == 0 else hidden * dirs
        for _ in range(dirs):
            g = GATES[mode] * hidden
            p = [rng.uniform(-bound, bound, (g, inputs)), rng.uniform(-bound, bound, (g, hidden))]
            if bias:
                p += [rng.uniform(-bound, bound, g), rng.uniform(-bound, bound, g)]
            params.append(p)
    return params


def cell(mode, x, h, c, p, relu):
    w_ih, w_hh = p[0], p[1]
    b_ih = p[2] if len(p) > 2 else 0
    b_hh = p[3] if len(p) > 2 else 0
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    if mode == "rnn":
        pre = gi + gh
        return (np.maximum(pre, 0) if relu else np.tanh(pre)), None
    if mode == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c2 = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c2), c2
    ir, iz, inn = np.split(gi, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = sigmoid(ir + hr), sigmoid(iz + hz)
    n = np.tanh(inn + r * hn)
    return (1 - z) * n + z * h, None


def run(mode, x, h0, c0, params, layers, bidirectional, batch_first, relu=False):
    """x: [N, T, in] if batch_first else [T, N, in]; h0, c0: [L*D, N, H]."""
    seq = x.transpose(1, 0, 2) if batch_first else x  # [T, N, in]
    dirs = 2 if bidirectional else 1
    T = seq.shape[0]
    hn, cn = [], []
    layer_in = seq
    for layer in range(layers):
        outs = []
        for d in range(dirs):
            idx = layer * dirs + d
            h, c = h0[idx], (c0[idx] if c0 is not None else None)
            out = [None] * T
            for t in (range(T) if d == 0 else reversed(range(T))):
                h, c = cell(mode, layer_in[t], h, c, params[idx], relu)
                out[t] = h
            outs.append(np.stack(out))
            hn.append(h)
            cn.append(c)
        layer_in = np.concatenate(outs, axis=2)
    output = layer_in.transpose(1, 0, 2) if batch_first else layer_in
    return output, np.stack(hn), (np.stack(cn) if mode == "lstm" else None)


def recurrent_case(mode, input_size, hidden, layers, n, t, bidirectional=False, batch_first=True,
                   with_state=True, bias=True, relu=False, unbatched=False):
    dirs = 2 if bidirectional else 1
    params = make_params(mode, input_size, hidden, layers, bidirectional, bias)
    x = rng.standard_normal((n, t, input_size) if batch_first else (t, n, input_size))
    h0 = rng.standard_normal((layers * dirs, n, hidden)) if with_state else np.zeros((layers * dirs, n, hidden))
    c0 = None
    if mode == "lstm":
        c0 = rng.standard_normal((layers * dirs, n, hidden)) if with_state else np.zeros((layers * dirs, n, hidden))
    output, hn, cn = run(mode, x, h0, c0, params, layers, bidirectional, batch_first, relu)
    if unbatched:  # n == 1: the batch axis is dropped everywhere
        assert n == 1
        x, output = x[0] if batch_first else x[:, 0], output[0] if batch_first else output[:, 0]
        h0, hn = h0[:, 0], hn[:, 0]
        if mode == "lstm":
            c0, cn = c0[:, 0], cn[:, 0]
    inputs = [x]
    if with_state:
        inputs += [h0] + ([c0] if mode == "lstm" else [])
    inputs += [p for layer in params for p in layer]
    pieces = [output.ravel(), hn.ravel()] + ([cn.ravel()] if mode == "lstm" else [])
    return {
        "inputs": inputs,
        "output": np.concatenate(pieces),
        "params": {"input": input_size, "hidden": hidden, "layers": layers, "bidirectional": int(bidirectional),
                   "batch_first": int(batch_first), "state": int(with_state), "bias": int(bias), "relu": int(relu)},
    }


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def mha_case(e, heads, n, l, s, self_attention=False, kdim=None, vdim=None, padding=False, attn_mask=None,
             average=True, bias=True):
    kdim, vdim = kdim or e, vdim or e
    d = e // heads
    q = rng.standard_normal((n, l, e))
    k, v = (q, q) if self_attention else (rng.standard_normal((n, s, kdim)), rng.standard_normal((n, s, vdim)))
    if self_attention:
        s = l
    packed = kdim == e and vdim == e
    wq, wk, wv = rng.standard_normal((e, e)) * 0.4, rng.standard_normal((e, kdim)) * 0.4, rng.standard_normal((e, vdim)) * 0.4
    b_in = rng.standard_normal(3 * e) * 0.2
    w_out, b_out = rng.standard_normal((e, e)) * 0.4, rng.standard_normal(e) * 0.2
    bq, bk, bv = np.split(b_in, 3) if bias else (0, 0, 0)
    Q, K, V = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv

    def split_heads(x, length):
        return x.reshape(n, length, heads, d).transpose(0, 2, 1, 3)

    Q, K, V = split_heads(Q, l) / np.sqrt(d), split_heads(K, s), split_heads(V, s)
    scores = Q @ K.transpose(0, 1, 3, 2)
    inputs = [q, k, v]
    if attn_mask is not None:
        if attn_mask == "bool":
            mask = np.triu(np.ones((l, s), dtype=bool), k=1)
            scores = np.where(mask, -np.inf, scores)
        else:
            mask = rng.standard_normal((n * heads, l, s))
            scores = scores + mask.reshape(n, heads, l, s)
        inputs.append(mask)
    if padding:
        kpm = np.zeros((n, s), dtype=bool)
        kpm[0, -2:] = True
        kpm[-1, 2] = True
        scores = np.where(kpm[:, None, None, :], -np.inf, scores)
        inputs.append(kpm)
    attn = softmax(scores)
    out = (attn @ V).transpose(0, 2, 1, 3).reshape(n, l, e) @ w_out.T + (b_out if bias else 0)
    weights = attn.mean(axis=1) if average else attn
    inputs += ([np.concatenate([wq, wk, wv])] if packed else [wq, wk, wv]) + ([b_in] if bias else [])
    inputs += [w_out] + ([b_out] if bias else [])
    return {
        "inputs": inputs,
        "output": np.concatenate([out.ravel(), weights.ravel()]),
        "params": {"embed": e, "heads": heads, "kdim": kdim, "vdim": vdim, "self": int(self_attention),
                   "padding": int(padding), "mask": {None: 0, "bool": 1, "float": 2}[attn_mask],
                   "average": int(average), "bias": int(bias)},
    }


cases = {
    "rnn_tanh_2layer_state": recurrent_case("rnn", 3, 4, 2, n=2, t=5),
    "rnn_relu_zero_state": recurrent_case("rnn", 3, 4, 1, n=3, t=4, with_state=False, relu=True),
    "rnn_bidirectional_time_major": recurrent_case("rnn", 3, 2, 2, n=2, t=4, bidirectional=True, batch_first=False),
    "lstm_2layer_state": recurrent_case("lstm", 3, 4, 2, n=2, t=5),
    "lstm_bidirectional": recurrent_case("lstm", 3, 2, 2, n=2, t=4, bidirectional=True, with_state=False),
    "lstm_no_bias_unbatched": recurrent_case("lstm", 2, 3, 1, n=1, t=4, bias=False, unbatched=True),
    "gru_2layer_state": recurrent_case("gru", 3, 4, 2, n=2, t=5),
    "gru_no_bias_time_major": recurrent_case("gru", 2, 3, 1, n=3, t=4, batch_first=False, bias=False),
    "gru_bidirectional_state": recurrent_case("gru", 3, 2, 1, n=2, t=3, bidirectional=True),
    "mha_self_2heads": mha_case(6, 2, n=2, l=4, s=4, self_attention=True),
    "mha_cross_masks": mha_case(6, 3, n=2, l=3, s=5, padding=True, attn_mask="bool"),
    "mha_float_mask_per_head": mha_case(4, 2, n=2, l=3, s=4, attn_mask="float", average=False),
    "mha_kdim_vdim": mha_case(4, 2, n=2, l=2, s=3, kdim=3, vdim=5, padding=True),
    "mha_one_head_no_bias": mha_case(4, 1, n=1, l=3, s=3, bias=False),
}
write("recurrent", cases)
