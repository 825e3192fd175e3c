"""Name -> constructor registry: ``avssl.models.create("avid_r2plus1d_18")``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

from avssl.models.avid_audio import AVIDAudioNet
from avssl.models.avid_video import AVIDVideoNet
from avssl.models.heads import mlp_head
from avssl.models.image_backbones import IMAGE_BACKBONES, image_backbone
from avssl.models.tiny import TinyAudioNet, TinyImageEncoder, TinyVideoNet

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(name: str, factory: Callable[..., nn.Module]) -> None:
    """Make ``factory(**kwargs)`` available as ``create(name, **kwargs)``."""
    if name in _REGISTRY:
        raise ValueError(f"model name {name!r} is already registered")
    _REGISTRY[name] = factory


def available_models() -> list[str]:
    return sorted(_REGISTRY)


def create(name: str, **kwargs) -> nn.Module:
    """Build the model registered as ``name`` with constructor keyword arguments ``kwargs``."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(available_models())}") from None
    return factory(**kwargs)


register("avid_r2plus1d_10", partial(AVIDVideoNet, depth=10))
register("avid_r2plus1d_18", partial(AVIDVideoNet, depth=18))
register("avid_r2plus1d_34", partial(AVIDVideoNet, depth=34))
register("avid_audio_conv2d", AVIDAudioNet)
register("tiny_video", TinyVideoNet)
register("tiny_audio", TinyAudioNet)
register("tiny_image", TinyImageEncoder)
for _name in IMAGE_BACKBONES:  # torchvision ResNet / RegNetY, weights=None, fc removed
    register(_name, partial(image_backbone, _name))
register("mlp_head", mlp_head)
