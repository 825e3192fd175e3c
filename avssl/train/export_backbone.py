"""`avssl export`: a plain backbone state dict from an avssl or an official AVID-CMA checkpoint,
for fine-tuning code that knows nothing of avssl (keys as in `avssl.models.create(name)`)."""

from __future__ import annotations

from pathlib import Path

import torch

from avssl.atomic_io import atomic_path
from avssl.models.official_checkpoint import export_backbone_state_dict, load_avid_cma_checkpoint


def backbone_state_dict(checkpoint_path: str | Path, modality: str) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    if "avssl" in checkpoint:  # written by `avssl train`
        prefix = f"method.encoders.{modality}."
        state = {k[len(prefix):]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
        if not state:
            raise ValueError(f"{checkpoint_path}: no '{modality}' encoder in this checkpoint (keys start with "
                             f"{sorted({k.split('.')[2] for k in checkpoint['state_dict'] if k.startswith('method.encoders.')})})")
        return state
    return export_backbone_state_dict(load_avid_cma_checkpoint(checkpoint_path), modality)


def export_backbone(checkpoint_path: str | Path, modality: str, out: str | Path) -> Path:
    with atomic_path(out) as tmp:
        torch.save(backbone_state_dict(checkpoint_path, modality), tmp)
    return Path(out)
