"""An index-addressed memory bank of unit-norm embeddings with a momentum update
(Wu et al., CVPR 2018; AVID, Morgado et al., CVPR 2021).

One row per training instance. A training step reads rows with `get` (positives and
negatives), computes its scores, then writes the batch's new embeddings with `update`:

    M[y] ← normalise(m·M[y] + (1 − m)·normalise(e))

The embedding e is L2-normalised before it is mixed in, as in the official AVID-CMA code
(criterions/avid.py normalises the embeddings before scoring and passes the normalised
tensors to its memory update).

Duplicates. When an index occurs several times in one (global) update, e.g. two clips of the
same video, the row is updated once, with the mean of those occurrences' normalised
embeddings in place of normalise(e). Without duplicates this is exactly the rule above. The
official code writes duplicates with `index_copy_`, where which one wins is unspecified;
here the result does not depend on the order of the duplicates, and the sum is formed in a
fixed order so that every rank computes the same bits.

Distributed. `update` all-gathers (index, embedding) from every rank, in rank order, and every
rank applies the same update to its replica, so replicas stay identical. The initial rows come
from a seeded generator on the CPU, so replicas also start identical without a broadcast (the
module can be built before the process group exists, as Lightning does).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from avssl.core.distributed import all_gather_rows

__all__ = ["MemoryBank"]


class MemoryBank(nn.Module):
    """N × D unit-norm memories, persistent in checkpoints (the `memory` buffer).

    Args:
        size: number of instances N (instance indices are 0..N−1).
        dim: embedding dimension D.
        momentum: m in M[y] ← normalise(m·M[y] + (1 − m)·normalise(e)); 0.5 in AVID.
        seed: seed of the random unit-norm initial rows (identical on every rank).
    """

    def __init__(self, size: int, dim: int, momentum: float = 0.5, seed: int = 0) -> None:
        super().__init__()
        if size < 1 or dim < 1:
            raise ValueError(f"MemoryBank needs size >= 1 and dim >= 1; got size={size}, dim={dim}.")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"MemoryBank momentum must lie in [0, 1]; got {momentum}.")
        self.size = int(size)
        self.dim = int(dim)
        self.momentum = float(momentum)
        generator = torch.Generator().manual_seed(int(seed))
        memory = F.normalize(torch.randn(self.size, self.dim, generator=generator), dim=1)
        self.register_buffer("memory", memory, persistent=True)

    def get(self, index: torch.Tensor) -> torch.Tensor:
        """Rows at `index` (any shape S) as a new (S..., D) tensor.

        The result is a copy: a later `update` does not change it, so scores computed from it
        use the memories as they were before the step's update.
        """
        return self.memory[index.to(self.memory.device)].clone()

    @torch.no_grad()
    def update(self, index: torch.Tensor, emb: torch.Tensor) -> None:
        """Momentum-update rows `index` (B,) with embeddings `emb` (B, D), gathered over ranks."""
        if index.dim() != 1 or emb.dim() != 2 or emb.shape[0] != index.shape[0] or emb.shape[1] != self.dim:
            raise ValueError(
                f"MemoryBank.update expects index (B,) and emb (B, {self.dim}); got {tuple(index.shape)} "
                f"and {tuple(emb.shape)}."
            )
        device = self.memory.device
        index = index.to(device=device, dtype=torch.int64)
        emb = F.normalize(emb.detach().to(device=device, dtype=self.memory.dtype), dim=1)
        index = all_gather_rows(index)
        emb = all_gather_rows(emb)
        if index.numel() == 0:
            return
        low, high = int(index.min()), int(index.max())
        if low < 0 or high >= self.size:
            raise IndexError(
                f"MemoryBank.update: instance index out of range [0, {self.size}): saw min {low}, max {high}."
            )
        rows, mean_emb = _mean_per_index(index, emb)
        mixed = self.momentum * self.memory[rows] + (1.0 - self.momentum) * mean_emb
        self.memory.index_copy_(0, rows, F.normalize(mixed, dim=1))

    def extra_repr(self) -> str:
        return f"size={self.size}, dim={self.dim}, momentum={self.momentum}"


def _mean_per_index(index: torch.Tensor, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct indices (ascending) and the mean of their embeddings.

    Deterministic: occurrences of one index are summed in their order in `index` (a stable
    sort keeps it), one occurrence rank at a time, so no two writes ever collide (unlike
    `index_add_`, whose CUDA float sums depend on thread timing).
    """
    order = torch.argsort(index, stable=True)
    sorted_index = index[order]
    sorted_emb = emb[order]
    rows, group, counts = torch.unique_consecutive(sorted_index, return_inverse=True, return_counts=True)
    if rows.numel() == index.numel():
        return rows, sorted_emb
    starts = torch.cumsum(counts, dim=0) - counts
    occurrence = torch.arange(index.numel(), device=index.device) - starts[group]
    total = torch.zeros(rows.numel(), emb.shape[1], dtype=emb.dtype, device=emb.device)
    for rank in range(int(counts.max())):
        at_rank = occurrence == rank
        total[group[at_rank]] += sorted_emb[at_rank]
    return rows, total / counts.unsqueeze(1).to(emb.dtype)
