"""A DataLoader whose data order survives a kill: same order on resume as if never stopped.

The sampler's order depends only on (seed, epoch) and the rank, and it yields (epoch, item)
keys, so DataLoader workers need no epoch state. The loader's `state_dict` holds the epoch and
how many batches the training loop has consumed (counted by the training step, not by the
iterator, which Lightning pre-fetches ahead); Lightning saves it in checkpoints and hands it
back on resume, and the next iterator skips what was consumed.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

_SEED_MIX = 1_000_003


class ResumableSampler(Sampler[tuple[int, int]]):
    """Shuffled (or sequential) order per epoch, split over ranks by global batch: global batch g
    is positions [g·B·W, (g+1)·B·W) of the epoch's permutation and rank r takes its r-th block of
    B. Gathering the ranks' batches in rank order thus gives exactly the batch one process with
    batch B·W would see, so a W-rank run equals a 1-rank run over the same global batch. An
    incomplete last global batch is dropped (every rank must take the same number of steps)."""

    def __init__(self, size: int, batch_size: int, seed: int = 0, shuffle: bool = True, rank: int = 0,
                 world_size: int = 1) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world of size {world_size}")
        self.size, self.batch_size, self.seed, self.shuffle = size, batch_size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.skip = 0  # items of this epoch already consumed (set when resuming)

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.skip = 0
        self.epoch = epoch

    def __len__(self) -> int:
        return (self.size // (self.batch_size * self.world_size)) * self.batch_size

    def order(self, epoch: int) -> list[int]:
        """This rank's items of `epoch`, in order."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * _SEED_MIX + epoch)
            permutation = torch.randperm(self.size, generator=generator).tolist()
        else:
            permutation = list(range(self.size))
        global_batch = self.batch_size * self.world_size
        mine = []
        for start in range(0, len(self) * self.world_size, global_batch):
            first = start + self.rank * self.batch_size
            mine.extend(permutation[first : first + self.batch_size])
        return mine

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch, skip = self.epoch, self.skip
        self.skip = 0  # a skip applies to one iterator only
        for item in self.order(epoch)[skip:]:
            yield epoch, item


class ResumableDataLoader(DataLoader):
    """DataLoader over a ResumableSampler; Lightning treats it as stateful (state_dict /
    load_state_dict). Call `mark_consumed()` once per training step."""

    def __init__(self, dataset: Dataset, sampler: ResumableSampler, **kwargs) -> None:
        super().__init__(dataset, batch_size=sampler.batch_size, sampler=sampler, drop_last=True, **kwargs)
        self.consumed_batches = 0
        self._consumed_epoch = 0

    def mark_consumed(self) -> None:
        epoch = self.sampler.epoch
        if epoch != self._consumed_epoch:
            self._consumed_epoch, self.consumed_batches = epoch, 0
        self.consumed_batches += 1

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.sampler.epoch, "consumed_batches": self.consumed_batches}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.set_epoch(int(state["epoch"]))
        self._consumed_epoch = int(state["epoch"])
        self.consumed_batches = int(state["consumed_batches"])
        self.sampler.skip = self.consumed_batches * self.batch_size
