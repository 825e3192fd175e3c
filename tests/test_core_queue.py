"""The FIFO feature queue: newest rows first, oldest dropped, state in the checkpoint."""

from __future__ import annotations

import pytest
import torch

from avssl.core import Queue


def rows(start: int, n: int, dim: int = 2) -> torch.Tensor:
    return torch.arange(start, start + n, dtype=torch.float32).unsqueeze(1).repeat(1, dim)


def test_pushes_fill_newest_first_and_drop_the_oldest():
    queue = Queue(5, 2)
    queue.push(rows(0, 2))
    assert queue.get()[:, 0].tolist() == [0, 1] and not queue.is_full
    queue.push(rows(2, 2))
    queue.push(rows(4, 2))
    assert queue.get()[:, 0].tolist() == [4, 5, 2, 3, 0] and queue.is_full


def test_a_push_larger_than_the_queue_keeps_its_first_rows():
    queue = Queue(3, 2)
    queue.push(rows(0, 4))
    assert queue.get()[:, 0].tolist() == [0, 1, 2]


def test_without_a_process_group_the_local_share_is_the_whole_queue():
    queue = Queue(4, 2)
    queue.push(rows(0, 3))
    assert torch.equal(queue.local_share(), queue.get())


def test_state_dict_restores_rows_and_count():
    queue = Queue(4, 2)
    queue.push(rows(7, 3))
    restored = Queue(4, 2)
    restored.load_state_dict(queue.state_dict())
    assert torch.equal(restored.get(), queue.get()) and int(restored.count) == 3


def test_rows_of_another_width_are_refused():
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        Queue(4, 2).push(torch.zeros(3, 3))
