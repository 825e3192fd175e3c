"""AVID+CMA training: starts from an AVID checkpoint (weights, banks, Z), computes positives from
those banks, logs every term, and resumes exactly (positive sets included)."""

from __future__ import annotations

import shutil

import lightning as L
import pytest
import torch
from train_helpers import tiny_train_config

from avssl.core import cma_positives
from avssl.train.run_training import train

CMA = ("method.name=avid_cma", "method.cma.num_positives=1", "method.cma.num_negatives_within=4",
       "method.cma.weights.within_instance=1", "method.cma.weights.cross_positive=1")


@pytest.fixture()
def avid_checkpoint(prepared_mixed, tmp_path):
    result = train(tiny_train_config(prepared_mixed, tmp_path, "avid", "train.max_epochs=1"))
    return result.run_dir / "checkpoints" / "last.ckpt", result.module.method


class StartState(L.Callback):
    """The method's banks, Z and encoder weights when training starts, and positives after epoch 0 began."""

    def on_train_start(self, trainer, pl_module):
        m = pl_module.method
        self.banks = {k: m.banks[k].memory.clone() for k in ("video", "audio")}
        self.z = m.partition.z.clone()
        self.weights = {k: v.clone() for k, v in m.encoders.state_dict().items()}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if not hasattr(self, "positives"):
            self.positives = pl_module.method.positives.clone()


def test_cma_starts_from_the_avid_checkpoint_and_logs_every_term(prepared_mixed, tmp_path, avid_checkpoint):
    path, avid = avid_checkpoint
    start = StartState()
    result = train(tiny_train_config(prepared_mixed, tmp_path, "cma", *CMA, f"method.cma.init_from={path}",
                                     "train.max_epochs=1"), [start])
    for k in ("video", "audio"):
        assert torch.equal(start.banks[k], avid.banks[k].memory)
    assert torch.equal(start.z, avid.partition.z) and bool(result.module.method.partition.frozen)
    for k, v in avid.encoders.state_dict().items():
        assert torch.equal(start.weights[k], v), k
    assert torch.equal(start.positives, cma_positives(start.banks["video"], start.banks["audio"], 1, "consensus"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = next((result.run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    tags = EventAccumulator(str(events.parent)).Reload().Tags()["scalars"]
    for tag in ("train/inst_v2a", "train/inst_a2a", "train/pos_v2a", "train/pos_a2a", "train/loss",
                "cma/positives_seconds"):
        assert tag in tags, tag


def test_cma_resumes_exactly_with_its_positive_sets(prepared_mixed, tmp_path, avid_checkpoint, monkeypatch):
    from avssl.methods import AVIDCMA

    searches: list[int] = []
    original = AVIDCMA.update_positives

    def counted(self, epoch, progress=False):
        searches.append(epoch)
        return original(self, epoch, progress)

    monkeypatch.setattr(AVIDCMA, "update_positives", counted)
    path, _ = avid_checkpoint
    settings = (*CMA, f"method.cma.init_from={path}", "method.cma.resample_every=2", "train.max_epochs=4")
    full = train(tiny_train_config(prepared_mixed, tmp_path, "full", *settings))
    assert searches == [0, 2]
    killed = tmp_path / "killed"
    shutil.copytree(full.run_dir, killed)
    # Step 7 lies in epoch 2, after the positive sets were recomputed at its start: resuming must
    # keep the checkpointed sets, not search again in banks that have moved since.
    checkpoint = killed / "checkpoints" / "epoch=2-step=7.ckpt"
    searches.clear()
    resumed = train(tiny_train_config(prepared_mixed, tmp_path, "killed", *settings, f"train.resume={checkpoint}"))
    assert searches == [], "the resumed epoch 2 already has its positive sets (epoch 3 is not due)"
    a, b = full.module.method.state_dict(), resumed.module.method.state_dict()
    for key, value in a.items():
        if torch.is_tensor(value):
            assert torch.equal(value, b[key]), key
    assert int(b["positives_epoch"]) == 2


def test_init_from_a_checkpoint_of_another_manifest_is_refused(prepared_mixed, tmp_path, avid_checkpoint):
    path, _ = avid_checkpoint
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["avssl"]["instance_paths"] = list(reversed(checkpoint["avssl"]["instance_paths"]))
    torch.save(checkpoint, tmp_path / "reordered.ckpt")
    with pytest.raises(ValueError, match="index → video map differs"):
        train(tiny_train_config(prepared_mixed, tmp_path, "bad", *CMA, f"method.cma.init_from={tmp_path / 'reordered.ckpt'}"))


def test_cma_without_an_avid_checkpoint_is_refused(prepared_mixed, tmp_path):
    from avssl.config import ConfigError

    with pytest.raises(ConfigError, match="method.cma.init_from is required"):
        train(tiny_train_config(prepared_mixed, tmp_path, "scratch", *CMA))
