"""Negative sampling: never the instance itself, uniform over the complement."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import chisquare

from avssl.core import UniformNegativeSampler, sample_negatives


def test_never_returns_the_instance_itself():
    gen = torch.Generator().manual_seed(0)
    index = torch.arange(10).repeat(20)
    negatives = sample_negatives(index, 10, 64, gen)
    assert not (negatives == index.unsqueeze(1)).any()
    assert negatives.min() >= 0 and negatives.max() <= 9


def test_uniform_over_the_complement():
    size, own = 11, 4
    gen = torch.Generator().manual_seed(1)
    negatives = sample_negatives(torch.full((200,), own), size, 500, gen)
    counts = torch.bincount(negatives.flatten(), minlength=size)
    assert counts[own] == 0
    others = torch.cat([counts[:own], counts[own + 1 :]]).numpy()
    assert chisquare(others).pvalue > 0.001


def test_edges_of_the_range_are_reachable():
    gen = torch.Generator().manual_seed(2)
    first = sample_negatives(torch.zeros(1, dtype=torch.int64), 5, 400, gen)
    last = sample_negatives(torch.full((1,), 4), 5, 400, gen)
    assert set(first.flatten().tolist()) == {1, 2, 3, 4}
    assert set(last.flatten().tolist()) == {0, 1, 2, 3}


def test_shape_device_and_dtype():
    index = torch.tensor([0, 3, 7], dtype=torch.int32)
    negatives = sample_negatives(index, 8, 5, torch.Generator().manual_seed(3))
    assert negatives.shape == (3, 5)
    assert negatives.dtype == torch.int64
    assert negatives.device == index.device


def test_same_generator_seed_same_negatives():
    index = torch.arange(4)
    a = sample_negatives(index, 100, 16, torch.Generator().manual_seed(4))
    b = sample_negatives(index, 100, 16, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


def test_sampler_is_a_callable_bound_to_size_and_k():
    sampler = UniformNegativeSampler(50, 7, torch.Generator().manual_seed(5))
    out = sampler(torch.tensor([1, 2]))
    assert out.shape == (2, 7)
    expected = sample_negatives(torch.tensor([1, 2]), 50, 7, torch.Generator().manual_seed(5))
    assert torch.equal(out, expected)


def test_a_fixed_sampler_can_be_injected():
    def fixed(index: torch.Tensor) -> torch.Tensor:
        return torch.ones(index.shape[0], 3, dtype=torch.int64)

    def consume(sampler, index):
        return sampler(index)

    assert torch.equal(consume(fixed, torch.tensor([0, 2])), torch.ones(2, 3, dtype=torch.int64))


@pytest.mark.parametrize("size,k", [(1, 4), (5, -1)])
def test_rejects_impossible_requests(size, k):
    with pytest.raises(ValueError):
        sample_negatives(torch.tensor([0]), size, k)
