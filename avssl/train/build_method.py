"""Config → method: encoders and heads from the model registry, composed by the method class."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf
from torch import nn

from avssl import models
from avssl.core.nce import PartitionFunction
from avssl.methods.avid import AVID, AVID_VARIANTS


def _encoder_dim(encoder: nn.Module) -> int:
    return int(encoder.out_dim)  # every registered encoder states its feature size


def build_avid(config: DictConfig, num_instances: int) -> AVID:
    """AVID with `config.model` encoders/heads and `config.method` settings."""
    if config.method.name != "avid":
        raise ValueError(f"method.name={config.method.name!r}: only 'avid' is available yet")
    if config.method.variant not in AVID_VARIANTS:
        raise ValueError(f"method.variant={config.method.variant!r}: choose one of {', '.join(AVID_VARIANTS)}")
    kwargs = {m: OmegaConf.to_container(config.model[f"{m}_kwargs"]) for m in ("video", "audio")}
    encoders = nn.ModuleDict({m: models.create(config.model[m], **kwargs[m]) for m in ("video", "audio")})
    heads = nn.ModuleDict({
        m: models.create("mlp_head", in_dim=_encoder_dim(encoders[m]), hidden_dims=tuple(config.model.head_hidden),
                         out_dim=config.model.embed_dim)
        for m in ("video", "audio")
    })
    method = config.method
    partition = PartitionFunction(method.partition, method.partition_value)
    return AVID.variant(method.variant, encoders=encoders, heads=heads, num_instances=num_instances,
                        embed_dim=config.model.embed_dim, temperature=method.temperature,
                        num_negatives=method.num_negatives, momentum=method.momentum, partition=partition,
                        seed=config.run.seed)
