"""MemoryBank: seeded unit-norm init, the momentum update rule, duplicates, read-before-write."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from avssl.core import MemoryBank


def test_initial_rows_are_unit_norm():
    bank = MemoryBank(100, 16)
    torch.testing.assert_close(bank.memory.norm(dim=1), torch.ones(100))


def test_initial_rows_are_seeded_and_deterministic():
    torch.manual_seed(123)
    a = MemoryBank(50, 8, seed=7)
    torch.manual_seed(456)
    b = MemoryBank(50, 8, seed=7)
    assert torch.equal(a.memory, b.memory)
    assert not torch.equal(a.memory, MemoryBank(50, 8, seed=8).memory)


def test_memory_is_a_persistent_buffer():
    bank = MemoryBank(10, 4)
    assert "memory" in bank.state_dict()
    other = MemoryBank(10, 4, seed=1)
    other.load_state_dict(bank.state_dict())
    assert torch.equal(other.memory, bank.memory)


def test_update_matches_formula_with_normalised_embedding():
    bank = MemoryBank(20, 6, momentum=0.3)
    before = bank.memory.clone()
    index = torch.tensor([3, 11, 0])
    emb = torch.randn(3, 6, generator=torch.Generator().manual_seed(0)) * 5
    bank.update(index, emb)
    expected = F.normalize(0.3 * before[index] + 0.7 * F.normalize(emb, dim=1), dim=1)
    torch.testing.assert_close(bank.memory[index], expected)
    untouched = torch.ones(20, dtype=torch.bool)
    untouched[index] = False
    assert torch.equal(bank.memory[untouched], before[untouched])


def test_duplicate_indices_use_the_mean_of_their_normalised_embeddings():
    bank = MemoryBank(10, 4, momentum=0.5)
    before = bank.memory.clone()
    emb = torch.randn(4, 4, generator=torch.Generator().manual_seed(1))
    bank.update(torch.tensor([2, 5, 2, 2]), emb)
    unit = F.normalize(emb, dim=1)
    mean_2 = (unit[0] + unit[2] + unit[3]) / 3
    torch.testing.assert_close(bank.memory[2], F.normalize(0.5 * before[2] + 0.5 * mean_2, dim=0))
    torch.testing.assert_close(bank.memory[5], F.normalize(0.5 * before[5] + 0.5 * unit[1], dim=0))


def test_duplicate_result_does_not_depend_on_their_order():
    emb = torch.randn(3, 4, generator=torch.Generator().manual_seed(2))
    a, b = MemoryBank(6, 4), MemoryBank(6, 4)
    a.update(torch.tensor([1, 1, 1]), emb)
    b.update(torch.tensor([1, 1, 1]), emb[[2, 0, 1]])
    torch.testing.assert_close(a.memory, b.memory)


def test_get_returns_a_copy_that_update_does_not_change():
    bank = MemoryBank(8, 4)
    index = torch.tensor([1, 4])
    gathered = bank.get(index)
    snapshot = gathered.clone()
    bank.update(index, torch.randn(2, 4))
    assert torch.equal(gathered, snapshot)
    assert not torch.equal(bank.get(index), snapshot)


def test_get_accepts_a_matrix_of_indices():
    bank = MemoryBank(8, 4)
    negatives = torch.tensor([[0, 1, 2], [5, 6, 7]])
    out = bank.get(negatives)
    assert out.shape == (2, 3, 4)
    assert torch.equal(out[1, 2], bank.memory[7])


def test_update_detaches_and_casts_embeddings():
    bank = MemoryBank(8, 4)
    emb = torch.randn(2, 4, requires_grad=True)
    bank.update(torch.tensor([0, 1]), emb.to(torch.bfloat16))
    assert bank.memory.dtype == torch.float32 and not bank.memory.requires_grad


def test_update_rejects_out_of_range_index():
    bank = MemoryBank(8, 4)
    with pytest.raises(IndexError, match="out of range"):
        bank.update(torch.tensor([8]), torch.randn(1, 4))


def test_update_rejects_wrong_shapes():
    bank = MemoryBank(8, 4)
    with pytest.raises(ValueError, match="expects index"):
        bank.update(torch.tensor([0, 1]), torch.randn(2, 5))
