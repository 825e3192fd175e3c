"""Where features come from: one encoder (and its projection head) per modality name.

A `FeatureSource` reads `batch[input_key]` and returns the requested stages as (B, D) vectors:

- `pool`: the encoder's own pooled output (AVID nets: global max pool of conv5x, 512-d);
- `projection`: the head applied to it, L2-normalised (the embedding the contrastive loss sees);
- `conv1`, `conv2x` .. `conv5x`: feature maps from `encoder(x, return_stages=True)`, pooled by a
  `StagePooling` and flattened.

Video and audio sources come from AVID checkpoints; an image method adds a source for "image"
(its encoder under `encoders["image"]`, batches `{"image": (B, 3, H, W), ...}`) with no other change.
Encoders without `return_stages` (e.g. torchvision backbones) offer `pool` and `projection` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

POOLED_STAGES = ("pool", "projection")
POOL_OPS = ("max", "avg")


@dataclass(frozen=True)
class StagePooling:
    """How a feature map (B, C, *spatial) becomes a vector: adaptive `op` pooling to `size` (one
    entry per spatial axis; None = global, giving C values), then flatten. The official linear probes
    pool video conv2x..conv5x to (1,12,12) .. (1,4,4) with max, audio conv5x to (4,4) with avg."""

    op: str = "max"
    size: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.op not in POOL_OPS:
            raise ValueError(f"stage pooling op={self.op!r}: choose one of {', '.join(POOL_OPS)}")
        if self.size is not None:
            object.__setattr__(self, "size", tuple(int(s) for s in self.size))
            if not self.size or any(s < 1 for s in self.size):
                raise ValueError(f"stage pooling size={self.size} must be positive integers (or null for global)")

    def __call__(self, feature_map: torch.Tensor, where: str) -> torch.Tensor:
        spatial = feature_map.ndim - 2
        if spatial not in (1, 2, 3):
            raise ValueError(f"{where}: expected a (B, C, ...) feature map, got shape {tuple(feature_map.shape)}")
        size = self.size or (1,) * spatial
        if len(size) != spatial:
            raise ValueError(f"{where}: pooling size {size} has {len(size)} axes but the map {tuple(feature_map.shape)} "
                             f"has {spatial} spatial axes; give {spatial} numbers")
        pool = getattr(F, f"adaptive_{self.op}_pool{spatial}d")
        return pool(feature_map, size).flatten(1)


GLOBAL_MAX_POOL = StagePooling()  # what the AVID encoders' own `pool` stage does


@dataclass
class FeatureSource:
    """Features of one modality; `input_key` defaults to the modality name."""

    modality: str
    encoder: nn.Module
    head: nn.Module | None = None
    input_key: str | None = None

    @property
    def key(self) -> str:
        return self.input_key or self.modality

    def available_stages(self) -> tuple[str, ...]:
        maps = tuple(getattr(self.encoder, "stage_names", ("pool",)))
        return tuple(dict.fromkeys((*maps, *POOLED_STAGES[: 2 if self.head is not None else 1])))

    def check_stages(self, stages: Sequence[str]) -> None:
        unknown = [s for s in stages if s not in self.available_stages()]
        if unknown:
            raise ValueError(f"{self.modality} encoder ({type(self.encoder).__name__}) has no stage(s) {unknown}; "
                             f"choose from {', '.join(self.available_stages())}")

    def __call__(self, batch: Mapping[str, torch.Tensor], stages: Sequence[str],
                 pooling: StagePooling = GLOBAL_MAX_POOL) -> dict[str, torch.Tensor]:
        """{stage: (B, D)} for `batch[self.key]`, already on the encoder's device."""
        x = batch[self.key]
        maps = [s for s in stages if s not in POOLED_STAGES]
        if maps:
            outputs = self.encoder(x, return_stages=True)
            pooled = outputs["pool"]
        else:
            outputs, pooled = {}, self.encoder(x)
        result = {}
        for stage in stages:
            if stage == "pool":
                result[stage] = pooled.flatten(1)
            elif stage == "projection":
                result[stage] = F.normalize(self.head(pooled), dim=1)
            else:
                result[stage] = pooling(outputs[stage], f"{self.modality}/{stage}")
        return result

    def modules(self) -> list[nn.Module]:
        return [m for m in (self.encoder, self.head) if m is not None]
