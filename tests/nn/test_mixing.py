from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sbinn.nn import Permutation, RandomOrthogonalMixing
from sbinn.nn.mixing import haar_orthogonal

dims = st.integers(1, 9)
seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=50, deadline=None)
@given(dim=dims, seed=seeds)
def test_mixing_matrix_is_orthogonal_with_unit_determinant(dim, seed):
    for dtype, tol in ((torch.float32, 1e-6), (torch.float64, 1e-13)):
        q = RandomOrthogonalMixing(dim, seed).to(dtype).weight
        assert q.dtype == dtype
        assert (q.T @ q - torch.eye(dim, dtype=dtype)).abs().max() <= tol
        assert torch.linalg.slogdet(q.double()).logabsdet.abs() <= 10 * tol


@settings(max_examples=50, deadline=None)
@given(dim=dims, seed=seeds, batch=st.integers(1, 33))
def test_mixing_is_x_times_q_transpose_with_zero_log_det(dim, seed, batch):
    mixing = RandomOrthogonalMixing(dim, seed).double()
    x = torch.randn(batch, dim, dtype=torch.float64)
    y, log_det = mixing(x)
    assert torch.allclose(y, x @ mixing.weight.T, atol=0)
    assert torch.equal(log_det, torch.zeros(batch, dtype=torch.float64))
    x_back, log_det_back = mixing.inverse(y)
    assert torch.allclose(x_back, x, atol=1e-13)
    assert torch.equal(log_det_back, torch.zeros(batch, dtype=torch.float64))


@settings(max_examples=50, deadline=None)
@given(dim=st.integers(2, 9), seed=seeds, other=seeds)
def test_same_seed_same_matrix_different_seed_different_matrix(dim, seed, other):
    assert torch.equal(
        RandomOrthogonalMixing(dim, seed).weight, RandomOrthogonalMixing(dim, seed).weight
    )
    if other != seed:
        assert not torch.equal(
            RandomOrthogonalMixing(dim, seed).weight, RandomOrthogonalMixing(dim, other).weight
        )


def test_mixing_matrix_is_haar_distributed():
    """For Haar Q in O(3), Q[0, 0] is uniform on [-1, 1] and det Q is ±1 with equal odds.

    A QR factorisation without the sign fix gives Q[0, 0] < 0 nearly always.
    """
    matrices = torch.stack([haar_orthogonal(3, seed) for seed in range(400)])
    corner = matrices[:, 0, 0].numpy()
    assert stats.kstest(corner, stats.uniform(-1, 2).cdf).pvalue > 1e-3
    determinants = torch.linalg.det(matrices).numpy()
    assert np.allclose(np.abs(determinants), 1.0)
    assert 150 < (determinants > 0).sum() < 250


def test_mixing_is_not_trained_and_survives_state_dict_round_trip():
    mixing = RandomOrthogonalMixing(4, seed=3)
    assert list(mixing.parameters()) == []
    restored = RandomOrthogonalMixing(4, seed=99)
    restored.load_state_dict(mixing.state_dict())
    assert torch.equal(restored.weight, mixing.weight)


def test_float32_matrix_cast_up_is_reprojected_onto_the_orthogonal_group():
    """Rounding Q to float32 breaks orthogonality at 1e-8; a float64 user must not inherit that."""
    eye = torch.eye(7, dtype=torch.float64)
    cast = RandomOrthogonalMixing(7, seed=5).float().double()
    assert (cast.weight.T @ cast.weight - eye).abs().max() < 1e-14

    loaded = RandomOrthogonalMixing(7, seed=0).double()
    loaded.load_state_dict(RandomOrthogonalMixing(7, seed=5).float().state_dict())
    assert (loaded.weight.T @ loaded.weight - eye).abs().max() < 1e-14
    assert torch.allclose(loaded.weight, cast.weight, atol=1e-7)

    x = torch.randn(5, 7, dtype=torch.float64)
    assert torch.allclose(cast.inverse(cast(x)[0])[0], x, atol=1e-14)


@settings(max_examples=50, deadline=None)
@given(dim=dims, seed=seeds, batch=st.integers(1, 33))
def test_permutation_reorders_features_and_inverts_exactly(dim, seed, batch):
    permutation = Permutation(dim, seed)
    assert sorted(permutation.perm.tolist()) == list(range(dim))
    x = torch.randn(batch, dim)
    y, log_det = permutation(x)
    assert torch.equal(y, x[:, permutation.perm])
    assert torch.equal(log_det, torch.zeros(batch))
    x_back, log_det_back = permutation.inverse(y)
    assert torch.equal(x_back, x)
    assert torch.equal(log_det_back, torch.zeros(batch))
    assert torch.equal(Permutation(dim, seed).perm, permutation.perm)


def test_permutation_seeds_differ_and_indices_survive_dtype_casts():
    assert not torch.equal(Permutation(9, 0).perm, Permutation(9, 1).perm)
    permutation = Permutation(5, 0).double()
    assert permutation.perm.dtype == torch.int64
    assert permutation(torch.zeros(2, 5, dtype=torch.float64))[0].dtype == torch.float64
