"""The evaluation recipes (configs/eval/*.yaml) hold the official AVID-CMA evaluation values and leave
the dataset paths to the user. (Every recipe also loads in tests/test_recipes.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from avssl.config import load_config

EVAL_RECIPES = Path(__file__).parents[1] / "configs" / "eval"
OFFICIAL_DATASETS = {"ucf101": "ucf101", "hmdb51": "hmdb51", "kinetics_linear": "kinetics", "esc50": "esc50"}


def eval_recipe(name: str, *overrides: str):
    return load_config(EVAL_RECIPES / f"{name}.yaml", list(overrides)).eval


def test_every_eval_recipe_is_shipped_and_sets_only_eval_settings_and_augmentation():
    assert sorted(p.stem for p in EVAL_RECIPES.glob("*.yaml")) == sorted([*OFFICIAL_DATASETS, "demo"])
    for path in EVAL_RECIPES.glob("*.yaml"):
        raw = OmegaConf.load(path)
        # Layered over a checkpoint's training config: clip length, crop and spectrogram stay the checkpoint's.
        assert set(raw) <= {"eval", "data"}, path.name
        assert set(raw.get("data", {})) <= {"video"}, path.name
        assert set(raw.get("data", {}).get("video", {})) <= {"scale", "flip_prob", "color_jitter",
                                                             "color_jitter_prob"}, path.name


@pytest.mark.parametrize("name", sorted(OFFICIAL_DATASETS))
def test_official_eval_recipes_leave_the_paths_to_the_user(name):
    raw = OmegaConf.load(EVAL_RECIPES / f"{name}.yaml")
    assert OmegaConf.is_missing(raw.eval.dataset, "root") and OmegaConf.is_missing(raw.eval.dataset, "splits")
    assert eval_recipe(name).dataset.kind == OFFICIAL_DATASETS[name]
    given = eval_recipe(name, "eval.dataset.root=/data/x", "eval.dataset.splits=/data/s").dataset
    assert (given.root, given.splits) == ("/data/x", "/data/s")


@pytest.mark.parametrize("name, epochs, milestones, train_clips, jitter", [
    ("ucf101", 16, [6, 10, 14], 10, [0.4, 0.4, 0.4, 0.2]),  # ucf/8at16-fold1.yaml
    ("hmdb51", 10, [3, 6, 8], 25, [1.0, 1.0, 1.0, 0.2]),  # hmdb51/8at16-fold1.yaml
])
def test_finetune_recipes_keep_the_release_values(name, epochs, milestones, train_clips, jitter):
    config = load_config(EVAL_RECIPES / f"{name}.yaml")
    ft = config.eval.finetune
    assert (ft.epochs, list(ft.milestones), ft.gamma, ft.lr, ft.weight_decay) == (epochs, milestones, 0.3, 1e-4, 0.0)
    assert (ft.warmup_epochs, ft.dropout, ft.batch_size, ft.train_clips_per_video) == (5, 0.5, 64, train_clips)
    assert (ft.test_clips_per_video, ft.dense_clips_per_video) == (25, 10)
    assert list(config.data.video.color_jitter) == jitter and list(config.data.video.scale) == [0.08, 1.0]
    assert list(config.eval.dataset.folds) == [1, 2, 3] and config.eval.features.clips_per_video == 10


def test_kinetics_linear_recipe_gives_the_release_feature_sizes(tmp_path):
    from avssl import models
    from avssl.eval.eval_job import EvalContext
    from avssl.eval.feature_sources import FeatureSource

    config = load_config(EVAL_RECIPES / "kinetics_linear.yaml")
    linear = config.eval.linear
    assert (linear.epochs, list(linear.milestones), linear.gamma, linear.lr) == (12, [6, 9], 0.1, 1e-4)
    assert (linear.batch_size, linear.batch_norm, linear.weight_decay) == (128, True, 0.0)
    stages = list(config.eval.features.stages)
    pooling = EvalContext(config, None, tmp_path).pooling()
    source = FeatureSource("video", models.create("avid_r2plus1d_18").eval())
    with torch.no_grad():
        features = source({"video": torch.zeros(1, 3, 8, 112, 112)}, stages, pooling)
    # feat_dims of kinetics/r2plus1d/8x224x224-linear.yaml (the grids are reached at 112 as at 224)
    assert [features[s].shape[1] for s in stages] == [9216, 8192, 9216, 8192]


def test_esc50_recipe_keeps_the_release_values():
    audio = eval_recipe("esc50").audio
    assert (audio.stage, audio.pool, list(audio.pool_size), audio.C, audio.clips_per_video) == \
        ("conv5x", "avg", [4, 4], 10.0, 10)
    assert list(eval_recipe("esc50").dataset.folds) == [1, 2, 3, 4, 5]


def test_demo_eval_recipe_reads_the_data_avssl_demo_writes():
    from avssl.cli import build_parser

    dataset = eval_recipe("demo").dataset
    default_out = build_parser().parse_args(["demo"]).out
    assert (dataset.kind, dataset.root, dataset.preload) == ("folder", f"{default_out}/data", True)
