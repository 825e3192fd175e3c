"""Typed schemas of the `model:`, `method:`, `optim:` and `train:` config sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avssl.core.search_spec import SearchSpec
from avssl.methods.avid_cma import CMAWeights


@dataclass
class ModelConfig:
    """Encoders by registry name (`avssl.models.create`) and the projection heads."""

    video: str = "avid_r2plus1d_18"
    video_kwargs: dict[str, Any] = field(default_factory=dict)
    audio: str = "avid_audio_conv2d"
    audio_kwargs: dict[str, Any] = field(default_factory=dict)
    head_hidden: list[int] = field(default_factory=lambda: [512, 512])  # AVID: 512-512-128
    embed_dim: int = 128


@dataclass
class CMAConfig:
    """AVID+CMA (Morgado et al., CVPR 2021, Sec. 4); release values by default."""

    init_from: str | None = None  # an AVID checkpoint (avssl train): weights, memory banks and Z
    num_positives: int = 32
    agreement: str = "consensus"  # consensus | union | video | audio
    resample_every: int = 5  # epochs between positive-set recomputations
    num_negatives_within: int = 64
    weights: CMAWeights = field(default_factory=CMAWeights)
    search: SearchSpec = field(default_factory=SearchSpec)


@dataclass
class MethodConfig:
    """`name` avid | avid_cma. AVID (Morgado et al., CVPR 2021): `variant` cross | self | joint;
    paper values by default. `cma` is read by avid_cma only."""

    name: str = "avid"
    variant: str = "cross"
    temperature: float = 0.07
    num_negatives: int = 1024
    momentum: float = 0.5
    partition: str = "first_batch"  # first_batch (estimate on the first batch, then frozen) | fixed
    partition_value: float | None = None  # Z for partition=fixed
    cma: CMAConfig = field(default_factory=CMAConfig)


@dataclass
class OptimConfig:
    """AVID recipes: Adam, weight decay 1e-5, constant learning rate."""

    name: str = "adam"
    lr: float = 2e-4
    weight_decay: float = 1e-5
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    schedule: str = "constant"  # constant | cosine
    warmup_epochs: float = 0.0


@dataclass
class TrainConfig:
    """Lightning trainer settings; `resume` is a checkpoint path or "last"."""

    max_epochs: int = 1
    max_steps: int = -1
    accelerator: str = "auto"
    devices: Any = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "32-true"
    gradient_clip_val: float | None = None
    log_every_n_steps: int = 10
    checkpoint_every_n_steps: int | None = None
    resume: str | None = None
    progress_bar: bool = True
