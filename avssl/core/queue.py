"""A first-in-first-out queue of past embeddings (SwAV's feature queue, Caron et al., NeurIPS 2020,
Sec. 4.3 "small batches"), identical on every rank and in the checkpoint.

SwAV computes codes over more samples than a small batch holds: the stored embeddings of the last
batches are scored against the *current* prototypes and passed to Sinkhorn with the batch. Here
every rank pushes the all-gathered rows (rank order), so all replicas hold the same global queue
and a checkpoint written by rank 0 restores it exactly, whatever the world size on resume. In the
Sinkhorn step each rank uses its 1/W share (`local_share`): Sinkhorn all-reduces its sums, so the
shares together act as the single queue one process would use (the official code keeps a queue of
length L / W per rank to the same effect, saved in one file per rank).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from avssl.core.distributed import all_gather_rows, is_distributed

__all__ = ["Queue"]


class Queue(nn.Module):
    """The `size` most recently pushed (D,) rows, newest first; `count` of them filled so far."""

    def __init__(self, size: int, dim: int) -> None:
        super().__init__()
        if size < 1 or dim < 1:
            raise ValueError(f"Queue needs size >= 1 and dim >= 1; got size={size}, dim={dim}.")
        self.size, self.dim = int(size), int(dim)
        self.register_buffer("rows", torch.zeros(self.size, self.dim))
        self.register_buffer("count", torch.tensor(0, dtype=torch.int64))

    @property
    def is_full(self) -> bool:
        return int(self.count) == self.size

    def get(self) -> torch.Tensor:
        """The filled rows, newest first (a copy)."""
        return self.rows[: int(self.count)].clone()

    def local_share(self) -> torch.Tensor:
        """This rank's rows r, r + W, r + 2W, ... of `get()`: the ranks' shares partition the queue."""
        rows = self.get()
        if not is_distributed():
            return rows
        return rows[dist.get_rank():: dist.get_world_size()]

    @torch.no_grad()
    def push(self, rows: torch.Tensor) -> None:
        """Add (B, D) rows from every rank (gathered in rank order), dropping the oldest beyond `size`."""
        if rows.dim() != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"Queue.push expects (B, {self.dim}) rows; got {tuple(rows.shape)}.")
        new = all_gather_rows(rows.detach().to(device=self.rows.device, dtype=self.rows.dtype))
        kept = torch.cat([new, self.rows[: int(self.count)]])[: self.size]
        self.rows[: kept.shape[0]] = kept
        self.count.fill_(kept.shape[0])

    def extra_repr(self) -> str:
        return f"size={self.size}, dim={self.dim}"
