"""Collectives the contrastive core needs, written so that one process without
`torch.distributed` initialised behaves exactly like a world of size one.

These gathers carry no gradient: they feed state updates (memory banks, the partition
function), which happen under `torch.no_grad()`.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """True when a process group is initialised and holds more than one rank."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@torch.no_grad()
def all_gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate `tensor` from every rank along dim 0, in rank order (see `gather_rows_with_offset`)."""
    return gather_rows_with_offset(tensor)[0]


@torch.no_grad()
def gather_rows_with_offset(tensor: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Concatenate `tensor` from every rank along dim 0, in rank order.

    Ranks may hold different numbers of rows (e.g. a last, smaller batch): the row counts
    are gathered first, every rank pads to the largest and the padding is dropped after
    the gather. Every rank gets the same result, bit for bit. Also returns where this rank's
    rows start in the result. Without a process group (or with one rank) the input is
    returned as is, at offset 0.
    """
    if not is_distributed():
        return tensor, 0
    world = dist.get_world_size()
    count = torch.tensor([tensor.shape[0]], dtype=torch.int64, device=tensor.device)
    counts = [torch.empty_like(count) for _ in range(world)]
    dist.all_gather(counts, count)
    sizes = [int(c.item()) for c in counts]
    longest = max(sizes)
    padded = tensor.new_zeros((longest, *tensor.shape[1:]))
    padded[: tensor.shape[0]] = tensor
    pieces = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(pieces, padded.contiguous())
    offset = sum(sizes[: dist.get_rank()])
    return torch.cat([piece[:size] for piece, size in zip(pieces, sizes)], dim=0), offset


@torch.no_grad()
def _all_reduce(tensor: torch.Tensor, op) -> torch.Tensor:
    out = tensor.clone()  # a new tensor: the caller's input is left untouched
    if is_distributed():
        dist.all_reduce(out, op=op)
    return out


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum `tensor` over ranks (a new tensor; the input is left untouched)."""
    return _all_reduce(tensor, dist.ReduceOp.SUM)


def all_reduce_max(tensor: torch.Tensor) -> torch.Tensor:
    """Element-wise maximum of `tensor` over ranks (a new tensor; the input is left untouched)."""
    return _all_reduce(tensor, dist.ReduceOp.MAX)
