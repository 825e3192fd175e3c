"""Sinkhorn-Knopp codes (SwAV Eq. 4) against the algorithm written out with loops in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avssl.core import sinkhorn


def reference_sinkhorn(scores: np.ndarray, eps: float, iters: int) -> np.ndarray:
    """Q (K × B) = exp(sᵀ / ε) / total; alternately give each prototype mass 1/K and each sample 1/B;
    return B·Qᵀ (rows are codes)."""
    b, k = scores.shape
    q = np.exp(scores.T.astype(np.float64) / eps)
    q /= q.sum()
    for _ in range(iters):
        for row in range(k):
            q[row, :] /= q[row, :].sum() * k
        for col in range(b):
            q[:, col] /= q[:, col].sum() * b
    return (q * b).T


def scores(b: int = 6, k: int = 5, seed: int = 0) -> torch.Tensor:
    z = torch.nn.functional.normalize(torch.randn(b, 8, generator=torch.Generator().manual_seed(seed)), dim=1)
    c = torch.nn.functional.normalize(torch.randn(k, 8, generator=torch.Generator().manual_seed(seed + 1)), dim=1)
    return (z @ c.T).double()


@pytest.mark.parametrize("eps, iters", [(0.05, 3), (0.03, 10), (0.5, 1)])
def test_codes_equal_the_algorithm_written_with_loops(eps, iters):
    s = scores()
    expected = reference_sinkhorn(s.numpy(), eps, iters)
    np.testing.assert_allclose(sinkhorn(s, eps, iters).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_each_row_is_a_distribution_over_prototypes():
    codes = sinkhorn(scores(7, 4).float())
    assert codes.dtype == torch.float32 and (codes >= 0).all()
    torch.testing.assert_close(codes.sum(dim=1), torch.ones(7), rtol=0, atol=1e-6)


def test_with_enough_iterations_every_prototype_receives_an_equal_share_of_the_batch():
    b, k = 12, 4
    codes = sinkhorn(scores(b, k), eps=0.1, iters=200)
    torch.testing.assert_close(codes.sum(dim=0), torch.full((k,), b / k, dtype=torch.float64), rtol=1e-9, atol=0)
    torch.testing.assert_close(codes.sum(dim=1), torch.ones(b, dtype=torch.float64), rtol=1e-12, atol=0)


def test_a_common_shift_of_all_scores_changes_nothing_and_large_scores_do_not_overflow():
    s = scores().float()
    shifted = sinkhorn(s + 50.0, eps=0.03)  # exp(51 / 0.03) overflows without the max shift
    assert torch.isfinite(shifted).all()
    torch.testing.assert_close(shifted, sinkhorn(s, eps=0.03), rtol=1e-4, atol=1e-6)


def test_codes_carry_no_gradient():
    s = scores().float().requires_grad_()
    assert not sinkhorn(s).requires_grad


@pytest.mark.parametrize("kwargs, message", [({"scores": torch.zeros(3)}, "shape"),
                                             ({"scores": torch.zeros(2, 3), "eps": 0.0}, "eps"),
                                             ({"scores": torch.zeros(2, 3), "iters": 0}, "iters")])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sinkhorn(**kwargs)
