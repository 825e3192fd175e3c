"""`avssl eval` and `avssl extract` end to end: a tiny AVID checkpoint on a tiny set in the official
UCF-101 format, every protocol through `run_protocol` / `run_extract`, the CLI once."""

from __future__ import annotations

import base64
import io
import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest
import torch
from eval_fixtures import PNG_MAGIC, UCF_CLASSES, tiny_checkpoint, ucf_folder, ucf_overrides
from PIL import Image
from rich.console import Console

from avssl.cli import main
from avssl.eval.eval_job import run_extract, run_protocol
from avssl.eval.eval_model import load_eval_model
from avssl.eval.feature_store import load_features

COMMON_KEYS = {"protocol", "checkpoint", "checkpoint_kind", "untrained", "wall_time_s", "plots", "class_names", "chance"}
TRAIN_VIDEOS, TEST_VIDEOS = 9, 3  # groups 1-3 and 4 of three classes
QUIET = Console(quiet=True)


@pytest.fixture(scope="module")
def ucf(tmp_path_factory) -> Path:
    return ucf_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return tiny_checkpoint(tmp_path_factory)


@pytest.fixture(scope="module")
def evaluate(tmp_path_factory, ucf, checkpoint):
    """run_protocol on the UCF fixture; prepared manifests are shared by every run of the session."""
    prepared = tmp_path_factory.getbasetemp() / "eval_ucf_prepared"

    def run(protocol: str, out: Path, *extra: str, untrained: bool = False) -> dict:
        return run_protocol(protocol, checkpoint, None, ucf_overrides(ucf, prepared, *extra), out, untrained,
                            console=QUIET)

    run.prepared = prepared
    return run


def assert_plots(out: Path, metrics: dict) -> None:
    for name in metrics["plots"]:
        assert (out / name).is_file(), name
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    assert (out / "summary.md").is_file() and (out / "config.yaml").is_file()
    assert json.loads((out / "metrics.json").read_text()) == metrics


def fractions(tree) -> list[float]:
    if isinstance(tree, dict):
        return [v for child in tree.values() for v in fractions(child)]
    return [tree]


def test_retrieval_report_has_recalls_plots_and_a_page_per_direction(evaluate, checkpoint, tmp_path):
    metrics = evaluate("retrieval", tmp_path)
    assert COMMON_KEYS | {"fold", "ks", "clips_per_video", "recall", "counts"} <= set(metrics)
    assert metrics["protocol"] == "retrieval" and metrics["checkpoint_kind"] == "avssl" and not metrics["untrained"]
    assert metrics["checkpoint"] == str(checkpoint) and metrics["fold"] == "fold1"
    assert metrics["counts"] == {"train": TRAIN_VIDEOS, "test": TEST_VIDEOS}
    assert metrics["class_names"] == list(UCF_CLASSES)  # classInd.txt order
    assert set(metrics["recall"]) == {"pool", "projection"}
    assert set(metrics["recall"]["pool"]) == {"video->video"}
    assert set(metrics["recall"]["projection"]) == {"audio->video", "video->audio"}
    for curve in [c for by in metrics["recall"].values() for c in by.values()]:
        values = [curve[str(k)] for k in metrics["ks"]]
        assert all(0.0 <= v <= 1.0 for v in values) and values == sorted(values)
        assert curve["10"] == 1.0  # k >= the 9 training videos: every class is among them
    # 3 of the 9 training videos share a query's class: a random top-1 hits with probability 1/3.
    assert metrics["chance"]["1"] == pytest.approx(1 / 3)
    assert set(metrics["plots"]) == {"recall_at_k.png", "retrieval_grid.png", "feature_map.png", "report.html"}
    assert_plots(tmp_path, metrics)

    page = (tmp_path / "report.html").read_text()
    sections = page.split("<h2>")[1:]
    headings = [s.split("</h2>")[0] for s in sections]
    assert len(sections) == 3
    for direction in ("video → video", "audio → video", "video → audio"):
        assert sum(h.startswith(direction) for h in headings) == 1, headings
    for section in sections:
        assert section.count('<div class="row"') == TEST_VIDEOS  # report_queries=8 > 3 test videos
        images = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', section)
        sounds = re.findall(r'src="data:audio/wav;base64,([A-Za-z0-9+/=]+)"', section)
        assert len(images) == len(sounds) == TEST_VIDEOS * (1 + 5)  # each query and its top 5
    assert Image.open(io.BytesIO(base64.b64decode(images[0]))).format == "JPEG"
    with wave.open(io.BytesIO(base64.b64decode(sounds[0]))) as sound:
        assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (16000, 1, 2)
        assert sound.getnframes() == 2 * 16000  # the 2-s audio window of the middle clip


def test_knn_report(evaluate, tmp_path):
    metrics = evaluate("knn", tmp_path, "eval.knn.ks=[1,5]")
    assert COMMON_KEYS | {"fold", "modality", "temperature", "ks", "accuracy", "counts"} <= set(metrics)
    assert metrics["accuracy"].keys() == {"pool"} and metrics["accuracy"]["pool"].keys() == {"k=1", "k=5"}
    assert all(0.0 <= v <= 1.0 for v in fractions(metrics["accuracy"]))
    # 3 test videos: an accuracy is a multiple of 1/3.
    assert all(round(3 * v, 9) == round(3 * v) for v in fractions(metrics["accuracy"]))
    assert metrics["plots"] == ["confusion_matrix.png", "feature_map.png"]
    assert_plots(tmp_path, metrics)


@pytest.mark.parametrize("bn_drift", [False, True], ids=["frozen", "bn-drift"])
def test_linear_probe_report(evaluate, tmp_path, bn_drift):
    metrics = evaluate("linear", tmp_path, "eval.linear.epochs=2", "eval.linear.train_clips_per_video=2",
                       "eval.linear.batch_size=4", f"eval.linear.bn_drift={str(bn_drift).lower()}",
                       "eval.features.stages=[conv5x,pool]")
    assert COMMON_KEYS | {"fold", "modality", "bn_drift", "accuracy", "recipe", "test_clips_per_video", "counts"} \
        <= set(metrics)
    assert metrics["bn_drift"] is bn_drift and metrics["recipe"]["epochs"] == 2
    assert metrics["accuracy"].keys() == {"conv5x", "pool"}
    for result in metrics["accuracy"].values():
        assert result.keys() == {"clip_top1", "video_top1"}
    assert all(0.0 <= v <= 1.0 for v in fractions(metrics["accuracy"]))
    assert metrics["chance"] == pytest.approx(1 / 3)
    assert_plots(tmp_path, metrics)
    # The frozen probe caches its features; the drifting one computes them with drifted statistics.
    assert (tmp_path / "features").is_dir() is not bn_drift


def test_finetune_one_tiny_epoch_then_resume(evaluate, tmp_path):
    settings = ("eval.finetune.warmup_epochs=1", "eval.finetune.epochs=1", "eval.finetune.milestones=[1]",
                "eval.finetune.batch_size=4", "eval.finetune.train_clips_per_video=1",
                "eval.finetune.test_clips_per_video=2", "eval.finetune.dense_clips_per_video=2",
                "eval.finetune.num_workers=0")
    metrics = evaluate("finetune", tmp_path, *settings)
    assert COMMON_KEYS | {"folds", "mean", "modality", "warmup_epochs", "recipe", "dropout", "clip"} <= set(metrics)
    assert metrics["folds"].keys() == {"fold1"} and metrics["mean"] == metrics["folds"]["fold1"]
    assert all(0.0 <= v <= 1.0 for v in fractions(metrics["folds"]))
    assert_plots(tmp_path, metrics)
    state = tmp_path / "finetune" / "fold1.ckpt"
    assert torch.load(state, weights_only=True)["epoch"] == 2  # 1 warm-up + 1 end-to-end epoch
    before = state.stat().st_mtime_ns
    again = evaluate("finetune", tmp_path, *settings)  # every epoch is done: evaluate only
    assert state.stat().st_mtime_ns == before and again["folds"] == metrics["folds"]


def test_extract_writes_features_with_a_faiss_index(ucf, checkpoint, evaluate, tmp_path):
    overrides = ucf_overrides(ucf, evaluate.prepared, "eval.features.faiss_index=true",
                              "eval.features.stages=[conv5x,pool,projection]")
    folders = run_extract(checkpoint, None, overrides, tmp_path, console=QUIET)
    assert folders == [tmp_path / "train", tmp_path / "test"]
    keys = [f"{m}/{s}" for m in ("video", "audio") for s in ("conv5x", "pool", "projection")]
    for folder, videos in zip(folders, (TRAIN_VIDEOS, TEST_VIDEOS)):
        clips, rows = load_features(folder)
        assert sorted(clips.features) == sorted(keys) and clips.num_videos == len(rows) == videos
        assert clips.clip_video.tolist() == [v for v in range(videos) for _ in range(2)]
        assert all(Path(r["path"]).parent.name == r["label"] for r in rows)  # UCF-101: the folder is the class
        assert {r["label"] for r in rows} == set(UCF_CLASSES)
        means = np.load(folder / "video_pool_videos.npy")
        np.testing.assert_allclose(means, clips["video/pool"].view(videos, 2, -1).mean(1).numpy(), rtol=1e-6, atol=1e-6)
        assert (folder / "video_pool_videos.faiss").is_file() and (folder / "audio_conv5x_videos.faiss").is_file()
        info = json.loads((folder / "features.json").read_text())
        assert info["faiss_index"] and info["clips_per_video"] == 2 and info["fold"] == "fold1"


def test_cli_runs_eval_with_overrides_after_the_options(ucf, checkpoint, evaluate, tmp_path):
    out = tmp_path / "knn"
    argv = ["eval", "knn", str(checkpoint), "--out", str(out), *ucf_overrides(ucf, evaluate.prepared)]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "knn" and metrics["checkpoint"] == str(checkpoint)


def test_untrained_keeps_the_architecture_and_replaces_the_weights(checkpoint, evaluate, tmp_path):
    trained, fresh = load_eval_model(checkpoint), load_eval_model(checkpoint, untrained=True, seed=0)
    for part in ("encoders", "heads"):
        a, b = getattr(trained, part).state_dict(), getattr(fresh, part).state_dict()
        assert list(a) == list(b) and all(a[k].shape == b[k].shape for k in a)
        weights = [k for k in a if k.endswith("weight") and a[k].ndim > 1]
        assert weights and all(not torch.equal(a[k], b[k]) for k in weights), part
        assert all(torch.count_nonzero(b[k]) == 0 for k in b if k.endswith("running_mean"))
    assert fresh.untrained and not trained.untrained
    metrics = evaluate("retrieval", tmp_path, "eval.retrieval.directions=[video->video]", untrained=True)
    assert metrics["untrained"] is True
    assert "re-initialised: the untrained baseline" in (tmp_path / "report.html").read_text()
