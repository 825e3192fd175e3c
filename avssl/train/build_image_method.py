"""Config → image method (SwAV / SEER, BYOL, SimSiam, Barlow Twins): `model.image` encoder from the
registry, `model.projector` (and `model.predictor`) MLPs after it, `method.<name>` settings.

SEER is `swav` with a RegNet (`model.image: regnet_y_256gf`) and the SEER recipe: no method of its own.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf
from torch import nn

from avssl import models
from avssl.methods.barlow_twins import BarlowTwins
from avssl.methods.byol import BYOL
from avssl.methods.image_method import VIEW, ImageMethod
from avssl.methods.simsiam import SimSiam
from avssl.methods.swav import SwAV
from avssl.models.heads import MLP

__all__ = ["IMAGE_METHODS", "build_image_method", "build_mlp"]

IMAGE_METHODS = ("swav", "byol", "simsiam", "barlow_twins")


def build_mlp(spec: DictConfig, in_dim: int, key: str, default_out: int | None = None) -> MLP:
    """The MLP `spec` (a `model.projector` / `model.predictor` section) from `in_dim`; `key` names it in errors."""
    out_dim = spec.out_dim if spec.out_dim is not None else default_out
    if out_dim is None:
        raise ValueError(f"{key}.out_dim is null: set the output size, e.g. {key}.out_dim=128")
    return MLP((in_dim, *spec.hidden_dims, out_dim), batch_norm=spec.batch_norm, last_batch_norm=spec.last_batch_norm,
               last_affine=spec.last_affine, bias=spec.bias)


def _encoder_and_projector(config: DictConfig) -> tuple[nn.ModuleDict, nn.ModuleDict]:
    model = config.model
    encoder = models.create(model.image, **OmegaConf.to_container(model.image_kwargs))
    projector = build_mlp(model.projector, int(encoder.out_dim), "model.projector")
    return nn.ModuleDict({VIEW: encoder}), nn.ModuleDict({VIEW: projector})


def _predictor(config: DictConfig, projector: MLP) -> MLP:
    """projector output → projector output: the cosine losses compare p with z, so the sizes must agree."""
    predictor = build_mlp(config.model.predictor, projector.out_dim, "model.predictor", default_out=projector.out_dim)
    if predictor.out_dim != projector.out_dim:
        raise ValueError(f"model.predictor.out_dim={predictor.out_dim} differs from model.projector.out_dim="
                         f"{projector.out_dim}: {config.method.name} compares the two; set it to null (= the "
                         "projector's) or to the same size")
    return predictor


def build_image_method(config: DictConfig) -> ImageMethod:
    """The image method `config.method.name` names (one of IMAGE_METHODS)."""
    name = config.method.name
    if name not in IMAGE_METHODS:
        raise ValueError(f"method.name={name!r} is not an image method; choose one of {', '.join(IMAGE_METHODS)}")
    encoders, heads = _encoder_and_projector(config)
    if name == "swav":
        return SwAV(encoders, heads, **OmegaConf.to_container(config.method.swav))
    if name == "byol":
        return BYOL(encoders, heads, _predictor(config, heads[VIEW]), tau_base=config.method.byol.tau_base)
    if name == "simsiam":
        return SimSiam(encoders, heads, _predictor(config, heads[VIEW]))
    return BarlowTwins(encoders, heads, lambd=config.method.barlow_twins.lambd)
