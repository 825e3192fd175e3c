"""The Barlow Twins objective (Zbontar et al., ICML 2021, Sec. 2, Eq. 1-2).

Each view's embeddings are standardised per dimension over the batch (BatchNorm without affine:
batch mean, *biased* variance, ε = 1e-5, each view on its own), then

    C_ij = Σ_b z¹_bi z²_bj / N                                                        (Eq. 2)
    L    = Σ_i (1 − C_ii)² + λ Σ_i Σ_{j≠i} C_ij²,   λ = 0.0051 (5.1e-3)                (Eq. 1)

N is the *global* batch. Under DDP the per-dimension sums behind the mean and variance and the
un-normalised cross-correlation are all-reduced with gradient (`all_reduce_sum_with_grad`), so every
rank computes the global L and DDP's gradient average equals one process over the global batch:
what the official code's SyncBatchNorm + all_reduce(C) compute in the forward pass, with the backward
made exact. Only D-sized vectors and the D × D matrix cross the network, never the embeddings.
"""

from __future__ import annotations

import torch

from avssl.core.differentiable_collectives import all_reduce_sum_with_grad
from avssl.core.distributed import all_reduce_sum

__all__ = ["barlow_twins_loss", "batch_standardise"]

BN_EPS = 1e-5  # torch.nn.BatchNorm1d's default, as in the official code


def batch_standardise(z: torch.Tensor, num_samples: torch.Tensor | int, eps: float = BN_EPS) -> torch.Tensor:
    """(z − mean) / sqrt(var + eps) per column, mean and biased variance over the global batch of
    `num_samples` rows (BatchNorm1d(affine=False) in training mode, synchronised over ranks)."""
    mean = all_reduce_sum_with_grad(z.sum(dim=0)) / num_samples
    centred = z - mean
    var = all_reduce_sum_with_grad(centred.pow(2).sum(dim=0)) / num_samples
    return centred / torch.sqrt(var + eps)


def off_diagonal(c: torch.Tensor) -> torch.Tensor:
    """The n² − n off-diagonal entries of a square matrix, as a view: in row-major order each diagonal
    entry is followed by n off-diagonal ones, so rows of n + 1 starting after entry (0, 0) end in one."""
    n = c.shape[0]
    return c.flatten()[1:].view(n - 1, n + 1)[:, :-1]


def barlow_twins_loss(z1: torch.Tensor, z2: torch.Tensor, lambd: float = 0.0051) -> torch.Tensor:
    """Barlow Twins loss of two (B, D) views' projector outputs (module docstring); float32 at least,
    outside autocast (a D × D sum of squares in bfloat16 would lose the off-diagonal term)."""
    if z1.dim() != 2 or z1.shape != z2.shape:
        raise ValueError(f"barlow_twins_loss expects two (B, D) tensors of one shape; got {tuple(z1.shape)} and "
                         f"{tuple(z2.shape)}.")
    if z1.shape[1] < 2:
        raise ValueError("barlow_twins_loss needs D >= 2 (there is no off-diagonal term otherwise).")
    dtype = torch.promote_types(z1.dtype, torch.float32)
    with torch.autocast(device_type=z1.device.type, enabled=False):
        z1, z2 = z1.to(dtype), z2.to(dtype)
        n = all_reduce_sum(z1.new_tensor(float(z1.shape[0])))
        if n < 2:
            raise ValueError("barlow_twins_loss needs a global batch of at least 2 (batch statistics).")
        c = all_reduce_sum_with_grad(batch_standardise(z1, n).T @ batch_standardise(z2, n)) / n
        on_diag = (1.0 - torch.diagonal(c)).pow(2).sum()
        off_diag = off_diagonal(c).pow(2).sum()
        return on_diag + lambd * off_diag
