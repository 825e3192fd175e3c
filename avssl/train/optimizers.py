"""Config `optim:` → optimiser (Adam, SGD or LARS over `param_groups`) and per-step schedule.

A fixed-lr group (SimSiam's predictor) gets a constant multiplier; every other group follows
warm-up + cosine (`lr_multiplier`). With `optim.scale_lr_by_batch` the configured learning rates
are per 256 images and multiplied by global batch / 256 (SwAV, BYOL, SimSiam, Barlow Twins recipes).
"""

from __future__ import annotations

from functools import partial

import torch
from omegaconf import DictConfig
from torch import nn

from avssl.train.lars import LARS
from avssl.train.lr_schedule import lr_multiplier, scaled_lr
from avssl.train.param_groups import param_groups

__all__ = ["OPTIMIZERS", "build_optimizer", "build_schedule"]

OPTIMIZERS = ("adam", "sgd", "lars")


def build_optimizer(model: nn.Module, optim: DictConfig, global_batch: int) -> torch.optim.Optimizer:
    """The optimiser `optim.name` over `model`'s parameter groups, learning rates scaled if asked."""
    if optim.name not in OPTIMIZERS:
        raise ValueError(f"optim.name={optim.name!r}: choose one of {', '.join(OPTIMIZERS)}")

    def lr_of(value: float) -> float:
        return scaled_lr(value, global_batch, 1, optim.scale_lr_by_batch)

    lr = lr_of(optim.lr)
    groups = param_groups(model, lr, optim.weight_decay, optim.exclude_bias_and_norm,
                          None if optim.excluded_lr is None else lr_of(optim.excluded_lr), tuple(optim.fixed_lr_params))
    if optim.name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=tuple(optim.betas), weight_decay=optim.weight_decay)
    if optim.name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=optim.momentum, weight_decay=optim.weight_decay)
    return LARS(groups, lr=lr, momentum=optim.momentum, weight_decay=optim.weight_decay, eta=optim.lars_eta,
                mode=optim.lars_mode, clip=optim.lars_clip)


def build_schedule(optimizer: torch.optim.Optimizer, optim: DictConfig, steps_per_epoch: int,
                   total: int) -> torch.optim.lr_scheduler.LambdaLR | None:
    """Per-step LambdaLR, or None for a constant rate without warm-up."""
    if optim.schedule not in ("constant", "cosine"):
        raise ValueError(f"optim.schedule={optim.schedule!r}: choose constant or cosine")
    if optim.schedule == "constant" and not optim.warmup_epochs:
        return None
    scheduled = partial(lr_multiplier, total=total, warmup=int(optim.warmup_epochs * steps_per_epoch),
                        cosine=optim.schedule == "cosine", warmup_start_ratio=optim.warmup_start_ratio,
                        final_ratio=optim.final_lr_ratio)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, [_constant if group.get("fixed_lr") else scheduled for group in optimizer.param_groups])


def _constant(step: int) -> float:
    return 1.0
