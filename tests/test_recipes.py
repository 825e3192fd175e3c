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
