"""The Lightning module every method trains through: one training step = method(batch)["loss"].

Methods stay plain nn.Modules (testable without a trainer); this wrapper adds what a long run
needs: the optimiser and schedule, logging of every loss term, clips/s and decode failures,
the resumable data order, and the extra checkpoint content (resolved config, index → video map,
RNG states) that makes a checkpoint self-describing and resumable exactly.
"""

from __future__ import annotations

import math
import random
import time

import lightning as L
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

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
        self.history.append((self.global_step, {k: float(v.detach()) for k, v in out.items()}))
        return out["loss"]

    def configure_optimizers(self):
        optim = self.config.optim
        if optim.name != "adam":
            raise ValueError(f"optim.name={optim.name!r}: only 'adam' is available yet")
        params = [p for p in self.method.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(params, lr=optim.lr, betas=tuple(optim.betas), weight_decay=optim.weight_decay)
        if optim.schedule == "constant" and not optim.warmup_epochs:
            return optimizer
        steps_per_epoch = max(1, len(self.dataset) // (self.config.data.batch_size * self.trainer.world_size))
        total = max(1, self.trainer.max_epochs * steps_per_epoch)
        warmup = int(optim.warmup_epochs * steps_per_epoch)
        cosine = optim.schedule == "cosine"

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            if not cosine:
                return 1.0
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

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
