"""An exponential-moving-average target network and BYOL's cosine momentum schedule
(Grill et al., NeurIPS 2020, Sec. 3.1 and Sec. 3.2).

After each optimiser step the target weights ξ follow the online weights θ:

    ξ ← τ·ξ + (1 − τ)·θ,     τ_k = 1 − (1 − τ_base)·(cos(π k / K) + 1) / 2

k the step just taken (0-based), K the total number of steps, τ_base = 0.996: τ rises from
τ_base to 1. The target is a deep copy of the online modules, never trained by gradient, and its
weights are in the state dict (exact resume). Buffers (BatchNorm running statistics) are copied
from the online network: the target runs in training mode, so they only matter for evaluation.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

__all__ = ["EMA", "cosine_momentum"]


def cosine_momentum(step: int, total_steps: int, base: float = 0.996) -> float:
    """τ_k = 1 − (1 − base)·(cos(π k / K) + 1) / 2 (BYOL Sec. 3.2); k clipped to [0, K]."""
    if total_steps < 1:
        raise ValueError(f"cosine_momentum: total_steps must be >= 1; got {total_steps}.")
    if not 0.0 <= base <= 1.0:
        raise ValueError(f"cosine_momentum: base must lie in [0, 1]; got {base}.")
    k = min(max(step, 0), total_steps)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * k / total_steps) + 1.0) / 2.0


class EMA(nn.Module):
    """A frozen twin of `online`, moved towards it by `update(online, tau)`; call it like `online`."""

    def __init__(self, online: nn.Module) -> None:
        super().__init__()
        self.model = copy.deepcopy(online)
        self.model.requires_grad_(False)
        self.register_buffer("tau", torch.tensor(float("nan"), dtype=torch.float64))  # last τ applied

    @torch.no_grad()
    def update(self, online: nn.Module, tau: float) -> None:
        """ξ ← τ·ξ + (1 − τ)·θ for every parameter; buffers copied."""
        if not 0.0 <= tau <= 1.0:
            raise ValueError(f"EMA.update: tau must lie in [0, 1]; got {tau}.")
        target = list(self.model.parameters())
        source = list(online.parameters())
        if len(target) != len(source) or any(t.shape != s.shape for t, s in zip(target, source)):
            raise ValueError("EMA.update: `online` does not have the architecture the target was copied from.")
        torch._foreach_lerp_(target, [s.detach() for s in source], 1.0 - tau)
        for t, s in zip(self.model.buffers(), online.buffers()):
            t.copy_(s)
        self.tau.fill_(tau)

    def forward(self, *args, **kwargs):
        with torch.no_grad():
            return self.model(*args, **kwargs)
