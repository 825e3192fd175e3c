"""Learning-rate schedules as multipliers of the base rate: linear warm-up, then constant or cosine;
the linear scaling rule (Goyal et al., 2017: lr = base × global batch / 256).

    warm-up (step < W):  s + (1 − s) · (step + 1) / W                     s = warmup_start_ratio
    cosine  (after):     f + (1 − f) · (1 + cos(π · min(1, (step − W) / (T − W)))) / 2    f = final_ratio

s and f are fractions of the base rate: SwAV's 800-epoch recipe warms up from 0.3 to 4.8
(s = 0.0625) and decays to 0.0048 (f = 0.001), Barlow Twins ends at 0.001 × base, BYOL and SimSiam
at 0. With s = f = 0 these are the schedules AVID's configs have always had.
"""

from __future__ import annotations

import math

__all__ = ["lr_multiplier", "scaled_lr", "total_steps"]

REFERENCE_BATCH = 256


def lr_multiplier(step: int, total: int, warmup: int, cosine: bool, warmup_start_ratio: float = 0.0,
                  final_ratio: float = 0.0) -> float:
    """Multiplier of the base learning rate at optimiser step `step` (0-based) of `total`."""
    if step < warmup:
        return warmup_start_ratio + (1.0 - warmup_start_ratio) * (step + 1) / warmup
    if not cosine:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def scaled_lr(lr: float, batch_size: int, world_size: int, scale_by_batch: bool) -> float:
    """`lr` per 256 images × the global batch / 256 when `scale_by_batch`, else `lr` unchanged."""
    return lr * batch_size * world_size / REFERENCE_BATCH if scale_by_batch else lr


def total_steps(num_items: int, batch_size: int, world_size: int, max_epochs: int, max_steps: int = -1) -> int:
    """Optimiser steps of a run: full global batches per epoch (the last, incomplete one is dropped,
    as ResumableSampler does) × epochs, capped by `max_steps` when that is set (> 0)."""
    per_epoch = max(1, num_items // (batch_size * world_size))
    by_epochs = per_epoch * max_epochs if max_epochs and max_epochs > 0 else None
    candidates = [s for s in (by_epochs, max_steps if max_steps and max_steps > 0 else None) if s]
    return max(1, min(candidates)) if candidates else per_epoch
