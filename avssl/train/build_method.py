"""Config → method: encoders and heads from the model registry, composed by the method class. AVID and
AVID+CMA are built here; the image methods in avssl.train.build_image_method."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf
from torch import nn

from avssl import models
from avssl.core.nce import PartitionFunction
from avssl.core.search_spec import SearchSpec
from avssl.methods.av_memory_method import MODALITIES, AVMemoryMethod
from avssl.methods.avid import AVID, AVID_VARIANTS
from avssl.methods.avid_cma import AVIDCMA, CMAWeights
from avssl.methods.image_method import ImageMethod
from avssl.train.build_image_method import IMAGE_METHODS, build_image_method

METHODS = ("avid", "avid_cma", *IMAGE_METHODS)


def _encoders_and_heads(config: DictConfig) -> tuple[nn.ModuleDict, nn.ModuleDict]:
    kwargs = {m: OmegaConf.to_container(config.model[f"{m}_kwargs"]) for m in MODALITIES}
    encoders = nn.ModuleDict({m: models.create(config.model[m], **kwargs[m]) for m in MODALITIES})
    heads = nn.ModuleDict({  # every registered encoder states its feature size as out_dim
        m: models.create("mlp_head", in_dim=int(encoders[m].out_dim), hidden_dims=tuple(config.model.head_hidden),
                         out_dim=config.model.embed_dim)
        for m in MODALITIES
    })
    return encoders, heads


def _shared_kwargs(config: DictConfig, num_instances: int) -> dict:
    method = config.method
    encoders, heads = _encoders_and_heads(config)
    return {"encoders": encoders, "heads": heads, "num_instances": num_instances,
            "embed_dim": config.model.embed_dim, "temperature": method.temperature,
            "num_negatives": method.num_negatives, "momentum": method.momentum,
            "partition": PartitionFunction(method.partition, method.partition_value), "seed": config.run.seed}


def build_avid(config: DictConfig, num_instances: int) -> AVID:
    """AVID with `config.model` encoders/heads and `config.method` settings."""
    if config.method.variant not in AVID_VARIANTS:
        raise ValueError(f"method.variant={config.method.variant!r}: choose one of {', '.join(AVID_VARIANTS)}")
    return AVID.variant(config.method.variant, **_shared_kwargs(config, num_instances))


def build_avid_cma(config: DictConfig, num_instances: int) -> AVIDCMA:
    """AVID+CMA with `config.method.cma` settings (weights from an AVID checkpoint: init_from_checkpoint)."""
    cma = config.method.cma
    return AVIDCMA(weights=CMAWeights(**OmegaConf.to_container(cma.weights)), num_positives=cma.num_positives,
                   agreement=cma.agreement, resample_every=cma.resample_every,
                   num_negatives_within=cma.num_negatives_within, partition_per_term=cma.partition_per_term,
                   search=SearchSpec(**OmegaConf.to_container(cma.search)), **_shared_kwargs(config, num_instances))


def build_method(config: DictConfig, num_instances: int) -> AVMemoryMethod | ImageMethod:
    """The method `config.method.name` names (`num_instances` sizes AVID's memory banks)."""
    if config.method.name in IMAGE_METHODS:
        return build_image_method(config)
    builders = {"avid": build_avid, "avid_cma": build_avid_cma}
    if config.method.name not in builders:
        raise ValueError(f"method.name={config.method.name!r}: choose one of {', '.join(METHODS)}")
    return builders[config.method.name](config, num_instances)
