"""Collectives that carry gradient, for objectives computed over the global batch (Barlow Twins'
batch statistics and cross-correlation).

Under DDP every rank computes the same global loss L from the gathered / summed tensors, and DDP
then *averages* the ranks' parameter gradients. For the average to equal ∂L/∂θ of one process
over the global batch, the backward of a collective must hand each rank the gradient of L with
respect to its own contribution *summed over all ranks' copies of L*, i.e. W·∂L/∂x_r:

    y = all_gather(x_1..x_W)   backward: all-reduce-sum of ∂L/∂y over ranks, keep this rank's rows
    y = Σ_r x_r                backward: all-reduce-sum of ∂L/∂y over ranks

A gather whose backward only keeps the local copy's gradient (no all-reduce) leaves every gradient
scaled by 1/W after DDP's averaging; that is the bug solo-learn's Barlow Twins has. Without a process
group (or with one rank) both functions return their input unchanged.
"""

from __future__ import annotations

import torch

from avssl.core.distributed import all_reduce_sum, gather_rows_with_offset, is_distributed

__all__ = ["all_gather_with_grad", "all_reduce_sum_with_grad"]


class _GatherRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        gathered, offset = gather_rows_with_offset(tensor)
        ctx.rows = (offset, offset + tensor.shape[0])
        return gathered

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        start, stop = ctx.rows
        return all_reduce_sum(grad.contiguous())[start:stop]


class _ReduceSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        return all_reduce_sum(tensor)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return all_reduce_sum(grad.contiguous())


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Rows of `tensor` from every rank, in rank order (ranks may hold different row counts), with a
    backward that makes DDP-averaged gradients equal one process's over the gathered batch."""
    return _GatherRows.apply(tensor) if is_distributed() else tensor


def all_reduce_sum_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Σ over ranks of `tensor`, with the backward that keeps DDP-averaged gradients exact (module docstring)."""
    return _ReduceSum.apply(tensor) if is_distributed() else tensor
