"""`avssl eval audio` on a tiny set in the official ESC-50 format (wav files + meta/esc50.csv, 5 folds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_fixtures import ESC_FOLDS, PNG_MAGIC, build_esc50, session_folder, tiny_checkpoint

from avssl.cli import main
from avssl.data.splits import ESC50_CLASS_NAMES

ESC50_RECIPE = Path(__file__).parents[1] / "configs" / "eval" / "esc50.yaml"


@pytest.fixture(scope="module")
def esc50(tmp_path_factory):
    return session_folder(tmp_path_factory, "eval_esc50", build_esc50)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory)


def test_audio_protocol_cross_validates_over_the_five_folds(esc50, checkpoint, tmp_path):
    out = tmp_path / "esc50"
    argv = ["eval", "audio", str(checkpoint), "-c", str(ESC50_RECIPE), "--out", str(out),
            f"eval.dataset.root={esc50}", f"eval.dataset.splits={esc50 / 'meta' / 'esc50.csv'}",
            "eval.dataset.workers=0", "eval.audio.clips_per_video=2", "eval.audio.pool_size=[2,2]",
            "eval.features.num_workers=0", "eval.progress=false"]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "audio" and metrics["folds"].keys() == {f"fold{f}" for f in ESC_FOLDS}
    # One recording per class and fold: each fold tests 3 recordings, so accuracies are multiples of 1/3.
    assert all(round(3 * v, 9) == round(3 * v) and 0.0 <= v <= 1.0 for v in metrics["folds"].values())
    assert metrics["mean"] == pytest.approx(sum(metrics["folds"].values()) / 5)
    assert metrics["counts"] == {"recordings": 15} and metrics["class_names"] == list(ESC50_CLASS_NAMES)
    assert metrics["chance"] == pytest.approx(1 / 50)  # the 50 official classes, whatever the data holds
    assert (metrics["stage"], metrics["pool"], metrics["pool_size"], metrics["C"]) == ("conv5x", "avg", [2, 2], 10.0)
    assert metrics["feature_dim"] % 4 == 0  # channels x the 2x2 grid
    for plot in ("confusion_matrix.png", "feature_map.png"):
        assert (out / plot).read_bytes()[:8] == PNG_MAGIC
