"""The AVID video network: R(2+1)D with a full 3D stem (Morgado, Vasconcelos & Misra, CVPR 2021).

This is the network of the official AVID-CMA release, not torchvision's ``r2plus1d_18``:

- the stem is a full 3D convolution (3x7x7, spatial stride 2, no bias) + BN + ReLU, then a
  1x3x3 spatial max pool with stride 2;
- a block factorises each 3x3x3 convolution into a 1x3x3 spatial and a 3x1x1 temporal
  convolution *without* the mid-channel expansion of Tran et al. (2018);
- the second temporal convolution of a block has no BN of its own: BN + ReLU come after the
  residual sum; the shortcut, where the shape changes, is a bias-free 1x1x1 convolution with
  no BN;
- the first block of conv3x, conv4x and conv5x halves time, height and width (the spatial
  stride sits on the first spatial convolution, the temporal stride on the first temporal one);
- features are globally **max** pooled.

Submodule names follow the official checkpoints (``conv1.0``, ``conv2x.0.spt_conv1``, ...), so
a released state dict maps onto this module by renaming its prefixes only. At depth 18 the net
has 15,379,136 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

STAGE_NAMES = ("conv1", "conv2x", "conv3x", "conv4x", "conv5x", "pool")

# Blocks per stage (conv2x .. conv5x) for each supported depth.
BLOCKS_PER_STAGE = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}

STAGE_CHANNELS = (64, 128, 256, 512)


class R2Plus1DBlock(nn.Module):
    """Residual (2+1)D block: [spatial -> temporal] x 2, BN + ReLU after the residual sum."""

    def __init__(self, in_channels: int, out_channels: int, stride: tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        t_stride, h_stride, w_stride = stride
        self.spt_conv1 = nn.Conv3d(
            in_channels, out_channels, (1, 3, 3), stride=(1, h_stride, w_stride), padding=(0, 1, 1), bias=False
        )
        self.spt_bn1 = nn.BatchNorm3d(out_channels)
        self.tmp_conv1 = nn.Conv3d(
            out_channels, out_channels, (3, 1, 1), stride=(t_stride, 1, 1), padding=(1, 0, 0), bias=False
        )
        self.tmp_bn1 = nn.BatchNorm3d(out_channels)
        self.spt_conv2 = nn.Conv3d(out_channels, out_channels, (1, 3, 3), padding=(0, 1, 1), bias=False)
        self.spt_bn2 = nn.BatchNorm3d(out_channels)
        self.tmp_conv2 = nn.Conv3d(out_channels, out_channels, (3, 1, 1), padding=(1, 0, 0), bias=False)
        # Normalises the residual sum, not the main branch alone.
        self.out_bn = nn.BatchNorm3d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        if in_channels != out_channels or any(s != 1 for s in stride):
            self.res_conv = nn.Conv3d(in_channels, out_channels, 1, stride=stride, bias=False)
        else:
            self.res_conv = None

    @property
    def has_projection_shortcut(self) -> bool:
        return self.res_conv is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.spt_bn1(self.spt_conv1(x)))
        y = self.relu(self.tmp_bn1(self.tmp_conv1(y)))
        y = self.relu(self.spt_bn2(self.spt_conv2(y)))
        y = self.tmp_conv2(y)
        shortcut = x if self.res_conv is None else self.res_conv(x)
        return self.relu(self.out_bn(y + shortcut))


def _stage(in_channels: int, out_channels: int, num_blocks: int, downsample: bool) -> nn.Sequential:
    stride = (2, 2, 2) if downsample else (1, 1, 1)
    blocks = [R2Plus1DBlock(in_channels, out_channels, stride)]
    blocks += [R2Plus1DBlock(out_channels, out_channels) for _ in range(num_blocks - 1)]
    return nn.Sequential(*blocks)


class AVIDVideoNet(nn.Module):
    """R(2+1)D-{10,18,34} video encoder of AVID / AVID+CMA.

    ``forward(x)`` maps a clip batch ``(B, 3, T, H, W)`` to ``(B, 512)`` max-pooled features;
    ``forward(x, return_stages=True)`` returns a dict with the output of every stage
    (``conv1``, ``conv2x`` .. ``conv5x`` as 5D maps, ``pool`` as ``(B, 512)``).

    Every stage is an ``nn.Sequential`` of blocks, also at depth 10 (the official depth-10 net
    stores its single block directly, without the ``.0``; ``official_checkpoint`` handles that).
    """

    stage_names = STAGE_NAMES

    def __init__(self, depth: int = 18):
        super().__init__()
        if depth not in BLOCKS_PER_STAGE:
            raise ValueError(f"AVID R(2+1)D depth must be one of {sorted(BLOCKS_PER_STAGE)}, got {depth}")
        self.depth = depth
        self.conv1 = nn.Sequential(
            nn.Conv3d(3, 64, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
        )
        blocks = BLOCKS_PER_STAGE[depth]
        in_channels = 64
        stages = []
        for i, (out_channels, num_blocks) in enumerate(zip(STAGE_CHANNELS, blocks)):
            stages.append(_stage(in_channels, out_channels, num_blocks, downsample=i > 0))
            in_channels = out_channels
        self.conv2x, self.conv3x, self.conv4x, self.conv5x = stages
        self.pool = nn.AdaptiveMaxPool3d(1)
        self.out_dim = 512

    def forward(self, x: torch.Tensor, return_stages: bool = False):
        if x.dim() != 5 or x.shape[1] != 3:
            raise ValueError(f"expected video of shape (B, 3, T, H, W), got {tuple(x.shape)}")
        stages = {}
        stages["conv1"] = self.conv1(x)
        stages["conv2x"] = self.conv2x(stages["conv1"])
        stages["conv3x"] = self.conv3x(stages["conv2x"])
        stages["conv4x"] = self.conv4x(stages["conv3x"])
        stages["conv5x"] = self.conv5x(stages["conv4x"])
        stages["pool"] = self.pool(stages["conv5x"]).flatten(1)
        return stages if return_stages else stages["pool"]


def avid_r2plus1d(depth: int = 18) -> AVIDVideoNet:
    return AVIDVideoNet(depth=depth)
