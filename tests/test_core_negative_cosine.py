"""negative_cosine: −cos(p, z) over the batch with a stop-gradient on z (SimSiam Eq. 1-3, BYOL Eq. 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avssl.core import negative_cosine


def pairs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randn(6, 4, generator=g, dtype=torch.float64)


def test_value_is_minus_the_mean_cosine():
    p, z = pairs()
    a, b = p.numpy(), z.numpy()
    cos = [(a[i] @ b[i]) / np.linalg.norm(a[i]) / np.linalg.norm(b[i]) for i in range(len(a))]
    assert negative_cosine(p, z).item() == pytest.approx(-np.mean(cos), rel=1e-12)


def test_byol_loss_two_minus_two_cos_is_the_squared_distance_of_unit_vectors():
    p, z = pairs(1)
    distance = (torch.nn.functional.normalize(p, dim=1) - torch.nn.functional.normalize(z, dim=1)).pow(2).sum(1).mean()
    assert (2 + 2 * negative_cosine(p, z)).item() == pytest.approx(distance.item(), rel=1e-12)


def test_no_gradient_flows_into_the_target():
    p, z = (x.requires_grad_() for x in pairs())
    negative_cosine(p, z).backward()
    assert z.grad is None and p.grad.abs().sum() > 0


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="one shape"):
        negative_cosine(torch.zeros(3, 4), torch.zeros(3, 5))
