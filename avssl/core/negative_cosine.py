"""Negative cosine similarity with a stop-gradient on the target: the loss of BYOL (Grill et al.,
NeurIPS 2020, Eq. 2: ‖p̄ − z̄‖² = 2 − 2·cos(p, z)) and SimSiam (Chen & He, CVPR 2021, Eq. 1: D(p, z)).

    D(p, z) = − mean_b  p_b·z_b / (‖p_b‖ ‖z_b‖),   z treated as a constant (stop-grad, SimSiam Eq. 3)

Without the stop-gradient SimSiam collapses (Sec. 4.1); detaching here, not in each method, makes
that impossible to forget.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["negative_cosine"]


def negative_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """−cos(p, z) averaged over the batch; no gradient flows into `z`."""
    if p.dim() != 2 or p.shape != z.shape:
        raise ValueError(f"negative_cosine expects two (B, D) tensors of one shape; got {tuple(p.shape)} and "
                         f"{tuple(z.shape)}.")
    return -(F.normalize(p, dim=1) * F.normalize(z.detach(), dim=1)).sum(dim=1).mean()
