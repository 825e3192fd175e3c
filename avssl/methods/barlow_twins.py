"""Barlow Twins: redundancy reduction (Zbontar et al., ICML 2021, Sec. 2).

Two views → shared encoder → projector (Linear 8192 → BN → ReLU → Linear 8192 → BN → ReLU →
Linear 8192, bias-free as in the official code) → `avssl.core.barlow_twins_loss`: each view batch-
normalised over the *global* batch on its own, the cross-correlation divided by the global batch,
(1 − C_ii)² on the diagonal plus λ = 0.0051 times C_ij² off it; gradients under DDP equal one
process's over the global batch.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from avssl.core.barlow_twins import barlow_twins_loss
from avssl.methods.image_method import VIEW, ImageMethod

__all__ = ["BarlowTwins"]


class BarlowTwins(ImageMethod):
    """Barlow Twins (module docstring). Args: encoders, heads ("image"), lambd (λ, 0.0051)."""

    def __init__(self, encoders: nn.ModuleDict, heads: nn.ModuleDict, lambd: float = 0.0051) -> None:
        super().__init__(encoders, heads)
        if lambd < 0:
            raise ValueError(f"BarlowTwins: lambd must be >= 0; got {lambd}.")
        self.lambd = float(lambd)

    def forward(self, batch: Mapping) -> dict[str, torch.Tensor]:
        z1, z2 = (self.heads[VIEW](f) for f in self.encode(self.views(batch)))
        return {"loss": barlow_twins_loss(z1, z2, self.lambd)}

    def extra_repr(self) -> str:
        return f"lambd={self.lambd}"
