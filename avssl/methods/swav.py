"""SwAV: swapping assignments between views (Caron et al., "Unsupervised Learning of Visual Features
by Contrasting Cluster Assignments", NeurIPS 2020), and SEER, SwAV at scale (Goyal et al., 2021).

Step (Sec. 3.1, Algorithm 1 of the appendix):
  1. crops → encoder (crops of one resolution in one call) → projector (all crops in one call: its
     BatchNorm sees every crop, as in the official code) → z, L2-normalised;
  2. scores s = z·C against K prototypes C (a bias-free linear layer whose rows are kept unit-norm:
     renormalised at construction and after every optimiser step);
  3. for each assigned crop t (the two large crops), codes q_t = Sinkhorn(s_t) without gradient
     (`avssl.core.sinkhorn`: ε 0.05, 3 iterations, sums all-reduced under DDP), optionally over the
     feature queue's rows scored against the current prototypes followed by the batch (Sec. 4.3);
  4. loss = swapped prediction of every q_t from every other crop (`avssl.core.swav_loss`, τ 0.1).

Prototypes are frozen (their gradient dropped) for the first `freeze_prototypes_steps` optimiser
steps: at the start the assignments are uninformative and moving the prototypes then only makes
training unstable (official code: 313 iterations at batch 4096). The queue (length 3840 for batch
256 in the official small-batch recipe) starts filling at `queue_start_epoch` and is used once full,
as in the official code, which otherwise includes its zero rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from avssl.core.queue import Queue
from avssl.core.sinkhorn import sinkhorn
from avssl.core.swav import swav_loss
from avssl.methods.image_method import VIEW, ImageMethod

__all__ = ["SwAV"]


class SwAV(ImageMethod):
    """SwAV over multi-crop views (module docstring).

    Args:
        encoders, heads: "image" encoder and projector (SwAV: 2048-2048-128 with BN; SEER: 8192-8192-256 without).
        num_prototypes: K (3000 SwAV, 16000 SEER).
        temperature: τ of the swapped prediction (0.1).
        sinkhorn_eps, sinkhorn_iters: ε and iterations of Sinkhorn (0.05 / 3 SwAV, 0.03 / 10 SEER).
        assigned_views: the first this many views get codes (the two large crops).
        freeze_prototypes_steps: optimiser steps with the prototypes frozen.
        queue_length: rows of the feature queue per assigned crop (0: no queue).
        queue_start_epoch: first epoch that fills the queue.
    """

    num_views = (2, None)

    def __init__(self, encoders: nn.ModuleDict, heads: nn.ModuleDict, num_prototypes: int = 3000,
                 temperature: float = 0.1, sinkhorn_eps: float = 0.05, sinkhorn_iters: int = 3,
                 assigned_views: int = 2, freeze_prototypes_steps: int = 313, queue_length: int = 0,
                 queue_start_epoch: int = 15) -> None:
        super().__init__(encoders, heads)
        if num_prototypes < 1 or assigned_views < 1 or freeze_prototypes_steps < 0 or queue_length < 0:
            raise ValueError(f"SwAV: need num_prototypes >= 1, assigned_views >= 1, freeze_prototypes_steps >= 0 "
                             f"and queue_length >= 0; got {num_prototypes}, {assigned_views}, "
                             f"{freeze_prototypes_steps}, {queue_length}.")
        embed_dim = int(self.heads[VIEW].out_dim)
        self.prototypes = nn.Linear(embed_dim, num_prototypes, bias=False)
        self.temperature = float(temperature)
        self.sinkhorn_eps = float(sinkhorn_eps)
        self.sinkhorn_iters = int(sinkhorn_iters)
        self.assigned_views = int(assigned_views)
        self.freeze_prototypes_steps = int(freeze_prototypes_steps)
        self.queue_start_epoch = int(queue_start_epoch)
        self.queues = nn.ModuleList([Queue(queue_length, embed_dim) for _ in range(assigned_views)]
                                    if queue_length else [])
        self.register_buffer("epoch", torch.tensor(0, dtype=torch.int64))
        self.normalize_prototypes()

    @torch.no_grad()
    def normalize_prototypes(self) -> None:
        weight = self.prototypes.weight
        weight.copy_(F.normalize(weight, dim=1))

    @property
    def filling_queue(self) -> bool:
        return bool(self.queues) and int(self.epoch) >= self.queue_start_epoch

    def forward(self, batch: Mapping) -> dict[str, torch.Tensor]:
        views = self.views(batch)
        if len(views) < self.assigned_views:
            raise ValueError(f"SwAV: {len(views)} views, fewer than assigned_views={self.assigned_views}.")
        b = views[0].shape[0]
        z = F.normalize(self.heads[VIEW](torch.cat(self.encode(views, group_by_size=True))), dim=1)
        scores = self.prototypes(z).split(b)
        with torch.no_grad():
            codes = []
            for t in range(self.assigned_views):
                s = scores[t].detach()
                if self.filling_queue and self.queues[t].is_full:
                    s = torch.cat([self.prototypes(self.queues[t].local_share().to(s.dtype)), s])
                codes.append(sinkhorn(s, self.sinkhorn_eps, self.sinkhorn_iters)[-b:])
            if self.filling_queue:
                for t, queue in enumerate(self.queues):
                    queue.push(z[t * b:(t + 1) * b].detach())
        return {"loss": swav_loss(scores, codes, self.temperature)}

    # --- training hooks (called by avssl.train.lightning_module.SSLModule) ----------------------
    def on_train_epoch_start(self, epoch: int, progress: bool = False) -> dict[str, float]:
        self.epoch.fill_(int(epoch))
        return {}

    def on_before_optimizer_step(self, step: int) -> None:
        """Freeze the prototypes for the first steps: no gradient, so no update, momentum or decay."""
        if step < self.freeze_prototypes_steps:
            self.prototypes.weight.grad = None

    def on_after_optimizer_step(self, step: int, total_steps: int) -> dict[str, float]:
        self.normalize_prototypes()
        return {}

    def extra_repr(self) -> str:
        return (f"num_prototypes={self.prototypes.out_features}, temperature={self.temperature}, "
                f"sinkhorn_eps={self.sinkhorn_eps}, sinkhorn_iters={self.sinkhorn_iters}, "
                f"assigned_views={self.assigned_views}, freeze_prototypes_steps={self.freeze_prototypes_steps}, "
                f"queue_length={self.queues[0].size if self.queues else 0}, queue_start_epoch={self.queue_start_epoch}")
