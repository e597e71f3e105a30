"""Fixtures for matmul (run: python3 scripts/fixtures_matmul.py)."""
import numpy as np

from fixture_common import write

rng = np.random.default_rng(1)


def r(*shape):
    return rng.standard_normal(shape)


cases = {}


def case(name, a, b):
    cases[name] = {"inputs": [a, b], "output": np.matmul(a, b)}


case("mm_2d", r(3, 4), r(4, 5))
case("mm_2d_ones", r(1, 4), r(4, 1))
case("dot_1d", r(6), r(6))
case("vec_mat", r(4), r(4, 3))
case("mat_vec", r(3, 4), r(4))
case("vec_batched", r(4), r(2, 4, 3))
case("batched_vec", r(2, 3, 4), r(4))
case("batched", r(2, 3, 4), r(2, 4, 5))
case("batched_shared_rhs", r(2, 3, 4), r(4, 5))
case("shared_lhs_batched", r(3, 4), r(2, 4, 5))
case("broadcast_batch", r(2, 1, 3, 4), r(1, 3, 4, 2))
case("broadcast_batch_rank", r(3, 2, 4), r(2, 2, 1, 4, 3))
# For the *_T cases the test turns operands into transposed views with the same values
# (x.T.contiguous().T), so BLAS reads them with the transpose flag.
case("transposed_lhs_T", r(5, 3).T, r(5, 4))
case("transposed_rhs_T", r(3, 5), r(4, 5).T)
case("transposed_both_T", r(4, 3).T, r(5, 4).T)
case("k_zero", r(2, 0), r(0, 3))
write("matmul", cases)
