"""Training: exact kill-and-resume, a 2-process DDP run equal to one process, run-folder outputs."""

from __future__ import annotations

import shutil

import lightning as L
import pytest
import torch
from train_helpers import tiny_train_config

from avssl.train.run_training import train


@pytest.fixture()
def manifest(prepared_mixed):
    return prepared_mixed


class RecordBatches(L.Callback):
    def __init__(self) -> None:
        self.seen: list[tuple[int, list[int]]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.seen.append((trainer.current_epoch, batch["index"].tolist()))


def _float_state(module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in module.method.state_dict().items() if torch.is_tensor(v) and v.is_floating_point()}


def test_resume_from_a_mid_epoch_checkpoint_continues_exactly(manifest, tmp_path):
    straight = RecordBatches()
    full = train(tiny_train_config(manifest, tmp_path, "full", "data.num_workers=2"), [straight])
    steps_per_epoch = len(straight.seen) // 2
    assert steps_per_epoch == 3  # 4 videos × 3 clips, batch 4
    # "Kill" after step 4 (mid epoch 1): keep that checkpoint only, resume in the same run folder.
    killed = tmp_path / "killed"
    shutil.copytree(full.run_dir, killed)
    checkpoint = killed / "checkpoints" / "epoch=1-step=4.ckpt"
    assert checkpoint.is_file()
    resumed_batches = RecordBatches()
    resumed = train(tiny_train_config(manifest, tmp_path, "killed", "data.num_workers=2",
                                      f"train.resume={checkpoint}"), [resumed_batches])
    assert resumed_batches.seen == straight.seen[4:], "data order after resume must match the straight run"
    a, b = _float_state(full.module), _float_state(resumed.module)
    assert a.keys() == b.keys() and any("banks" in k for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_run_folder_has_config_tensorboard_and_checkpoints_with_the_index_map(manifest, tmp_path):
    result = train(tiny_train_config(manifest, tmp_path, "run", "train.max_epochs=1"))
    run = result.run_dir
    assert (run / "config.yaml").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    events = list((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert events, "TensorBoard logs must be written"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = EventAccumulator(str(events[0].parent)).Reload().Tags()["scalars"]
    for tag in ("train/loss", "train/v2a", "train/a2v", "train/log_z", "data/decode_failures", "perf/clips_per_s"):
        assert tag in tags, tag
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["avssl"]["instance_paths"] == [r.path for r in result.module.dataset.manifest.rows]
    assert checkpoint["avssl"]["config"]["method"]["temperature"] == 0.07
    assert any(k.startswith("method.banks.video") for k in checkpoint["state_dict"])


def test_resuming_with_another_manifest_is_refused(manifest, tmp_path, mixed_folder):
    first = train(tiny_train_config(manifest, tmp_path, "a", "train.max_epochs=1"))
    other = tmp_path / "other_manifest"
    shutil.copytree(manifest, other)
    text = (other / "manifest.csv").read_text().replace("cats/good_a.mp4", "cats/renamed.mp4")
    (other / "manifest.csv").write_text(text)
    (other / "manifest.json").write_text((manifest / "manifest.json").read_text())
    shutil.copy(mixed_folder[0] / "cats" / "good_a.mp4", mixed_folder[0] / "cats" / "renamed.mp4")
    try:
        with pytest.raises(ValueError, match="index → video map differs"):
            train(tiny_train_config(other, tmp_path, "b", "train.max_epochs=2",
                                    f"train.resume={first.run_dir / 'checkpoints' / 'last.ckpt'}"))
    finally:
        (mixed_folder[0] / "cats" / "renamed.mp4").unlink()


def test_checkpoints_leave_no_temporary_files_and_bf16_autocast_trains(manifest, tmp_path):
    result = train(tiny_train_config(manifest, tmp_path, "bf16", "train.max_epochs=1", "train.precision=bf16-mixed"))
    names = [p.name for p in (result.run_dir / "checkpoints").iterdir()]
    assert "last.ckpt" in names and not [n for n in names if n.startswith(".")], names
    losses = [values["loss"] for _, values in result.module.history]
    assert losses and all(torch.isfinite(torch.tensor(losses)))


def test_export_writes_a_backbone_state_dict_that_loads_into_a_fresh_encoder(manifest, tmp_path):
    from avssl import models
    from avssl.train.export_backbone import export_backbone

    result = train(tiny_train_config(manifest, tmp_path, "export", "train.max_epochs=1"))
    out = export_backbone(result.run_dir / "checkpoints" / "last.ckpt", "audio", tmp_path / "audio.pt")
    state = torch.load(out, weights_only=True)
    encoder = models.create("tiny_audio", width=8)
    encoder.load_state_dict(state)  # strict: same keys, same shapes
    assert torch.equal(state["conv1.0.weight"], result.module.method.encoders["audio"].conv1[0].weight)
