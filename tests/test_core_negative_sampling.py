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


def positive_sets(size: int, p: int, seed: int) -> torch.Tensor:
    """(size, p) sorted random positive sets that never contain the instance itself."""
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for i in range(size):
        others = torch.tensor([j for j in range(size) if j != i])
        rows.append(others[torch.randperm(size - 1, generator=gen)[:p]].sort().values)
    return torch.stack(rows)


def test_complement_sampler_never_returns_a_positive_or_self():
    size, p = 60, 7
    positives = positive_sets(size, p, seed=6)
    index = torch.arange(size).repeat(5)
    negatives = sample_negatives(index, size, 300, torch.Generator().manual_seed(7), exclude=positives[index])
    forbidden = torch.cat([index.unsqueeze(1), positives[index]], dim=1)
    assert not (negatives.unsqueeze(2) == forbidden.unsqueeze(1)).any()
    assert negatives.min() >= 0 and negatives.max() < size


def test_complement_sampler_is_uniform_over_the_complement():
    size, own = 30, 11
    positives = torch.tensor([[0, 3, 12, 13, 29]])  # includes both ends and a neighbour of `own`
    negatives = sample_negatives(torch.full((400,), own), size, 300, torch.Generator().manual_seed(8),
                                 exclude=positives.expand(400, -1))
    counts = torch.bincount(negatives.flatten(), minlength=size)
    allowed = [j for j in range(size) if j != own and j not in positives[0].tolist()]
    assert counts[[own, *positives[0].tolist()]].sum() == 0
    assert chisquare(counts[allowed].numpy()).pvalue > 0.001
    assert (counts[allowed] > 0).all()


def test_complement_with_only_the_own_index_matches_the_plain_sampler():
    index = torch.tensor([4, 0, 9])
    plain = sample_negatives(index, 10, 50, torch.Generator().manual_seed(9))
    empty = sample_negatives(index, 10, 50, torch.Generator().manual_seed(9), exclude=torch.empty(3, 0, dtype=torch.int64))
    assert torch.equal(plain, empty)


def test_no_complement_left_is_a_clear_error():
    with pytest.raises(ValueError, match="no negatives left"):
        sample_negatives(torch.tensor([0]), 4, 3, exclude=torch.tensor([[1, 2, 3]]))
