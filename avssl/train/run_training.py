"""`avssl train`: config → dataset, method, Lightning trainer → a run folder.

Run folder: config.yaml (resolved), checkpoints/ (periodic + last.ckpt), tensorboard/ (every loss
term, the learning rate of every parameter group, clips/s, decode failures). AVID / AVID+CMA train
on audio-visual clips of the manifest, the image methods on augmented views of its images or
frames (avssl.data.build_image_dataset), all through one SSLModule. `train.resume=last` (or a path)
continues a killed run exactly where its last checkpoint left it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig

from avssl.config import ConfigError, require_set, save_config
from avssl.data.build_dataset import build_av_dataset
from avssl.data.build_image_dataset import build_image_dataset
from avssl.data.decoders import Decoder
from avssl.data.manifest import read_manifest
from avssl.train.atomic_checkpoint_io import AtomicCheckpointIO
from avssl.train.build_image_method import IMAGE_METHODS
from avssl.train.build_method import build_method
from avssl.train.init_from_checkpoint import init_from_checkpoint
from avssl.train.lightning_module import SSLModule


@dataclass
class TrainResult:
    run_dir: Path
    module: SSLModule
    trainer: L.Trainer


def run_dir_of(config: DictConfig) -> Path:
    return Path(config.run.out_dir) / config.run.name


def train(config: DictConfig, extra_callbacks: list | None = None, decoder: Decoder | None = None) -> TrainResult:
    """Train `config` (already validated by avssl.config.load_config); `decoder` replaces the
    configured back-end (e.g. a preloaded CachedDecoder)."""
    image_method = config.method.name in IMAGE_METHODS
    if not image_method or config.data.images.source == "video_frames":  # a folder of images needs no manifest
        require_set(config, "data.manifest")
    L.seed_everything(config.run.seed, workers=True, verbose=False)
    run_dir = run_dir_of(config)
    if image_method:
        manifest = (read_manifest(config.data.manifest, config.data.source_root)
                    if config.data.images.source == "video_frames" else None)
        dataset = build_image_dataset(config.data, seed=config.run.seed, decoder=decoder, manifest=manifest)
        instance_paths = list(dataset.instance_paths)
    else:
        manifest = read_manifest(config.data.manifest, config.data.source_root)
        dataset = build_av_dataset(config.data, training=True, manifest=manifest, seed=config.run.seed,
                                   decoder=decoder)
        instance_paths = [row.path for row in manifest.rows]
    method = build_method(config, num_instances=len(instance_paths))
    if config.method.name == "avid_cma":
        if not config.method.cma.init_from:  # positive sets searched in random memory banks are noise
            raise ConfigError("method.cma.init_from is required for method.name=avid_cma: pass the AVID run's "
                              "checkpoint, e.g. method.cma.init_from=runs/avid-kinetics/checkpoints/last.ckpt")
        init_from_checkpoint(method, config.method.cma.init_from, instance_paths)
    module = SSLModule(method, config, dataset, instance_paths)
    train_cfg = config.train
    checkpoints = ModelCheckpoint(dirpath=run_dir / "checkpoints", save_last=True, save_top_k=-1,
                                  every_n_train_steps=train_cfg.checkpoint_every_n_steps,
                                  every_n_epochs=None if train_cfg.checkpoint_every_n_steps else 1)
    trainer = L.Trainer(
        default_root_dir=run_dir, max_epochs=train_cfg.max_epochs, max_steps=train_cfg.max_steps,
        accelerator=train_cfg.accelerator, devices=train_cfg.devices, num_nodes=train_cfg.num_nodes,
        strategy=train_cfg.strategy, sync_batchnorm=train_cfg.sync_batchnorm, precision=train_cfg.precision,
        gradient_clip_val=train_cfg.gradient_clip_val,
        log_every_n_steps=train_cfg.log_every_n_steps, enable_progress_bar=train_cfg.progress_bar,
        logger=TensorBoardLogger(run_dir, name="tensorboard", version=""),
        callbacks=[checkpoints, *(extra_callbacks or [])],  # learning rates: SSLModule logs lr/<group>
        use_distributed_sampler=False, enable_model_summary=False, deterministic=False,
        plugins=[AtomicCheckpointIO()],
    )
    if trainer.global_rank == 0:
        save_config(config, run_dir / "config.yaml")
    trainer.fit(module, ckpt_path=_resume_path(train_cfg.resume, run_dir), weights_only=True)
    return TrainResult(run_dir, module, trainer)


def _resume_path(resume: str | None, run_dir: Path) -> str | None:
    if not resume:
        return None
    path = run_dir / "checkpoints" / "last.ckpt" if resume == "last" else Path(resume)
    if not path.is_file():
        raise FileNotFoundError(f"train.resume={resume!r}: no checkpoint at {path}")
    return str(path)

