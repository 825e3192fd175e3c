"""The image methods through the real trainer (`avssl.train.run_training.train`, configs from the
shipped demo recipes via load_config) on frames of real videos: run folders and checkpoints, SwAV's
frozen then unit-norm prototypes, BYOL's moving target, SimSiam's fixed predictor rate, exact
kill-and-resume with state outside the weights (BYOL's EMA target, SwAV's queue), and a folder of
images (PNG files written here) that needs no manifest."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import lightning as L
import pytest
import torch
from image_train_helpers import image_config
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from avssl.core.ema import cosine_momentum
from avssl.train.run_training import train

STEPS_PER_EPOCH = 4  # 4 videos x 4 frames, batch 4


def scalars(run_dir: Path) -> dict[str, list[float]]:
    events = next((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    accumulator = EventAccumulator(str(events.parent)).Reload()
    return {tag: [e.value for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


class AfterEachStep(L.Callback):
    """What `read(method)` returns after every optimiser step (Lightning calls this after the step)."""

    def __init__(self, read) -> None:
        self.read = read
        self.values: list = []

    def on_train_start(self, trainer, pl_module):
        self.start = self.read(pl_module.method)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.values.append(self.read(pl_module.method))


class RecordBatches(L.Callback):
    def __init__(self) -> None:
        self.seen: list[tuple[int, list[int]]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.append((trainer.current_epoch, batch["index"].tolist()))


@pytest.mark.parametrize("method", ["swav", "seer", "byol", "simsiam", "barlow_twins"])
def test_each_image_method_trains_and_writes_its_run_folder(prepared_mixed, tmp_path, method):
    result = train(image_config(prepared_mixed, tmp_path, method, method))
    run = result.run_dir
    assert (run / "config.yaml").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    losses = [values["loss"] for _, values in result.module.history]
    assert len(losses) == 2 * STEPS_PER_EPOCH and all(torch.isfinite(torch.tensor(losses)))
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["avssl"]["instance_paths"] == result.module.dataset.instance_paths
    assert checkpoint["avssl"]["config"]["method"]["name"] == ("swav" if method == "seer" else method)
    assert any(k.startswith("method.encoders.image.") for k in checkpoint["state_dict"])
    tags = scalars(run)
    assert "train/loss" in tags and "lr/weights" in tags and "data/decode_failures" in tags
    if method in ("byol", "barlow_twins"):  # biases and norm parameters in their own group
        assert "lr/bias_and_norm" in tags


def test_swav_prototypes_stay_frozen_for_the_configured_steps_and_are_unit_norm_after(prepared_mixed, tmp_path):
    prototypes = AfterEachStep(lambda m: m.prototypes.weight.detach().clone())
    train(image_config(prepared_mixed, tmp_path, "swav", "frozen", "method.swav.freeze_prototypes_steps=3"),
          [prototypes])
    assert len(prototypes.values) == 2 * STEPS_PER_EPOCH
    for step, weight in enumerate(prototypes.values):
        torch.testing.assert_close(weight.norm(dim=1), torch.ones(10), rtol=0, atol=1e-6)
        unchanged = torch.allclose(weight, prototypes.start, rtol=0, atol=1e-6)  # renormalising: last bits only
        assert unchanged == (step < 3), f"step {step}: prototypes {'frozen' if unchanged else 'moved'}"


def test_byol_target_follows_the_online_network_with_the_cosine_tau(prepared_mixed, tmp_path):
    target = AfterEachStep(lambda m: m.target.model[0].conv1[0].weight.detach().clone())
    result = train(image_config(prepared_mixed, tmp_path, "byol", "byol"), [target])
    method = result.module.method
    steps = 2 * STEPS_PER_EPOCH
    assert result.module.total_steps == steps
    assert not torch.equal(target.values[-1], target.start), "the target never moved"
    assert not torch.equal(method.target.model[0].conv1[0].weight, method.encoders["image"].conv1[0].weight)
    assert float(method.target.tau) == pytest.approx(cosine_momentum(steps - 1, steps, 0.99))
    taus = scalars(result.run_dir)["byol/tau"]
    assert taus == pytest.approx([cosine_momentum(k, steps, 0.99) for k in range(steps)], abs=1e-7)
    for p in method.target.parameters():
        assert not p.requires_grad


def test_simsiam_predictor_keeps_its_learning_rate_while_the_rest_decays(prepared_mixed, tmp_path):
    result = train(image_config(prepared_mixed, tmp_path, "simsiam", "simsiam"))
    tags = scalars(result.run_dir)
    fixed, decayed = tags["lr/weights_fixed_lr"], tags["lr/weights"]
    assert fixed == pytest.approx([0.05] * len(fixed)) and len(fixed) == 2 * STEPS_PER_EPOCH
    assert decayed[0] == pytest.approx(0.05) and all(a > b for a, b in itertools.pairwise(decayed))
    groups = {g["name"]: g for g in result.trainer.optimizers[0].param_groups}
    assert {id(p) for p in groups["weights_fixed_lr"]["params"]} == {id(p) for p in
                                                                     result.module.method.predictor.parameters()}


def _float_state(module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in module.method.state_dict().items() if torch.is_tensor(v) and v.is_floating_point()}


@pytest.mark.parametrize("method, state, extra", [
    ("byol", "target.", ()),
    ("swav", "queues.", ("method.swav.queue_length=8", "method.swav.queue_start_epoch=1",
                         "method.swav.freeze_prototypes_steps=2", "data.num_workers=2")),
])
def test_kill_and_resume_gives_the_straight_runs_weights_and_state(prepared_mixed, tmp_path, method, state, extra):
    """12 steps straight == 6 steps, a kill, a resume from that checkpoint (mid epoch 1), 6 more."""
    overrides = ("train.max_epochs=3", *extra)
    straight = RecordBatches()
    full = train(image_config(prepared_mixed, tmp_path, method, "full", *overrides), [straight])
    assert len(straight.seen) == 3 * STEPS_PER_EPOCH
    killed = tmp_path / "killed"
    shutil.copytree(full.run_dir, killed)
    checkpoint = killed / "checkpoints" / "epoch=1-step=6.ckpt"
    assert checkpoint.is_file()
    resumed_batches = RecordBatches()
    resumed = train(image_config(prepared_mixed, tmp_path, method, "killed", *overrides,
                                 f"train.resume={checkpoint}"), [resumed_batches])
    assert resumed_batches.seen == straight.seen[6:], "data order after resume must match the straight run"
    a, b = _float_state(full.module), _float_state(resumed.module)
    assert a.keys() == b.keys() and any(k.startswith(state) for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    if method == "swav":
        assert full.module.method.queues[0].is_full  # the queue was filled (from epoch 1) and used
        assert torch.equal(full.module.method.queues[0].count, resumed.module.method.queues[0].count)


def test_a_folder_of_images_trains_without_a_manifest(tmp_path):
    from PIL import Image

    root = tmp_path / "images"
    generator = torch.Generator().manual_seed(0)
    for label in ("cats", "dogs"):
        (root / label).mkdir(parents=True)
        for i in range(4):
            pixels = (torch.rand(40, 48, 3, generator=generator) * 255).to(torch.uint8).numpy()
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    config = image_config(Path("unused"), tmp_path, "barlow_twins", "folder", "data.manifest=???",
                          "data.images.source=folder", f"data.images.root={root}", "train.max_epochs=1")
    result = train(config)
    assert result.module.dataset.instance_paths == [f"{c}/{i}.png" for c in ("cats", "dogs") for i in range(4)]
    assert len(result.module.history) == 2  # 8 images, batch 4
    checkpoint = torch.load(result.run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["avssl"]["instance_paths"] == result.module.dataset.instance_paths
