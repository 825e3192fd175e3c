"""Typed schemas of the `model:`, `method:`, `optim:` and `train:` config sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avssl.core.search_spec import SearchSpec
from avssl.methods.avid_cma import CMAWeights


@dataclass
class MLPConfig:
    """An `avssl.models.heads.MLP` after the encoder (projector) or the projector (predictor): input size
    from what it follows, then `hidden_dims`, then `out_dim`. `bias` null = only where no BN follows."""

    hidden_dims: list[int] = field(default_factory=lambda: [2048])
    out_dim: int | None = 128  # predictor: null = the projector's out_dim (BYOL, SimSiam need equal sizes)
    batch_norm: bool = True
    last_batch_norm: bool = False
    last_affine: bool = True
    bias: bool | None = None


@dataclass
class ModelConfig:
    """Encoders by registry name (`avssl.models.create`) and the projection heads. AVID reads video,
    audio, head_hidden and embed_dim; the image methods read image, projector and predictor."""

    video: str = "avid_r2plus1d_18"
    video_kwargs: dict[str, Any] = field(default_factory=dict)
    audio: str = "avid_audio_conv2d"
    audio_kwargs: dict[str, Any] = field(default_factory=dict)
    head_hidden: list[int] = field(default_factory=lambda: [512, 512])  # AVID: 512-512-128
    embed_dim: int = 128
    image: str = "resnet50"  # resnet18 | resnet50 | regnet_y_* | regnet_y_256gf (SEER) | tiny_image
    image_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. {activation_checkpointing: true}
    projector: MLPConfig = field(default_factory=MLPConfig)
    predictor: MLPConfig = field(default_factory=lambda: MLPConfig(hidden_dims=[4096], out_dim=None))


@dataclass
class CMAConfig:
    """AVID+CMA (Morgado et al., CVPR 2021, Sec. 4); release values by default."""

    init_from: str | None = None  # an AVID checkpoint (avssl train): weights, memory banks and Z
    num_positives: int = 32
    agreement: str = "consensus"  # consensus | union | video | audio
    resample_every: int = 5  # epochs between positive-set recomputations
    num_negatives_within: int = 64
    partition_per_term: bool = False  # release: one Z from the AVID checkpoint for every term (avid_cma.py)
    weights: CMAWeights = field(default_factory=CMAWeights)
    search: SearchSpec = field(default_factory=SearchSpec)


@dataclass
class SwAVConfig:
    """SwAV (Caron et al., NeurIPS 2020); the paper's ImageNet values by default (avssl.methods.SwAV)."""

    num_prototypes: int = 3000
    temperature: float = 0.1
    sinkhorn_eps: float = 0.05
    sinkhorn_iters: int = 3
    assigned_views: int = 2  # the large crops that get codes
    freeze_prototypes_steps: int = 313  # optimiser steps with the prototypes' gradient dropped
    queue_length: int = 0  # rows per assigned crop; 0 = no queue
    queue_start_epoch: int = 15


@dataclass
class BYOLConfig:
    """BYOL (Grill et al., NeurIPS 2020, Sec. 3.2): τ_base of the cosine EMA schedule."""

    tau_base: float = 0.996


@dataclass
class BarlowTwinsConfig:
    """Barlow Twins (Zbontar et al., ICML 2021, Sec. 2): weight of the off-diagonal term."""

    lambd: float = 0.0051


@dataclass
class MethodConfig:
    """`name` avid | avid_cma | swav | byol | simsiam | barlow_twins (SEER = swav with a RegNet and
    the SEER recipe). AVID (Morgado et al., CVPR 2021): `variant` cross | self | joint; paper values by
    default. `cma` is read by avid_cma only, `swav` / `byol` / `barlow_twins` by that method only."""

    name: str = "avid"
    variant: str = "cross"
    temperature: float = 0.07
    num_negatives: int = 1024
    momentum: float = 0.5
    partition: str = "first_batch"  # first_batch (estimate on the first batch, then frozen) | fixed
    partition_value: float | None = None  # Z for partition=fixed
    cma: CMAConfig = field(default_factory=CMAConfig)
    swav: SwAVConfig = field(default_factory=SwAVConfig)
    byol: BYOLConfig = field(default_factory=BYOLConfig)
    barlow_twins: BarlowTwinsConfig = field(default_factory=BarlowTwinsConfig)


@dataclass
class OptimConfig:
    """`avssl.train.optimizers`: defaults are the AVID recipes (Adam, weight decay 1e-5, constant learning
    rate, one parameter group); the image recipes set the SGD / LARS fields."""

    name: str = "adam"  # adam | sgd | lars
    lr: float = 2e-4  # per 256 images when scale_lr_by_batch
    weight_decay: float = 1e-5
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])  # adam
    momentum: float = 0.9  # sgd, lars
    schedule: str = "constant"  # constant | cosine
    warmup_epochs: float = 0.0
    warmup_start_ratio: float = 0.0  # warm-up starts at this fraction of the base rate
    final_lr_ratio: float = 0.0  # cosine ends at this fraction of the base rate
    scale_lr_by_batch: bool = False  # lr × global batch / 256 (linear scaling rule)
    exclude_bias_and_norm: bool = False  # biases and norm parameters: no weight decay, no LARS adaptation
    excluded_lr: float | None = None  # their learning rate (Barlow Twins); null = lr
    fixed_lr_params: list[str] = field(default_factory=list)  # name prefixes kept at the base lr (SimSiam)
    lars_eta: float = 0.001  # LARS trust coefficient η
    lars_mode: str = "lars"  # lars (BYOL, Barlow Twins) | larc (SwAV, SEER: apex LARC)
    lars_clip: bool = False  # larc: clip the adaptive rate at the global one (SwAV's LARC clip=False)


@dataclass
class TrainConfig:
    """Lightning trainer settings; `resume` is a checkpoint path or "last"."""

    max_epochs: int = 1
    max_steps: int = -1
    accelerator: str = "auto"
    devices: Any = "auto"
    num_nodes: int = 1
    strategy: str = "auto"  # auto | ddp | ddp_spawn | fsdp (SEER) | ...
    sync_batchnorm: bool = False  # BatchNorm statistics over the global batch (the image recipes)
    precision: str = "32-true"
    gradient_clip_val: float | None = None
    log_every_n_steps: int = 10
    checkpoint_every_n_steps: int | None = None
    resume: str | None = None
    progress_bar: bool = True
