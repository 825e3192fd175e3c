"""SwAV's swapped-prediction loss (Caron et al., NeurIPS 2020, Sec. 3.1, Eq. 1-2, and multi-crop, Sec. 3.2).

Each crop v of an image has prototype scores s_v = z_v·C (z_v and the prototypes c_k unit-norm).
The codes q_t of the assigned crops t (the two large crops) come from Sinkhorn (`avssl.core.sinkhorn`)
and are targets; every *other* crop predicts them through a softmax at temperature τ:

    ℓ(s_v, q_t) = − Σ_k q_tk · log softmax(s_v / τ)_k                               (Eq. 2)
    L = mean over pairs (t, v), t an assigned crop, v ≠ t any crop, and over the batch

With 2 large + 6 small crops each of the two codes is predicted from the 7 other crops, so
L averages 2 × 7 pair losses (the official code's sum over v divided by V − 1, then averaged over t).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["swav_loss"]


def swav_loss(scores: Sequence[torch.Tensor], codes: Sequence[torch.Tensor], temperature: float = 0.1) -> torch.Tensor:
    """Swapped prediction over crops, averaged over (target, predicting crop) pairs and the batch.

    Args:
        scores: one (B, K) tensor of prototype scores per crop, the assigned crops first.
        codes: one (B, K) target per assigned crop, 1 <= len(codes) <= len(scores): `codes[t]` is the
            code of crop t (rows sum to 1; treated as constants), predicted by every crop but t.
        temperature: τ of the softmax over prototypes (0.1 in SwAV).
    """
    if len(scores) < 2 or not 1 <= len(codes) <= len(scores):
        raise ValueError(f"swav_loss needs >= 2 crops and 1..{len(scores)} codes; got {len(scores)} crops and "
                         f"{len(codes)} codes.")
    shape = tuple(scores[0].shape)
    if len(shape) != 2 or any(tuple(t.shape) != shape for t in (*scores, *codes)):
        raise ValueError(f"swav_loss: every score and code tensor must have the same (B, K) shape; got "
                         f"{[tuple(t.shape) for t in scores]} and {[tuple(t.shape) for t in codes]}.")
    if not temperature > 0:
        raise ValueError(f"swav_loss: temperature must be > 0; got {temperature}.")
    log_p = [F.log_softmax(s / temperature, dim=1) for s in scores]
    pair_losses = [-(q.detach() * log_p[v]).sum(dim=1).mean()
                   for t, q in enumerate(codes) for v in range(len(scores)) if v != t]
    return torch.stack(pair_losses).mean()
