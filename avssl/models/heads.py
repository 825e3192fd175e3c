"""Projection / prediction heads built from one generic MLP block.

AVID uses ``MLP((512, 512, 512, 128))``: Linear layers with bias and ReLU in between, no BN,
no activation on the output (the loss L2-normalises the embeddings). The same block, with
``batch_norm=True`` and optionally ``last_batch_norm=True``, gives the SimCLR / BYOL /
SimSiam / Barlow Twins style heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class MLP(nn.Module):
    """Linear layers through ``dims`` (input first, output last), ReLU between them.

    batch_norm: BatchNorm1d after every hidden Linear (before its ReLU).
    last_batch_norm: BatchNorm1d on the output; ``last_affine=False`` makes it parameter-free
        (SimSiam's projector).
    bias: bias of the Linear layers; ``None`` (default) means "only where no BN follows",
        since a bias right before BN is cancelled by it.
    """

    def __init__(
        self,
        dims: Sequence[int] = (512, 512, 512, 128),
        batch_norm: bool = False,
        last_batch_norm: bool = False,
        last_affine: bool = True,
        bias: bool | None = None,
    ):
        super().__init__()
        dims = tuple(int(d) for d in dims)
        if len(dims) < 2 or any(d <= 0 for d in dims):
            raise ValueError(f"MLP dims must be at least (in, out) positive sizes, got {dims}")
        layers: list[nn.Module] = []
        n_linear = len(dims) - 1
        for i in range(n_linear):
            last = i == n_linear - 1
            followed_by_bn = last_batch_norm if last else batch_norm
            layers.append(nn.Linear(dims[i], dims[i + 1], bias=(not followed_by_bn) if bias is None else bias))
            if last:
                if last_batch_norm:
                    layers.append(nn.BatchNorm1d(dims[i + 1], affine=last_affine))
            else:
                if batch_norm:
                    layers.append(nn.BatchNorm1d(dims[i + 1]))
                layers.append(nn.ReLU(inplace=True))
        self.layers = nn.Sequential(*layers)
        self.in_dim = dims[0]
        self.out_dim = dims[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def mlp_head(
    in_dim: int = 512,
    hidden_dims: Sequence[int] = (512, 512),
    out_dim: int = 128,
    batch_norm: bool = False,
    last_batch_norm: bool = False,
    last_affine: bool = True,
    bias: bool | None = None,
) -> MLP:
    """The AVID head by default: 512 -> 512 -> 512 -> 128."""
    return MLP((in_dim, *hidden_dims, out_dim), batch_norm, last_batch_norm, last_affine, bias)
