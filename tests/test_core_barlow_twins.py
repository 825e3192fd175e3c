"""Barlow Twins (Eq. 1-2) against the equation in float64: each view batch-normalised on its own with
the biased variance and ε = 1e-5, C divided by the batch size, λ on the off-diagonal sum."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avssl.core import barlow_twins_loss
from avssl.core.barlow_twins import off_diagonal


def reference_loss(z1: np.ndarray, z2: np.ndarray, lambd: float) -> float:
    def bn(z):
        mean = z.mean(axis=0)
        var = ((z - mean) ** 2).mean(axis=0)  # biased
        return (z - mean) / np.sqrt(var + 1e-5)

    a, b = bn(z1), bn(z2)
    n, d = a.shape
    loss = 0.0
    for i in range(d):
        for j in range(d):
            c_ij = sum(a[k, i] * b[k, j] for k in range(n)) / n
            loss += (1.0 - c_ij) ** 2 if i == j else lambd * c_ij**2
    return loss


def views(n: int = 7, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d, generator=g, dtype=torch.float64) * 3 + 1
    z2 = 0.5 * z1 + torch.randn(n, d, generator=g, dtype=torch.float64)
    return z1, z2


@pytest.mark.parametrize("lambd", [0.0051, 0.5])
def test_loss_equals_the_equation(lambd):
    z1, z2 = views()
    assert barlow_twins_loss(z1, z2, lambd).item() == pytest.approx(reference_loss(z1.numpy(), z2.numpy(), lambd),
                                                                     rel=1e-12)


def test_views_are_normalised_separately_not_together():
    z1, z2 = views()
    z2 = z2 + 10.0  # a shift that joint normalisation (one BN over both views) would not remove
    assert barlow_twins_loss(z1, z2).item() == pytest.approx(barlow_twins_loss(z1, z2 - 10.0).item(), rel=1e-12)


def test_gradient_equals_autograd_of_an_independent_implementation():
    z1, z2 = (v.clone().requires_grad_() for v in views())
    barlow_twins_loss(z1, z2).backward()
    r1, r2 = (v.detach().clone().requires_grad_() for v in (z1, z2))
    a = torch.nn.functional.batch_norm(r1, None, None, training=True, eps=1e-5)
    b = torch.nn.functional.batch_norm(r2, None, None, training=True, eps=1e-5)
    c = a.T @ b / a.shape[0]
    eye = torch.eye(c.shape[0], dtype=c.dtype)
    ((c.diagonal() - 1).pow(2).sum() + 0.0051 * (c * (1 - eye)).pow(2).sum()).backward()
    torch.testing.assert_close(z1.grad, r1.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(z2.grad, r2.grad, rtol=1e-10, atol=1e-12)


def test_off_diagonal_is_every_entry_but_the_diagonal_in_row_major_order():
    c = torch.arange(16.0).view(4, 4)
    expected = [c[i, j].item() for i in range(4) for j in range(4) if i != j]
    assert off_diagonal(c).flatten().tolist() == expected


def test_bfloat16_inputs_are_computed_in_float32():
    z1, z2 = views()
    low = barlow_twins_loss(z1.bfloat16(), z2.bfloat16())
    assert low.dtype == torch.float32
    assert low.item() == pytest.approx(barlow_twins_loss(z1.bfloat16().double(), z2.bfloat16().double()).item(),
                                       rel=1e-5)


def test_mismatched_views_and_a_single_sample_are_refused():
    with pytest.raises(ValueError, match="one shape"):
        barlow_twins_loss(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="at least 2"):
        barlow_twins_loss(torch.zeros(1, 3), torch.zeros(1, 3))
