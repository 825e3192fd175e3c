"""Start a method from another run's checkpoint: AVID+CMA begins where AVID ended.

What carries over is what CMA needs from AVID (official AVID-CMA does the same): the encoders and
heads, both memory banks (the positive sets are searched in them) and the frozen partition
function Z. Optimiser, sampler RNG and epoch counters start fresh. The checkpoint's instance
index → video map must equal this run's, or memory row i would describe another video.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

CARRIED = ("encoders.", "heads.", "banks.", "partition.")


def init_from_checkpoint(method: nn.Module, path: str | Path, instance_paths: list[str]) -> list[str]:
    """Load the carried parts of `method` from the avssl checkpoint at `path`; returns the keys loaded."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"method.cma.init_from={str(path)!r}: no such checkpoint (an avssl AVID run's "
                                "checkpoints/last.ckpt)")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if "state_dict" not in checkpoint:
        raise ValueError(f"{path}: not an avssl training checkpoint (no 'state_dict'); official AVID-CMA "
                         "releases are loaded with avssl.models.load_avid_cma_checkpoint")
    saved_paths = checkpoint.get("avssl", {}).get("instance_paths")
    if saved_paths is not None and list(saved_paths) != list(instance_paths):
        raise ValueError(f"{path}: its instance index → video map differs from this run's manifest "
                         f"({len(saved_paths)} vs {len(instance_paths)} videos, or another order); train CMA "
                         "on the manifest AVID was trained on")
    source = {k[len("method."):]: v for k, v in checkpoint["state_dict"].items() if k.startswith("method.")}
    wanted = [k for k in method.state_dict() if k.startswith(CARRIED)]
    missing = [k for k in wanted if k not in source]
    if missing:
        raise ValueError(f"{path}: lacks {len(missing)} entries this method needs, e.g. {missing[:5]}; was it "
                         "trained with the same model.* settings?")
    mismatched = [f"{k}: {tuple(source[k].shape)} vs {tuple(method.state_dict()[k].shape)}" for k in wanted
                  if source[k].shape != method.state_dict()[k].shape]
    if mismatched:
        raise ValueError(f"{path}: shapes differ from this run's model: {mismatched[:5]}")
    method.load_state_dict({k: source[k] for k in wanted}, strict=False)
    return wanted
