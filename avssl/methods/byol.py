"""BYOL: bootstrap your own latent (Grill et al., NeurIPS 2020, Sec. 3).

The online network (encoder → projector → predictor q) predicts, from one view, the target
network's projection of the other view; the target (encoder → projector) is an exponential moving
average of the online one (`avssl.core.EMA`), never trained by gradient:

    L = ‖q̄(z₁) − z̄'₂‖² + ‖q̄(z₂) − z̄'₁‖² = (2 − 2 cos(q(z₁), z'₂)) + (2 − 2 cos(q(z₂), z'₁))   (Eq. 2, symmetrised)

with `avssl.core.negative_cosine` (stop-gradient on the target). After every optimiser step
ξ ← τξ + (1 − τ)θ with τ_k = 1 − (1 − τ_base)(cos(πk/K) + 1)/2, τ_base = 0.996 (Sec. 3.2).
Projector and predictor: Linear 4096 → BN → ReLU → Linear 256 (Sec. 3.3).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from avssl.core.ema import EMA, cosine_momentum
from avssl.core.negative_cosine import negative_cosine
from avssl.methods.image_method import VIEW, ImageMethod

__all__ = ["BYOL"]


class BYOL(ImageMethod):
    """BYOL with an EMA target (module docstring).

    Args:
        encoders, heads: "image" encoder and projector (online; the target copies both).
        predictor: q, projector output → projector output (BYOL: 256-4096-256 with BN).
        tau_base: τ_base of the cosine momentum schedule (0.996 at batch 4096; 0.99 for short runs).
    """

    def __init__(self, encoders: nn.ModuleDict, heads: nn.ModuleDict, predictor: nn.Module,
                 tau_base: float = 0.996) -> None:
        super().__init__(encoders, heads)
        if not 0.0 <= tau_base <= 1.0:
            raise ValueError(f"BYOL: tau_base must lie in [0, 1]; got {tau_base}.")
        self.predictor = predictor
        self.tau_base = float(tau_base)
        self.target = EMA(self.online_network())

    def online_network(self) -> nn.Sequential:
        """Encoder → projector: the part the target follows."""
        return nn.Sequential(self.encoders[VIEW], self.heads[VIEW])

    def forward(self, batch: Mapping) -> dict[str, torch.Tensor]:
        views = self.views(batch)
        p1, p2 = (self.predictor(self.heads[VIEW](f)) for f in self.encode(views))
        t1, t2 = (self.target(v) for v in views)
        loss = (2 + 2 * negative_cosine(p1, t2)) + (2 + 2 * negative_cosine(p2, t1))
        return {"loss": loss}

    def on_after_optimizer_step(self, step: int, total_steps: int) -> dict[str, float]:
        """Move the target after step k (0-based) of K with τ_k."""
        tau = cosine_momentum(step, total_steps, self.tau_base)
        self.target.update(self.online_network(), tau)
        return {"byol/tau": tau}

    def extra_repr(self) -> str:
        return f"tau_base={self.tau_base}"
