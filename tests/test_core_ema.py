"""The EMA target and BYOL's τ schedule τ_k = 1 − (1 − τ_base)(cos(πk/K) + 1)/2."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from avssl.core import EMA, cosine_momentum


def test_tau_rises_from_the_base_value_to_one_along_a_cosine():
    assert cosine_momentum(0, 100, 0.996) == pytest.approx(0.996, abs=1e-15)
    assert cosine_momentum(100, 100, 0.996) == pytest.approx(1.0, abs=1e-15)
    assert cosine_momentum(50, 100, 0.996) == pytest.approx(0.998, abs=1e-15)
    k, total = 17, 60
    assert cosine_momentum(k, total, 0.99) == pytest.approx(1 - 0.01 * (math.cos(math.pi * k / total) + 1) / 2)
    values = [cosine_momentum(k, 60, 0.99) for k in range(61)]
    assert values == sorted(values)


def test_update_moves_every_weight_to_tau_target_plus_one_minus_tau_online():
    torch.manual_seed(0)
    online = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = EMA(online)
    before = [p.clone() for p in ema.model.parameters()]
    with torch.no_grad():
        for p in online.parameters():
            p.add_(1.0)
    online(torch.randn(5, 3))  # changes the running statistics
    ema.update(online, 0.9)
    for old, new, src in zip(before, ema.model.parameters(), online.parameters()):
        torch.testing.assert_close(new, 0.9 * old + 0.1 * src, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(ema.model[1].running_mean, online[1].running_mean, rtol=0, atol=0)
    assert float(ema.tau) == pytest.approx(0.9)


def test_target_is_never_trained_and_its_weights_are_in_the_state_dict():
    ema = EMA(nn.Linear(3, 2))
    assert not any(p.requires_grad for p in ema.parameters())
    assert {"model.weight", "model.bias", "tau"} <= set(ema.state_dict())
    out = ema(torch.randn(4, 3, requires_grad=True))
    assert not out.requires_grad


def test_an_online_network_of_another_shape_is_refused():
    ema = EMA(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="architecture"):
        ema.update(nn.Linear(3, 4), 0.99)
