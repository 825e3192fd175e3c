"""nce_loss against the product form of the original NCE, and the partition-function policy."""

from __future__ import annotations

import math

import pytest
import torch

from avssl.core import PartitionFunction, nce_loss


def product_form_nce(pos: torch.Tensor, neg: torch.Tensor, z: float) -> torch.Tensor:
    """The loss as first written: p(D=1|s) = exp(s) / (exp(s) + K·Z)."""
    k = neg.shape[1]
    p_pos = pos.exp() / (pos.exp() + k * z)
    p_noise = (k * z) / (neg.exp() + k * z)
    return (-p_pos.log().mean(dim=1) - p_noise.log().sum(dim=1)).mean()


@pytest.mark.parametrize("num_pos", [1, 4])
def test_nce_loss_equals_product_form(num_pos):
    gen = torch.Generator().manual_seed(0)
    pos = torch.randn(6, num_pos, generator=gen, dtype=torch.float64) * 3
    neg = torch.randn(6, 50, generator=gen, dtype=torch.float64) * 3
    z = 7.5
    got = nce_loss(pos, neg, math.log(z))
    want = product_form_nce(pos, neg, z)
    torch.testing.assert_close(got, want, rtol=1e-8, atol=0)


def test_nce_loss_accepts_tensor_log_z():
    gen = torch.Generator().manual_seed(1)
    pos = torch.randn(3, 1, generator=gen, dtype=torch.float64)
    neg = torch.randn(3, 8, generator=gen, dtype=torch.float64)
    log_z = torch.tensor(0.3, dtype=torch.float64)
    torch.testing.assert_close(
        nce_loss(pos, neg, log_z), product_form_nce(pos, neg, math.exp(0.3)), rtol=1e-8, atol=0
    )


def test_nce_loss_gradcheck():
    gen = torch.Generator().manual_seed(2)
    pos = torch.randn(4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    neg = torch.randn(4, 10, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p, n: nce_loss(p, n, 0.7), (pos, neg))


def test_nce_loss_finite_where_product_form_overflows():
    pos = torch.full((2, 1), 200.0)
    neg = torch.full((2, 4), 150.0)
    assert torch.isfinite(nce_loss(pos, neg, 0.0))


def test_nce_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="pos_scores"):
        nce_loss(torch.zeros(3), torch.zeros(3, 4), 0.0)
    with pytest.raises(ValueError, match="batch sizes differ"):
        nce_loss(torch.zeros(3, 1), torch.zeros(2, 4), 0.0)


def test_partition_function_first_batch_estimate_then_frozen():
    gen = torch.Generator().manual_seed(3)
    first = torch.randn(5, 16, generator=gen)
    pf = PartitionFunction("first_batch")
    assert not pf.is_frozen
    log_z = pf(first)
    expected = first.double().exp().mean()
    torch.testing.assert_close(log_z.exp(), expected, rtol=1e-12, atol=0)
    later = torch.randn(5, 16, generator=gen) + 4.0
    torch.testing.assert_close(pf(later), log_z, rtol=0, atol=0)
    assert pf.is_frozen


def test_partition_function_log_z_before_estimate_is_an_error():
    with pytest.raises(RuntimeError, match="not set yet"):
        _ = PartitionFunction().log_z


def test_partition_function_state_dict_round_trip_restores_z():
    source = PartitionFunction("first_batch")
    source(torch.randn(4, 32, generator=torch.Generator().manual_seed(4)))
    state = source.state_dict()
    assert set(state) == {"z", "frozen"}
    restored = PartitionFunction("first_batch")
    restored.load_state_dict(state)
    assert restored.is_frozen
    torch.testing.assert_close(restored(torch.full((2, 3), 9.0)), source.log_z, rtol=0, atol=0)


def test_partition_function_fixed_mode_ignores_scores():
    pf = PartitionFunction("fixed", value=12.0)
    assert pf.is_frozen
    torch.testing.assert_close(pf(torch.randn(3, 5)), torch.tensor(math.log(12.0), dtype=torch.float64))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "fixed"},
        {"mode": "fixed", "value": -1.0},
        {"mode": "running"},
        {"mode": "first_batch", "value": 2.0},
    ],
)
def test_partition_function_rejects_bad_configuration(kwargs):
    with pytest.raises(ValueError):
        PartitionFunction(**kwargs)
