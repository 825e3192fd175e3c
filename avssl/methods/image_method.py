"""What the image methods (SwAV, BYOL, SimSiam, Barlow Twins) share: several augmented views of each
image, one encoder shared by all views, a projection head.

A batch is {"views": [(B, 3, H, W), ...], "index": (B,)} (+ "label"), views of the same B images in
the same order. `embed` gives what kNN and linear evaluation use: the L2-normalised encoder
features of {"image": (B, 3, H, W)} (the projector is a training device; its output transfers worse,
SimCLR Sec. 4.2), so an image checkpoint is evaluated through `method.encoders.image` alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["VIEW", "ImageMethod"]

VIEW = "image"  # the key of the shared encoder and the projector


class ImageMethod(nn.Module):
    """Encoder + projector keyed "image"; subclasses add their objective (and predictor, target, prototypes).

    Args:
        encoders: ModuleDict with "image": (B, 3, H, W) -> (B, C).
        heads: ModuleDict with "image": the projector, (B, C) -> (B, D).
    """

    #: how many views a batch must hold (SwAV: at least its assigned crops; others: exactly two)
    num_views: tuple[int, int | None] = (2, 2)

    def __init__(self, encoders: nn.ModuleDict, heads: nn.ModuleDict) -> None:
        super().__init__()
        for label, modules in (("encoders", encoders), ("heads", heads)):
            if VIEW not in modules:
                raise ValueError(f"{type(self).__name__}: {label} must have the key {VIEW!r}; got {list(modules)}.")
        self.encoders = encoders if isinstance(encoders, nn.ModuleDict) else nn.ModuleDict(encoders)
        self.heads = heads if isinstance(heads, nn.ModuleDict) else nn.ModuleDict(heads)

    def views(self, batch: Mapping) -> list[torch.Tensor]:
        """The batch's views, checked: a list of (B, 3, H, W) tensors with one B, as many as the method takes."""
        views = batch.get("views") if isinstance(batch, Mapping) else None
        low, high = self.num_views
        name = type(self).__name__
        if not isinstance(views, Sequence) or not low <= len(views) <= (high or len(views)):
            wanted = f"{low}" if low == high else f"{low} or more"
            raise ValueError(f"{name}: batch['views'] must be a list of {wanted} image batches; got "
                             f"{type(views).__name__ if not isinstance(views, Sequence) else len(views)}. Use an image "
                             "dataset (avssl.data.image_dataset) with this method's view recipe.")
        shapes = [tuple(v.shape) for v in views]
        if any(len(s) != 4 or s[1] != 3 or s[0] != shapes[0][0] for s in shapes):
            raise ValueError(f"{name}: every view must be (B, 3, H, W) with one B; got {shapes}.")
        return list(views)

    def encode(self, views: Sequence[torch.Tensor], group_by_size: bool = False) -> list[torch.Tensor]:
        """Encoder features per view. `group_by_size` runs consecutive views of one resolution as one
        batch (SwAV's multi-crop forward: fewer, larger calls; BatchNorm sees those crops together)."""
        encoder = self.encoders[VIEW]
        if not group_by_size:
            return [encoder(v) for v in views]
        features: list[torch.Tensor] = []
        start = 0
        while start < len(views):
            stop = start + 1
            while stop < len(views) and views[stop].shape[-2:] == views[start].shape[-2:]:
                stop += 1
            features.extend(encoder(torch.cat(views[start:stop])).split(views[start].shape[0]))
            start = stop
        return features

    def embed(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """{"image": (B, C)} L2-normalised encoder features of batch["image"] (else of the first view)."""
        images = batch["image"] if "image" in batch else self.views(batch)[0]
        return {VIEW: F.normalize(self.encoders[VIEW](images), dim=1)}
