"""Reference values for the β-TCVAE objective's pieces and for MIG (numpy, float64).

MWS: log q(z_i) and log prod_d q(z_id) computed by brute force — the sums of densities
(1/(N M)) sum_j q(z_i | x_j) taken directly, without logsumexp — as defined in Chen et al.
2018 ("Isolating Sources of Disentanglement in VAEs"), minibatch weighted sampling.
MIG: disentanglement_lib's histogram discretisation (np.histogram edges, np.digitize on all
but the last edge) and plug-in mutual information / entropy in nats (what
sklearn.metrics.mutual_info_score computes), gap of the top two over the factor's entropy.
Run: python3 scripts/fixtures_tcvae.py"""
import math
import os

import numpy as np

import fixture_common
from fixture_common import write

HERE = os.path.dirname(__file__)
rng = np.random.default_rng(7)


def normal_pdf(z, mu, logvar):
    return np.exp(-0.5 * (z - mu) ** 2 / np.exp(logvar)) / np.sqrt(2 * math.pi * np.exp(logvar))


def mws_brute_force(z, mu, logvar, n):
    m, d = z.shape
    logqz, logprod = np.zeros(m), np.zeros(m)
    for i in range(m):
        joint = 0.0
        for j in range(m):
            joint += np.prod([normal_pdf(z[i, k], mu[j, k], logvar[j, k]) for k in range(d)])
        logqz[i] = math.log(joint / (n * m))
        logprod[i] = sum(
            math.log(sum(normal_pdf(z[i, k], mu[j, k], logvar[j, k]) for j in range(m)) / (n * m))
            for k in range(d))
    return logqz, logprod


def self_normalized_brute_force(z, mu, logvar, n):
    m, d = z.shape
    w = lambda i, j: 1.0 / n if i == j else (n - 1) / (n * (m - 1))
    logqz = np.array([math.log(sum(w(i, j) * np.prod(normal_pdf(z[i], mu[j], logvar[j])) for j in range(m)))
                      for i in range(m)])
    logprod = np.array([sum(math.log(sum(w(i, j) * normal_pdf(z[i, k], mu[j, k], logvar[j, k]) for j in range(m)))
                            for k in range(d)) for i in range(m)])
    return logqz, logprod


def bce_with_logits(x, y):
    return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))


tcvae = {}
for m, d, n in [(5, 3, 100), (8, 2, 1000), (4, 4, 4)]:
    mu = rng.standard_normal((m, d))
    logvar = rng.uniform(-1.5, 0.5, (m, d))
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((m, d))
    logqz, logprod = mws_brute_force(z, mu, logvar, n)
    tcvae[f"mws_M{m}_D{d}_N{n}"] = {"inputs": [z, mu, logvar], "output": np.stack([logqz, logprod]),
                                    "params": {"dataset_size": n}}
    sn_qz, sn_prod = self_normalized_brute_force(z, mu, logvar, n)
    tcvae[f"selfnormalized_M{m}_D{d}_N{n}"] = {"inputs": [z, mu, logvar], "output": np.stack([sn_qz, sn_prod]),
                                               "params": {"dataset_size": n}}

# The full objective's terms on a tiny batch: [reconstruction, kl, mi, tc, dim_kl, total].
m, d, pixels, n = 6, 3, 5, 500
alpha, beta, gamma = 1.0, 6.0, 1.0
mu = rng.standard_normal((m, d))
logvar = rng.uniform(-1.0, 0.3, (m, d))
z = mu + np.exp(0.5 * logvar) * rng.standard_normal((m, d))
logits = rng.standard_normal((m, pixels)) * 2
target = rng.uniform(0, 1, (m, pixels))
recon = bce_with_logits(logits, target).sum(1).mean()
kl = (0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar)).sum(1).mean()
logqzx = np.log(normal_pdf(z, mu, logvar)).sum(1)
logpz = np.log(normal_pdf(z, 0.0, 0.0)).sum(1)
logqz, logprod = mws_brute_force(z, mu, logvar, n)
mi, tc, dimkl = (logqzx - logqz).mean(), (logqz - logprod).mean(), (logprod - logpz).mean()
tcvae["tcvae_terms"] = {"inputs": [logits, target, z, mu, logvar],
                        "output": np.array([recon, kl, mi, tc, dimkl, recon + alpha * mi + beta * tc + gamma * dimkl]),
                        "params": {"alpha": alpha, "beta": beta, "gamma": gamma, "dataset_size": n}}
fixture_common.FIXTURE_DIR = os.path.join(HERE, "..", "Tests", "FathomVisionTests", "Fixtures")
write("tcvae", tcvae)


def histogram_discretize(x, bins):
    return np.digitize(x, np.histogram(x, bins)[1][:-1])


def mutual_info(a, b):
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    joint = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(joint, (ai, bi), 1)
    p = joint / len(a)
    pa, pb = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log(p[nz] / (pa @ pb)[nz])).sum())


def mig(latents, factors, bins):
    codes = [histogram_discretize(latents[:, j], bins) for j in range(latents.shape[1])]
    mis = np.array([[mutual_info(c, factors[:, k]) for k in range(factors.shape[1])] for c in codes])
    h = np.array([mutual_info(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])
    s = np.sort(mis, axis=0)[::-1]
    return float(np.mean((s[0] - s[1]) / h)), mis, h


cases = {}
for name, n, d, k, bins in [("n400_d4_k3_b20", 400, 4, 3, 20), ("n250_d5_k2_b7", 250, 5, 2, 7),
                            ("n600_d3_k4_b20", 600, 3, 4, 20)]:
    sizes = rng.integers(2, 7, k)
    factors = np.stack([rng.integers(0, s, n) for s in sizes], axis=1).astype(np.int64)
    latents = rng.standard_normal((n, d)) * 0.7
    # Latent j follows factor j (noisily) where there is one, so the MIs differ markedly.
    for j in range(min(d, k)):
        latents[:, j] += factors[:, j] * (1.0 + 0.5 * j)
    score, mis, h = mig(latents, factors, bins)
    cases[name] = {"inputs": [latents, factors, mis, h], "output": np.array(score), "params": {"bins": bins}}
fixture_common.FIXTURE_DIR = os.path.join(HERE, "..", "Tests", "FathomDynamicsTests", "Fixtures")
write("mig", cases)
