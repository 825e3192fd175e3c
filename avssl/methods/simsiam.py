"""SimSiam: simple siamese networks with a stop-gradient (Chen & He, CVPR 2021, Sec. 3, Algorithm 1).

    L = D(p₁, z₂)/2 + D(p₂, z₁)/2,   D = `avssl.core.negative_cosine` (stop-gradient on z)      (Eq. 4)

z = projector(encoder(view)), p = predictor(z). Projector: three Linear layers of 2048, each
followed by BN, ReLU on the first two, the output BN without affine (Sec. 3 "Baseline settings";
official code); predictor: Linear 2048 → 512 → BN → ReLU → Linear 2048 (a bottleneck, same section).
The predictor's learning rate is not decayed (`optim.fixed_lr_params: [predictor]`; Sec. 4.2, Table 1,
and the official `--fix-pred-lr`), which the paper found better. Without the stop-gradient the
representation collapses (Sec. 4.1).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from avssl.core.negative_cosine import negative_cosine
from avssl.methods.image_method import VIEW, ImageMethod

__all__ = ["SimSiam"]


class SimSiam(ImageMethod):
    """SimSiam (module docstring). Args: encoders, heads ("image" encoder and projector), predictor."""

    def __init__(self, encoders: nn.ModuleDict, heads: nn.ModuleDict, predictor: nn.Module) -> None:
        super().__init__(encoders, heads)
        self.predictor = predictor

    def forward(self, batch: Mapping) -> dict[str, torch.Tensor]:
        z1, z2 = (self.heads[VIEW](f) for f in self.encode(self.views(batch)))
        p1, p2 = self.predictor(z1), self.predictor(z2)
        return {"loss": negative_cosine(p1, z2) / 2 + negative_cosine(p2, z1) / 2}
