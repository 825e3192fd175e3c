"""A tiny AVID training config for tests: tiny encoders, small crops, few negatives."""

from __future__ import annotations

from pathlib import Path

from avssl.config import load_config


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
