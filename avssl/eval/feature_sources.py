"""Where features come from: one encoder (and its projection head) per modality name.

A `FeatureSource` reads `batch[input_key]` and returns the requested stages as (B, D) vectors:

- `pool`: the encoder's own pooled output (AVID nets: global max pool of conv5x, 512-d);
- `projection`: the head applied to it, L2-normalised (the embedding the contrastive loss sees);
- `conv1`, `conv2x` .. `conv5x`: feature maps from `encoder(x, return_stages=True)`, pooled by a
  `StagePooling` and flattened.

Video and audio sources come from AVID checkpoints; an image method adds a source for "image"
(its encoder under `encoders["image"]`, batches `{"image": (B, 3, H, W), ...}`) with no other change.
Encoders without `return_stages` (e.g. torchvision backbones) offer `pool` and `projection` only.

Image encoders on video data: a source with `middle_frame=True` feeds its 2-D encoder the middle
frame `x[:, :, T // 2]` of each (B, C, T, H, W) clip (the frame `ClipMedia.middle_frame` shows), so
an image model's "video" feature of a clip is its feature of that frame; video-level features are
then the mean over a video's clips, as for every source. `EvalModel.source("video")` builds such a
source for a checkpoint whose only encoder is "image".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

POOLED_STAGES = ("pool", "projection")
POOL_OPS = ("max", "avg")


def _grid(size, what: str) -> tuple[int, ...] | None:
    if size is None:
        return None
    size = tuple(int(s) for s in size)
    if not size or any(s < 1 for s in size):
        raise ValueError(f"{what}={list(size)} must be positive integers (or null for global pooling)")
    return size


@dataclass(frozen=True)
class StagePooling:
    """How a feature map (B, C, *spatial) becomes a vector: adaptive `op` pooling to a grid (one
    entry per spatial axis; None = global, giving C values), then flatten. The grid is
    `per_stage[stage]` where given, else `size`: the official Kinetics linear probe pools video
    conv2x..conv5x to (1,12,12), (1,8,8), (1,6,6), (1,4,4) with max; ESC-50 pools audio conv5x to
    (4,4) with avg."""

    op: str = "max"
    size: tuple[int, ...] | None = None
    per_stage: tuple[tuple[str, tuple[int, ...]], ...] = ()  # also accepts a {stage: size} mapping

    def __post_init__(self) -> None:
        if self.op not in POOL_OPS:
            raise ValueError(f"stage pooling op={self.op!r}: choose one of {', '.join(POOL_OPS)}")
        object.__setattr__(self, "size", _grid(self.size, "stage pooling size"))
        items = self.per_stage.items() if isinstance(self.per_stage, Mapping) else self.per_stage
        object.__setattr__(self, "per_stage", tuple(sorted(
            (str(stage), _grid(size, f"stage pooling size of {stage}")) for stage, size in items)))

    def size_for(self, stage: str | None) -> tuple[int, ...] | None:
        return dict(self.per_stage).get(stage, self.size)

    def __call__(self, feature_map: torch.Tensor, where: str, stage: str | None = None) -> torch.Tensor:
        spatial = feature_map.ndim - 2
        if spatial not in (1, 2, 3):
            raise ValueError(f"{where}: expected a (B, C, ...) feature map, got shape {tuple(feature_map.shape)}")
        size = self.size_for(stage) or (1,) * spatial
        if len(size) != spatial:
            raise ValueError(f"{where}: pooling size {size} has {len(size)} axes but the map {tuple(feature_map.shape)} "
                             f"has {spatial} spatial axes; give {spatial} numbers")
        pool = getattr(F, f"adaptive_{self.op}_pool{spatial}d")
        return pool(feature_map, size).flatten(1)


GLOBAL_MAX_POOL = StagePooling()  # what the AVID encoders' own `pool` stage does


def middle_frame(clips: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) clips -> (B, C, H, W), frame T // 2 of each."""
    if clips.ndim != 5:
        raise ValueError(f"middle_frame expects (B, C, T, H, W) clips, got shape {tuple(clips.shape)}")
    return clips[:, :, clips.shape[2] // 2]


@dataclass
class FeatureSource:
    """Features of one modality; `input_key` defaults to the modality name. `middle_frame`: the
    encoder is 2-D and sees the middle frame of each clip of `batch[key]` (module docstring)."""

    modality: str
    encoder: nn.Module
    head: nn.Module | None = None
    input_key: str | None = None
    middle_frame: bool = False

    @property
    def key(self) -> str:
        return self.input_key or self.modality

    def inputs(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """What the encoder sees of `batch`."""
        x = batch[self.key]
        return middle_frame(x) if self.middle_frame else x

    def pooled(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(B, D) pooled encoder features, with gradients where enabled (fine-tuning)."""
        return self.encoder(self.inputs(batch)).flatten(1)

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
        x = self.inputs(batch)
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
                result[stage] = pooling(outputs[stage], f"{self.modality}/{stage}", stage)
        return result

    def modules(self) -> list[nn.Module]:
        return [m for m in (self.encoder, self.head) if m is not None]
