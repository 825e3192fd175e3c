"""A tiny image-method training config for tests: a shipped demo recipe shrunk to a few seconds."""

from __future__ import annotations

from pathlib import Path

from avssl.config import load_config

CONFIGS = Path(__file__).parents[1] / "configs"


def image_config(manifest: Path, out_dir: Path, method: str, name: str, *overrides: str):
    """configs/<method>/demo.yaml shrunk to a few seconds: 16 frames, batch 4, tiny widths."""
    small = ["model.projector.hidden_dims=[32]", "model.projector.out_dim=16"]
    if method in ("byol", "simsiam"):
        small.append("model.predictor.hidden_dims=[8]")
    if method in ("swav", "seer"):
        small.append("method.swav.num_prototypes=10")
    return load_config(CONFIGS / method / "demo.yaml", [
        f"data.manifest={manifest}", "data.batch_size=4", "data.num_workers=0", "data.images.frames_per_video=4",
        "model.image_kwargs={out_dim: 16, width: 4}", *small, f"run.out_dir={out_dir}", f"run.name={name}",
        "train.max_epochs=2", "train.checkpoint_every_n_steps=1", "train.progress_bar=false",
        "train.log_every_n_steps=1", *overrides])
