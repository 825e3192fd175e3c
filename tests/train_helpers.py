"""A tiny AVID training config for tests (tiny encoders, small crops, few negatives), and the
callback DDP tests use to bring each rank's final state back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch

from avssl.config import load_config


class SaveRankState(L.Callback):
    """Each rank writes `state_of(method)` and its per-step losses to FOLDER/rank<r>.pt (ddp_spawn
    returns nothing else). `state_of` must be a module-level function: the callback is pickled."""

    def __init__(self, folder: str, state_of: Callable[[torch.nn.Module], dict]) -> None:
        self.folder, self.state_of = folder, state_of
        self.losses: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.losses.append(float(outputs["loss"]))

    def on_train_end(self, trainer, pl_module):
        state = {**self.state_of(pl_module.method), "losses": torch.tensor(self.losses, dtype=torch.float64)}
        torch.save(state, Path(self.folder) / f"rank{trainer.global_rank}.pt")


def tiny_train_config(manifest: Path, out_dir: Path, name: str, *overrides: str):
    return load_config(overrides=[
        f"data.manifest={manifest}", "data.batch_size=4", "data.num_workers=0", "data.clip.clips_per_video=3",
        "data.video.crop_size=32", "data.video.decode_short_side=40",
        "model.video=tiny_video", "model.audio=tiny_audio", "model.video_kwargs={width: 8}",
        "model.audio_kwargs={width: 8}", "model.head_hidden=[64]", "model.embed_dim=32",
        "method.num_negatives=8", "optim.lr=1e-3", f"run.out_dir={out_dir}", f"run.name={name}",
        "train.max_epochs=2", "train.checkpoint_every_n_steps=1", "train.progress_bar=false",
        "train.accelerator=cpu", "train.devices=1", "train.log_every_n_steps=1", *overrides,
    ])
