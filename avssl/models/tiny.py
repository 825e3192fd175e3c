"""Tiny video, audio and image encoders for CPU demos and tests (a few hundred thousand parameters).

They share the AVID nets' interface: ``forward(x)`` -> ``(B, out_dim)`` max-pooled features,
``forward(x, return_stages=True)`` -> dict with ``conv1``, ``conv2x`` .. ``conv5x``, ``pool``,
and an ``out_dim`` attribute. Each stage is one conv + BN (or, with batch_norm=False, a biased conv: per-rank BN statistics
would make a CPU DDP run differ from one process, and SyncBatchNorm needs CUDA) + ReLU; the last stage has
``out_dim`` channels. Sized for 8x32x32 clips, (1, 200, 257) or smaller spectrograms and 32x32 to 96x96
images. The image net average-pools, as ResNets do (the image methods' heads expect mean features).
"""

from __future__ import annotations

import torch
from torch import nn

STAGE_NAMES = ("conv1", "conv2x", "conv3x", "conv4x", "conv5x", "pool")


def _conv_bn_relu(conv: nn.Module, bn: nn.Module, batch_norm: bool = True) -> nn.Sequential:
    return nn.Sequential(conv, bn if batch_norm else nn.Identity(), nn.ReLU(inplace=True))


class _TinyEncoder(nn.Module):
    stage_names = STAGE_NAMES
    _input_ndim = 0
    _in_channels = 0

    def forward(self, x: torch.Tensor, return_stages: bool = False):
        if x.dim() != self._input_ndim or x.shape[1] != self._in_channels:
            raise ValueError(
                f"{type(self).__name__} expects a {self._input_ndim}D input with {self._in_channels} "
                f"channel(s), got {tuple(x.shape)}"
            )
        stages = {}
        for name in STAGE_NAMES[:-1]:
            x = getattr(self, name)(x)
            stages[name] = x
        stages["pool"] = self.pool(x).flatten(1)
        return stages if return_stages else stages["pool"]


class TinyVideoNet(_TinyEncoder):
    """3D ConvNet: 8x32x32 -> conv1 8x16x16 -> conv3x 4x8x8 -> conv4x 2x4x4 -> conv5x 1x2x2."""

    _input_ndim = 5
    _in_channels = 3

    def __init__(self, out_dim: int = 128, width: int = 16, batch_norm: bool = True):
        super().__init__()
        c = (width, width, 2 * width, 4 * width, out_dim)
        self.conv1 = _conv_bn_relu(
            nn.Conv3d(3, c[0], (3, 5, 5), stride=(1, 2, 2), padding=(1, 2, 2), bias=not batch_norm),
            nn.BatchNorm3d(c[0]), batch_norm,
        )
        strides = ((1, 1, 1), (2, 2, 2), (2, 2, 2), (2, 2, 2))
        for i, (name, stride) in enumerate(zip(STAGE_NAMES[1:5], strides)):
            conv = nn.Conv3d(c[i], c[i + 1], 3, stride=stride, padding=1, bias=not batch_norm)
            setattr(self, name, _conv_bn_relu(conv, nn.BatchNorm3d(c[i + 1]), batch_norm))
        self.pool = nn.AdaptiveMaxPool3d(1)
        self.out_dim = out_dim


class TinyAudioNet(_TinyEncoder):
    """2D ConvNet: (1, 200, 257) -> conv1 100x129 -> ... -> conv5x 7x9 (strides 2 everywhere)."""

    _input_ndim = 4
    _in_channels = 1

    def __init__(self, out_dim: int = 128, width: int = 16, batch_norm: bool = True):
        super().__init__()
        c = (width, 2 * width, 4 * width, 8 * width, out_dim)
        self.conv1 = _conv_bn_relu(nn.Conv2d(1, c[0], 7, stride=2, padding=3, bias=not batch_norm),
                                   nn.BatchNorm2d(c[0]), batch_norm)
        for i, name in enumerate(STAGE_NAMES[1:5]):
            conv = nn.Conv2d(c[i], c[i + 1], 3, stride=2, padding=1, bias=not batch_norm)
            setattr(self, name, _conv_bn_relu(conv, nn.BatchNorm2d(c[i + 1]), batch_norm))
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.out_dim = out_dim


class TinyImageEncoder(_TinyEncoder):
    """2D ConvNet for (3, H, W) images: 32x32 -> conv1 16x16 -> conv3x 8x8 -> conv4x 4x4 -> conv5x 2x2."""

    _input_ndim = 4
    _in_channels = 3

    def __init__(self, out_dim: int = 128, width: int = 16, batch_norm: bool = True):
        super().__init__()
        c = (width, width, 2 * width, 4 * width, out_dim)
        self.conv1 = _conv_bn_relu(nn.Conv2d(3, c[0], 5, stride=2, padding=2, bias=not batch_norm),
                                   nn.BatchNorm2d(c[0]), batch_norm)
        for i, (name, stride) in enumerate(zip(STAGE_NAMES[1:5], (1, 2, 2, 2))):
            conv = nn.Conv2d(c[i], c[i + 1], 3, stride=stride, padding=1, bias=not batch_norm)
            setattr(self, name, _conv_bn_relu(conv, nn.BatchNorm2d(c[i + 1]), batch_norm))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.out_dim = out_dim
