"""Encoders (AVID video/audio, torchvision image backbones, tiny CPU nets), heads, the name registry
and the official AVID-CMA checkpoint loader."""

from avssl.models.avid_audio import AVIDAudioNet
from avssl.models.avid_video import AVIDVideoNet, R2Plus1DBlock
from avssl.models.heads import MLP, mlp_head
from avssl.models.image_backbones import image_backbone
from avssl.models.official_checkpoint import (
    AVIDModel,
    OfficialCheckpointError,
    export_backbone_state_dict,
    load_avid_cma_checkpoint,
)
from avssl.models.registry import available_models, create, register
from avssl.models.tiny import TinyAudioNet, TinyImageEncoder, TinyVideoNet

__all__ = [
    "MLP",
    "AVIDAudioNet",
    "AVIDModel",
    "AVIDVideoNet",
    "OfficialCheckpointError",
    "R2Plus1DBlock",
    "TinyAudioNet",
    "TinyImageEncoder",
    "TinyVideoNet",
    "available_models",
    "create",
    "export_backbone_state_dict",
    "image_backbone",
    "load_avid_cma_checkpoint",
    "mlp_head",
    "register",
]
