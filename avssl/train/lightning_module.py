"""The Lightning module every method trains through: one training step = method(batch)["loss"].

Methods stay plain nn.Modules (testable without a trainer); this wrapper adds what a long run
needs: the optimiser and schedule (avssl.train.optimizers), logging of every loss term, each
parameter group's learning rate, clips/s and decode failures, the resumable data order, and the
extra checkpoint content (resolved config, index → video map, RNG states) that makes a checkpoint
self-describing and resumable exactly.

A method may define per-step hooks, both given the 0-based optimiser step (`global_step`, restored
on resume, so a resumed run calls them with the same steps as a straight one):
  `on_before_optimizer_step(step)`: after backward, before the step (SwAV drops the prototypes'
      gradient while they are frozen);
  `on_after_optimizer_step(step, total_steps) -> dict`: after the step (SwAV renormalises its
      prototypes, BYOL moves its EMA target); the returned values are logged.
Under FSDP the after-step hook runs on the full (gathered) parameters and writes them back.
"""

from __future__ import annotations

import random
import time
from contextlib import AbstractContextManager, nullcontext

import lightning as L
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from avssl.train.lr_schedule import total_steps
from avssl.train.optimizers import build_optimizer, build_schedule
from avssl.train.resumable_loader import ResumableDataLoader, ResumableSampler


class SSLModule(L.LightningModule):
    def __init__(self, method: nn.Module, config: DictConfig, dataset, instance_paths: list[str]) -> None:
        super().__init__()
        self.method = method
        self.config = config
        self.dataset = dataset
        self.instance_paths = instance_paths
        self._loader: ResumableDataLoader | None = None
        self._step_started = time.perf_counter()
        self.total_steps = 1  # optimiser steps of the whole run, set by configure_optimizers
        self.history: list[tuple[int, dict[str, float]]] = []  # (step, terms): for the report's loss curve

    # --- data -----------------------------------------------------------------------------
    def train_dataloader(self) -> ResumableDataLoader:
        data = self.config.data
        sampler = ResumableSampler(len(self.dataset), data.batch_size, seed=self.config.run.seed, shuffle=True,
                                   rank=self.global_rank, world_size=self.trainer.world_size)
        self._loader = ResumableDataLoader(
            self.dataset, sampler, num_workers=data.num_workers,
            pin_memory=torch.cuda.is_available(), persistent_workers=False)
        return self._loader

    def on_train_epoch_start(self) -> None:
        self._loader.sampler.set_epoch(self.current_epoch)
        hook = getattr(self.method, "on_train_epoch_start", None)  # e.g. CMA refreshes its positive sets
        if hook is not None:
            for name, value in hook(self.current_epoch, progress=self.config.train.progress_bar).items():
                self.log(name, float(value), on_step=False, on_epoch=True, batch_size=1)

    # --- optimisation ---------------------------------------------------------------------
    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        out = self.method(batch)
        self._loader.mark_consumed()
        batch_size = batch["index"].shape[0]
        for name, value in out.items():
            self.log(f"train/{name}", value.float(), on_step=True, prog_bar=name == "loss", batch_size=batch_size)
        failures = batch.get("decode_failures")
        if failures is not None:
            self.log("data/decode_failures", failures.sum().float(), on_step=True, reduce_fx="sum",
                     batch_size=batch_size)
        now = time.perf_counter()
        self.log("perf/clips_per_s", batch_size * self.trainer.world_size / max(now - self._step_started, 1e-9),
                 on_step=True, batch_size=batch_size)
        self._step_started = now
        for i, group in enumerate(self.trainer.optimizers[0].param_groups if self.trainer.optimizers else []):
            self.log(f"lr/{group.get('name', f'group{i}')}", float(group["lr"]), on_step=True, batch_size=batch_size)
        self.history.append((self.global_step, {k: float(v.detach()) for k, v in out.items()}))
        return out["loss"]

    def configure_optimizers(self):
        """`optim` over the method's parameters (AVID: Adam, one group), stepped per optimiser step.
        Built from `self.method.parameters()` here, after the strategy wrapped the module: what FSDP
        (use_orig_params) needs."""
        optim, data, world = self.config.optim, self.config.data, self.trainer.world_size
        optimizer = build_optimizer(self.method, optim, global_batch=data.batch_size * world)
        self.total_steps = total_steps(len(self.dataset), data.batch_size, world, self.trainer.max_epochs,
                                       self.trainer.max_steps)
        steps_per_epoch = max(1, len(self.dataset) // (data.batch_size * world))
        scheduler = build_schedule(optimizer, optim, steps_per_epoch, self.total_steps)
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_before_optimizer_step(self, optimizer) -> None:
        hook = getattr(self.method, "on_before_optimizer_step", None)
        if hook is not None:
            hook(self.global_step)

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None) -> None:
        step = self.global_step  # Lightning counts the step inside super(): read it before
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        hook = getattr(self.method, "on_after_optimizer_step", None)
        if hook is None:
            return
        with self._full_parameters():
            values = hook(step, self.total_steps)
        for name, value in values.items():
            self.log(name, float(value), on_step=True, on_epoch=False, batch_size=1)

    def _full_parameters(self) -> AbstractContextManager:
        """FSDP shards each parameter over the ranks between steps: a hook that reads whole rows
        (prototype norms) or pairs parameters (EMA) must see them gathered."""
        from lightning.pytorch.strategies import FSDPStrategy

        if not isinstance(self.trainer.strategy, FSDPStrategy):
            return nullcontext()
        from torch.distributed.fsdp import FullyShardedDataParallel

        return FullyShardedDataParallel.summon_full_params(self.trainer.strategy.model, writeback=True)

    # --- checkpoints ----------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["avssl"] = {
            "config": OmegaConf.to_container(self.config, resolve=True),
            "instance_paths": list(self.instance_paths),
            "rng": _rng_state(),
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        saved = checkpoint.get("avssl", {})
        if saved.get("instance_paths") is not None and list(saved["instance_paths"]) != list(self.instance_paths):
            raise ValueError(
                "the checkpoint's instance index → video map differs from this run's manifest: its memory "
                "banks would be read under the wrong indices; resume with the manifest it was trained on"
            )
        if "rng" in saved:
            _set_rng_state(saved["rng"])


def _rng_state() -> dict:
    """Global RNG states as tensors and ints only, so checkpoints load with weights_only=True."""
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
             "numpy": torch.from_numpy(np.random.get_state()[1].astype(np.int64)),
             "numpy_pos": int(np.random.get_state()[2])}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    python = tuple(state["python"])
    random.setstate((3, python, None))
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), state["numpy_pos"], 0, 0.0))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
