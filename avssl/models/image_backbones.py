"""Image encoders from torchvision: ResNet-18/50 and RegNetY (SEER), randomly initialised
(nothing is downloaded), classifier removed, `out_dim` = the pooled feature size.

State-dict keys are torchvision's minus `fc.*`, so an exported trunk loads into
`torchvision.models.resnet50()` with `strict=False` (only the classifier is missing).

Activation checkpointing (`activation_checkpointing=True`, SEER Sec. 3.2): each residual block's
activations are recomputed in the backward pass instead of stored, trading ~30 % more compute for
memory that no longer grows with depth. The blocks keep their names (a checkpointing container
replaces each stage), so checkpoints are interchangeable with and without it. One side effect,
as in every recompute scheme: BatchNorm running statistics are updated twice per step (forward
and recompute); they are not used by training, only by evaluation in eval mode.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint
from torchvision import models as tv
from torchvision.models.regnet import BlockParams, RegNet

__all__ = ["IMAGE_BACKBONES", "CheckpointedSequential", "image_backbone", "seer_regnet_y_256gf"]


def seer_regnet_y_256gf(**kwargs) -> RegNet:
    """SEER's 1.3B-parameter RegNetY-256GF (Goyal et al., 2021): depth 27, w_0 640, w_a 230.83, w_m 2.53,
    group width 373, squeeze-excitation 0.25 (VISSL configs/config/pretrain/swav/models/regnet256Gf_1.yaml);
    stage widths 746, 1492, 4103, 10444, so its SwAV head starts at 10444 as in the paper."""
    with torch.device("cpu"):  # the widths are computed with tensors: keep that off a meta-device context
        params = BlockParams.from_init_params(depth=27, w_0=640, w_a=230.83, w_m=2.53, group_width=373,
                                              se_ratio=0.25)
    return RegNet(params, **kwargs)


IMAGE_BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "resnet18": tv.resnet18,
    "resnet50": tv.resnet50,
    **{f"regnet_y_{size}": getattr(tv, f"regnet_y_{size}")
       for size in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf", "128gf")},
    "regnet_y_256gf": seer_regnet_y_256gf,
}

# Where each family keeps its residual stages (nn.Sequential of blocks).
_STAGES = {"resnet": ("layer1", "layer2", "layer3", "layer4"),
           "regnet": ("trunk_output.block1", "trunk_output.block2", "trunk_output.block3", "trunk_output.block4")}


class CheckpointedSequential(nn.Sequential):
    """nn.Sequential whose children run under activation checkpointing while gradients are needed."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self:
            x = checkpoint(block, x, use_reentrant=False) if torch.is_grad_enabled() else block(x)
        return x


def image_backbone(name: str, activation_checkpointing: bool = False, **kwargs) -> nn.Module:
    """The torchvision network `name` (weights=None; `kwargs` go to its builder, e.g.
    zero_init_residual=True) with `fc` replaced by Identity: forward (B, 3, H, W) → (B, out_dim)."""
    if name not in IMAGE_BACKBONES:
        raise ValueError(f"unknown image backbone {name!r}; valid: {', '.join(IMAGE_BACKBONES)}")
    if "weights" in kwargs:
        raise ValueError("image backbones are built with weights=None: nothing is downloaded at run time")
    model = IMAGE_BACKBONES[name](**kwargs) if name == "regnet_y_256gf" else IMAGE_BACKBONES[name](weights=None, **kwargs)
    model.out_dim = int(model.fc.in_features)
    model.fc = nn.Identity()
    if activation_checkpointing:
        for path in _STAGES["resnet" if name.startswith("resnet") else "regnet"]:
            parent_path, _, leaf = path.rpartition(".")
            parent = model.get_submodule(parent_path) if parent_path else model
            setattr(parent, leaf, CheckpointedSequential(OrderedDict(getattr(parent, leaf).named_children())))
    return model
