"""Every shipped recipe validates against the schema (a typo in a recipe is caught here, not in a job)."""

from __future__ import annotations

from pathlib import Path

import pytest

from avssl.config import load_config
from avssl.demo import DEMO_RECIPE

RECIPES = sorted((Path(__file__).parents[1] / "configs").rglob("*.yaml")) + [DEMO_RECIPE]


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name if p == DEMO_RECIPE else str(p.relative_to(p.parents[2])))
def test_recipe_loads(recipe):
    config = load_config(recipe, ["data.manifest=/data/prepared"])
    assert config.method.temperature > 0 and config.optim.lr > 0


def test_avid_recipes_keep_the_paper_values():
    for name in ("kinetics", "audioset"):
        config = load_config(Path(__file__).parents[1] / "configs" / "avid" / f"{name}.yaml", ["data.manifest=x"])
        assert (config.method.temperature, config.method.num_negatives, config.method.momentum) == (0.07, 1024, 0.5)
        assert config.model.video == "avid_r2plus1d_18" and config.optim.weight_decay == 1e-5


@pytest.mark.parametrize("name, resample, lr, epochs", [("kinetics", 5, 2e-4, 20), ("audioset", 10, 1e-4, 40)])
def test_cma_recipes_keep_the_release_values(name, resample, lr, epochs):
    config = load_config(Path(__file__).parents[1] / "configs" / "avid_cma" / f"{name}.yaml", ["data.manifest=x"])
    cma = config.method.cma
    assert config.method.name == "avid_cma" and cma.search.index == "flat"
    assert (cma.num_positives, cma.agreement, cma.num_negatives_within) == (32, "consensus", 64)
    assert (cma.resample_every, config.optim.lr, config.train.max_epochs) == (resample, lr, epochs)
    assert dict(cma.weights) == {"cross_instance": 1.0, "within_instance": 0.0, "cross_positive": 0.0,
                                 "within_positive": 1.0}


# --- image methods ----------------------------------------------------------------------------------

CONFIGS = Path(__file__).parents[1] / "configs"
IMAGE_RECIPES = {"swav": "imagenet", "seer": "regnet256gf", "byol": "imagenet", "simsiam": "imagenet",
                 "barlow_twins": "imagenet"}


def _image_recipe(method: str, name: str):
    return load_config(CONFIGS / method / f"{name}.yaml", ["data.manifest=x", "data.images.root=/data/imagenet"])


def _built(config):
    """The method and its views as `avssl train` builds them (on the meta device: SEER has 1.3B parameters)."""
    import torch

    from avssl.data.build_image_dataset import build_view_specs
    from avssl.train.build_method import build_method

    with torch.device("meta"):
        method = build_method(config, num_instances=1)
    views = [spec.size for spec in build_view_specs(config.data) for _ in range(spec.count)]
    return method, views


def _global_lr(config, value: float | None = None) -> float:
    from avssl.train.lr_schedule import scaled_lr

    train = config.train
    return scaled_lr(config.optim.lr if value is None else value, config.data.batch_size,
                     train.devices * train.num_nodes, config.optim.scale_lr_by_batch)


@pytest.mark.parametrize("method", sorted(IMAGE_RECIPES))
def test_image_recipes_build_their_method_and_views(method):
    config = _image_recipe(method, IMAGE_RECIPES[method])
    built, views = _built(config)
    assert type(built).__name__ == {"swav": "SwAV", "seer": "SwAV", "byol": "BYOL", "simsiam": "SimSiam",
                                    "barlow_twins": "BarlowTwins"}[method]
    assert config.data.images.source == "folder" and config.train.sync_batchnorm
    assert len(views) == (6 if method == "seer" else 8 if method == "swav" else 2)


def test_swav_recipe_keeps_the_800_epoch_values():
    config = _image_recipe("swav", "imagenet")
    swav, views = _built(config)
    s = config.method.swav
    assert (s.num_prototypes, s.temperature, s.sinkhorn_eps, s.sinkhorn_iters, s.freeze_prototypes_steps) == (
        3000, 0.1, 0.05, 3, 313)
    assert views == [224, 224, 96, 96, 96, 96, 96, 96] and swav.prototypes.weight.shape == (3000, 128)
    o = config.optim
    assert (o.name, o.lars_mode, o.lars_eta, o.lars_clip, o.weight_decay) == ("lars", "larc", 0.001, False, 1e-6)
    assert _global_lr(config) == pytest.approx(4.8) and config.data.batch_size * 64 == 4096
    assert _global_lr(config) * o.warmup_start_ratio == pytest.approx(0.3)
    assert _global_lr(config) * o.final_lr_ratio == pytest.approx(0.0048)
    assert (config.train.max_epochs, o.warmup_epochs) == (800, 10)


def test_seer_recipe_is_swav_on_regnet_y_256gf_with_the_seer_values():
    config = _image_recipe("seer", "regnet256gf")
    swav, views = _built(config)
    assert config.method.name == "swav" and config.model.image == "regnet_y_256gf"
    assert config.model.image_kwargs.activation_checkpointing
    s = config.method.swav
    assert (s.num_prototypes, s.sinkhorn_eps, s.sinkhorn_iters, s.temperature) == (16000, 0.03, 10, 0.1)
    assert views == [160, 160, 96, 96, 96, 96]
    dims = [m.weight.shape[::-1] for m in swav.heads["image"].modules() if type(m).__name__ == "Linear"]
    assert dims == [(10444, 8192), (8192, 8192), (8192, 256)]
    assert not any(type(m).__name__.startswith("BatchNorm") for m in swav.heads["image"].modules())
    assert config.data.batch_size * config.train.devices * config.train.num_nodes == 8192
    assert _global_lr(config) == pytest.approx(9.6) and _global_lr(config) * config.optim.warmup_start_ratio == 0.15
    assert (config.optim.lars_mode, config.optim.weight_decay) == ("larc", 1e-5)


def test_byol_recipe_keeps_the_paper_values():
    config = _image_recipe("byol", "imagenet")
    byol, _ = _built(config)
    o = config.optim
    assert (o.name, o.lars_mode, o.weight_decay, o.exclude_bias_and_norm) == ("lars", "lars", 1.5e-6, True)
    assert _global_lr(config) == pytest.approx(3.2)  # 0.2 x 4096 / 256
    assert config.method.byol.tau_base == 0.996 and (config.train.max_epochs, o.warmup_epochs) == (1000, 10)
    assert byol.heads["image"].out_dim == 256 and byol.predictor.out_dim == 256
    assert byol.heads["image"].layers[0].out_features == 4096 and byol.predictor.layers[0].out_features == 4096


def test_simsiam_recipe_keeps_the_paper_values():
    config = _image_recipe("simsiam", "imagenet")
    simsiam, _ = _built(config)
    o = config.optim
    assert (o.name, o.momentum, o.weight_decay, list(o.fixed_lr_params)) == ("sgd", 0.9, 1e-4, ["predictor"])
    assert _global_lr(config) == pytest.approx(0.1)  # 0.05 x 512 / 256
    last = simsiam.heads["image"].layers[-1]
    assert type(last).__name__ == "BatchNorm1d" and not last.affine and simsiam.predictor.layers[0].out_features == 512


def test_barlow_twins_recipe_keeps_the_paper_values():
    config = _image_recipe("barlow_twins", "imagenet")
    bt, _ = _built(config)
    o = config.optim
    assert config.method.barlow_twins.lambd == 0.0051 and (o.lars_mode, o.weight_decay) == ("lars", 1.5e-6)
    assert config.data.batch_size * config.train.devices * config.train.num_nodes == 2048
    assert (_global_lr(config), _global_lr(config, o.excluded_lr)) == (pytest.approx(1.6), pytest.approx(0.0384))
    assert [m.out_features for m in bt.heads["image"].layers if type(m).__name__ == "Linear"] == [8192] * 3
    assert all(m.bias is None for m in bt.heads["image"].layers if type(m).__name__ == "Linear")
    assert (o.warmup_epochs, config.train.max_epochs, o.final_lr_ratio) == (10, 1000, 0.001)


@pytest.mark.parametrize("method", sorted(IMAGE_RECIPES))
def test_image_demo_recipes_are_tiny_and_read_video_frames(method):
    from avssl.config import ConfigError, require_set

    config = load_config(CONFIGS / method / "demo.yaml")
    with pytest.raises(ConfigError, match="data.manifest"):
        require_set(config, "data.manifest")
    config = load_config(CONFIGS / method / "demo.yaml", ["data.manifest=x"])
    _, views = _built(config)
    assert config.model.image == "tiny_image" and config.data.images.source == "video_frames"
    assert max(views) == 32 and config.train.accelerator == "cpu"
    assert config.method.name == ("swav" if method == "seer" else method)
