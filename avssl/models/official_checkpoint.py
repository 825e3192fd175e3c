"""Load the checkpoints released with the official AVID-CMA code.

A release file (e.g. ``AVID_Kinetics_Cross-N1024_checkpoint.pth.tar``) is a dict with
``epoch``, ``model``, ``optimizer`` and ``train_criterion``; ``model`` is the state dict of the
audio-visual wrapper inside ``nn.DataParallel``::

    module.video_model.conv1.0.weight               R(2+1)D stem
    module.video_model.conv2x.0.spt_conv1.weight    stage conv2x, block 0 (no ".0" at depth 10)
    module.audio_model.block1.conv1.weight          Conv2D audio net
    module.video_proj.projection.{0,2,4}.weight     Linear 512->512->512->128 with ReLU between
    module.audio_proj.projection.{0,2,4}.bias

Our modules use the same names, except that the heads hold ``layers`` rather than
``projection`` and every video stage is a ``Sequential`` (also at depth 10).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from avssl.models.avid_audio import AVIDAudioNet
from avssl.models.avid_video import BLOCKS_PER_STAGE, AVIDVideoNet
from avssl.models.heads import MLP

_MODALITIES = ("video", "audio")
_DEPTH10_STAGE = re.compile(r"^(video_model\.conv[2-5]x)\.(?!\d)")
_DEPTH10_BLOCK0 = re.compile(r"^(video_model\.conv[2-5]x)\.0\.")
_VIDEO_BLOCK = re.compile(r"^video_model\.(conv[2-5]x)\.(\d+)\.")
_HEAD_WEIGHT = re.compile(r"^(video|audio)_proj\.projection\.(\d+)\.weight$")


class OfficialCheckpointError(ValueError):
    """The file is not an AVID-CMA release checkpoint this loader understands."""


class AVIDModel(nn.Module):
    """Video and audio encoders with their projection heads, as trained by AVID / AVID+CMA.

    ``forward(video, audio)`` returns ``(video_emb, audio_emb)``: the unnormalised projections
    (128-d in the releases); the AVID loss L2-normalises them.
    """

    def __init__(self, video_model: nn.Module, audio_model: nn.Module, video_proj: nn.Module,
                 audio_proj: nn.Module):
        super().__init__()
        self.video_model = video_model
        self.audio_model = audio_model
        self.video_proj = video_proj
        self.audio_proj = audio_proj

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.video_proj(self.video_model(video)), self.audio_proj(self.audio_model(audio))


def official_to_avssl_key(key: str, video_depth: int = 18) -> str:
    """``module.video_proj.projection.0.weight`` -> ``video_proj.layers.0.weight``."""
    key = key.removeprefix("module.")
    key = key.replace("_proj.projection.", "_proj.layers.")
    if video_depth == 10:
        key = _DEPTH10_STAGE.sub(r"\1.0.", key)
    return key


def avssl_to_official_key(key: str, video_depth: int = 18) -> str:
    """Inverse of :func:`official_to_avssl_key` (with the DataParallel ``module.`` prefix)."""
    key = key.replace("_proj.layers.", "_proj.projection.")
    if video_depth == 10:
        key = _DEPTH10_BLOCK0.sub(r"\1.", key)
    return "module." + key


def _infer_video_depth(state_dict: dict[str, torch.Tensor], source: str) -> int:
    if any(_DEPTH10_STAGE.match(k) for k in state_dict):
        return 10
    blocks: dict[str, set[int]] = {}
    for key in state_dict:
        match = _VIDEO_BLOCK.match(key)
        if match:
            blocks.setdefault(match.group(1), set()).add(int(match.group(2)))
    counts = tuple(len(blocks.get(f"conv{i}x", ())) for i in range(2, 6))
    for depth, expected in BLOCKS_PER_STAGE.items():
        if counts == expected:
            return depth
    raise OfficialCheckpointError(
        f"{source}: cannot tell the R(2+1)D depth: found {counts} blocks in video_model.conv2x..conv5x, "
        f"expected one of {dict(BLOCKS_PER_STAGE)}"
    )


def _infer_head(state_dict: dict[str, torch.Tensor], modality: str) -> nn.Module:
    weights = {}
    for key, value in state_dict.items():
        match = _HEAD_WEIGHT.match(key)
        if match and match.group(1) == modality:
            weights[int(match.group(2))] = value
    if not weights:  # trained with proj_dim=None: the loss saw the pooled backbone features
        return nn.Identity()
    ordered = [weights[i] for i in sorted(weights)]
    dims = [ordered[0].shape[1]] + [w.shape[0] for w in ordered]
    return MLP(dims)


def _format_keys(keys: list[str], limit: int = 20) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... and {len(keys) - limit} more" if len(keys) > limit else "")


def convert_official_state_dict(state_dict: dict[str, torch.Tensor], source: str = "state dict") -> tuple[
        AVIDModel, dict[str, torch.Tensor]]:
    """Build the matching :class:`AVIDModel` and rename ``state_dict`` to its key layout."""
    plain = {k.removeprefix("module."): v for k, v in state_dict.items()}
    if not any(k.startswith("video_model.") for k in plain) or not any(k.startswith("audio_model.") for k in plain):
        raise OfficialCheckpointError(
            f"{source}: no 'module.video_model.*' and 'module.audio_model.*' keys; this is not an AVID-CMA "
            f"checkpoint (first keys: {_format_keys(sorted(state_dict), 5)})"
        )
    depth = _infer_video_depth(plain, source)
    model = AVIDModel(AVIDVideoNet(depth), AVIDAudioNet(), _infer_head(plain, "video"), _infer_head(plain, "audio"))
    converted = {official_to_avssl_key(k, depth): v for k, v in state_dict.items()}

    expected = model.state_dict()
    # Checkpoints written before BatchNorm had this buffer lack it; it does not affect outputs.
    missing = sorted(k for k in expected if k not in converted and not k.endswith("num_batches_tracked"))
    unexpected = sorted(k for k in converted if k not in expected)
    wrong_shape = sorted(
        f"{avssl_to_official_key(k, depth)} {tuple(v.shape)} (expected {tuple(expected[k].shape)})"
        for k, v in converted.items()
        if k in expected and v.shape != expected[k].shape
    )
    if missing or unexpected or wrong_shape:
        problems = []
        if missing:
            official = [avssl_to_official_key(k, depth) for k in missing]
            problems.append(f"missing keys ({len(missing)}): {_format_keys(official)}")
        if unexpected:
            official = [avssl_to_official_key(k, depth) for k in unexpected]
            problems.append(f"unexpected keys ({len(unexpected)}): {_format_keys(official)}")
        if wrong_shape:
            problems.append(f"shape mismatches ({len(wrong_shape)}): {_format_keys(wrong_shape)}")
        raise OfficialCheckpointError(
            f"{source}: does not match the AVID-CMA model (R(2+1)D-{depth} + Conv2D audio net): "
            + "; ".join(problems)
        )
    return model, converted


def load_avid_cma_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> AVIDModel:
    """Load an official AVID / AVID+CMA release file into an :class:`AVIDModel` in eval mode.

    Depth and head sizes are read from the tensors. Raises :class:`OfficialCheckpointError`
    (a ``ValueError``) naming the missing and unexpected keys if the file does not match.
    """
    path = Path(path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # pickle errors carry no path; add it
        raise OfficialCheckpointError(f"{path}: cannot be read as a torch checkpoint ({exc})") from exc
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("model"), dict):
        state_dict = checkpoint["model"]
    elif isinstance(checkpoint, dict) and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        state_dict = checkpoint  # a bare state dict
    else:
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise OfficialCheckpointError(f"{path}: expected a dict with a 'model' state dict, found {found}")
    model, converted = convert_official_state_dict(state_dict, source=str(path))
    model.load_state_dict(converted, strict=False)  # keys were checked above
    return model.eval()


def export_backbone_state_dict(model: AVIDModel, modality: str) -> dict[str, torch.Tensor]:
    """The plain state dict of the ``"video"`` or ``"audio"`` backbone (no heads, no prefixes)."""
    if modality not in _MODALITIES:
        raise ValueError(f"modality must be one of {_MODALITIES}, got {modality!r}")
    backbone = getattr(model, f"{modality}_model")
    return {k: v.detach().clone() for k, v in backbone.state_dict().items()}
