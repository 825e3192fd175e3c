"""The AVID audio network: a 10-layer plain 2D ConvNet over log spectrograms.

Conv2d(1, 64, 7, stride 2, no bias) + BN + ReLU, then four non-residual blocks of two
3x3 conv + BN + ReLU (64->64 s2, 64->128 s2, 128->256 s2, 256->512 s1), global **max** pool.
Input ``(B, 1, 200, 257)``: 2 s at 100 frames/s by 257 frequency bins. 4,725,696 parameters.
Submodule names follow the official checkpoints (``conv1.0``, ``block1.conv1``, ...).
"""

from __future__ import annotations

import torch
from torch import nn

# Same keys as the video net so that evaluation code can address stages uniformly:
# conv2x .. conv5x are the outputs of block1 .. block4.
STAGE_NAMES = ("conv1", "conv2x", "conv3x", "conv4x", "conv5x", "pool")


class PlainConv2dBlock(nn.Module):
    """Two 3x3 conv + BN + ReLU, no shortcut; the first conv carries the stride."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(x)))


class AVIDAudioNet(nn.Module):
    """Conv2D-10 audio encoder of AVID / AVID+CMA.

    ``forward(x)`` maps spectrograms ``(B, 1, T, F)`` to ``(B, 512)`` max-pooled features;
    ``forward(x, return_stages=True)`` returns ``conv1``, ``conv2x`` .. ``conv5x`` (outputs of
    ``block1`` .. ``block4``) and ``pool`` (``(B, 512)``).
    """

    stage_names = STAGE_NAMES

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
        )
        self.block1 = PlainConv2dBlock(64, 64, stride=2)
        self.block2 = PlainConv2dBlock(64, 128, stride=2)
        self.block3 = PlainConv2dBlock(128, 256, stride=2)
        self.block4 = PlainConv2dBlock(256, 512)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.out_dim = 512

    def forward(self, x: torch.Tensor, return_stages: bool = False):
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(f"expected spectrograms of shape (B, 1, T, F), got {tuple(x.shape)}")
        stages = {}
        stages["conv1"] = self.conv1(x)
        stages["conv2x"] = self.block1(stages["conv1"])
        stages["conv3x"] = self.block2(stages["conv2x"])
        stages["conv4x"] = self.block3(stages["conv3x"])
        stages["conv5x"] = self.block4(stages["conv4x"])
        stages["pool"] = self.pool(stages["conv5x"]).flatten(1)
        return stages if return_stages else stages["pool"]
