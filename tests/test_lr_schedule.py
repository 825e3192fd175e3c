"""Learning-rate schedules: warm-up + cosine multiplier against its formula, the linear scaling rule,
run lengths, and a real optimiser built by build_optimizer + build_schedule (SimSiam's predictor keeps
its base rate while every other group decays; AVID's Adam stays one constant group)."""

from __future__ import annotations

import math

import pytest
import torch
from omegaconf import OmegaConf

from avssl.config import load_config
from avssl.train.build_method import build_method
from avssl.train.lr_schedule import lr_multiplier, scaled_lr, total_steps
from avssl.train.optimizers import build_optimizer, build_schedule

TINY_IMAGE = ("model.image=tiny_image", "model.image_kwargs={out_dim: 16, width: 4}",
              "model.projector.hidden_dims=[16]", "model.projector.out_dim=8", "model.predictor.hidden_dims=[4]")


def expected_multiplier(step: int, total: int, warmup: int, start: float, final: float) -> float:
    """Linear ramp from `start`·base (before step 0) to base at the end of warm-up, then a half cosine
    from base to `final`·base at the last step."""
    if step < warmup:
        return start + (1 - start) * (step + 1) / warmup
    t = (step - warmup) / (total - warmup)
    return final + (1 - final) * (1 + math.cos(math.pi * t)) / 2


@pytest.mark.parametrize("start, final", [(0.0, 0.0), (0.0625, 0.001), (0.3, 0.5)])
def test_warmup_then_cosine_follows_the_formula(start, final):
    total, warmup = 50, 7
    values = [lr_multiplier(s, total, warmup, cosine=True, warmup_start_ratio=start, final_ratio=final)
              for s in range(total + 3)]
    for step, value in enumerate(values[:total]):
        assert value == pytest.approx(expected_multiplier(step, total, warmup, start, final), abs=1e-12), step
    assert values[warmup - 1] == pytest.approx(1.0) and values[warmup] == pytest.approx(1.0)
    assert values[total] == pytest.approx(final) and values[-1] == pytest.approx(final)  # clamped after the end
    assert all(a >= b for a, b in zip(values[warmup:], values[warmup + 1:]))


def test_constant_schedule_warms_up_then_stays():
    assert [lr_multiplier(s, 100, 4, cosine=False) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_linear_scaling_rule():
    assert scaled_lr(0.05, 512, 1, True) == pytest.approx(0.1)  # SimSiam: 0.05 × 512 / 256
    assert scaled_lr(0.2, 64, 64, True) == pytest.approx(3.2)  # BYOL: 0.2 × 4096 / 256
    assert scaled_lr(0.2, 64, 64, False) == 0.2


@pytest.mark.parametrize("items, batch, world, epochs, max_steps, expected", [
    (100, 8, 1, 3, -1, 36),  # 12 full batches per epoch, the last partial one dropped
    (100, 8, 2, 3, -1, 18),
    (100, 8, 1, 3, 20, 20),  # max_steps caps the run
    (100, 8, 1, 3, 500, 36),
    (100, 8, 1, -1, 7, 7),  # epochs unbounded: max_steps alone
    (5, 8, 1, 2, -1, 2),  # fewer items than a batch still counts one step per epoch
])
def test_total_steps(items, batch, world, epochs, max_steps, expected):
    assert total_steps(items, batch, world, epochs, max_steps) == expected


def test_simsiam_predictor_keeps_its_base_rate_while_the_other_groups_decay():
    config = load_config(overrides=["method.name=simsiam", *TINY_IMAGE, "optim.name=sgd", "optim.lr=0.05",
                                    "optim.weight_decay=1e-4", "optim.momentum=0.9", "optim.schedule=cosine",
                                    "optim.scale_lr_by_batch=true", "optim.fixed_lr_params=[predictor]"])
    method = build_method(config, 1)
    optimizer = build_optimizer(method, config.optim, global_batch=512)
    assert isinstance(optimizer, torch.optim.SGD)
    groups = {g["name"]: g for g in optimizer.param_groups}
    assert set(groups) == {"weights", "weights_fixed_lr"}
    predictor = {id(p) for p in method.predictor.parameters()}
    assert {id(p) for p in groups["weights_fixed_lr"]["params"]} == predictor
    total = 10
    scheduler = build_schedule(optimizer, config.optim, steps_per_epoch=5, total=total)
    base = 0.05 * 512 / 256
    for step in range(total):
        assert groups["weights_fixed_lr"]["lr"] == pytest.approx(base)
        assert groups["weights"]["lr"] == pytest.approx(base * expected_multiplier(step, total, 0, 0.0, 0.0))
        optimizer.step()
        scheduler.step()
    assert groups["weights"]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_barlow_twins_biases_get_their_own_scaled_rate_and_every_group_follows_the_warmup():
    config = load_config(overrides=["method.name=barlow_twins", *TINY_IMAGE, "optim.name=lars", "optim.lr=0.2",
                                    "optim.excluded_lr=0.0048", "optim.weight_decay=1.5e-6",
                                    "optim.exclude_bias_and_norm=true", "optim.scale_lr_by_batch=true",
                                    "optim.schedule=cosine", "optim.warmup_epochs=2", "optim.final_lr_ratio=0.001"])
    optimizer = build_optimizer(build_method(config, 1), config.optim, global_batch=2048)
    scheduler = build_schedule(optimizer, config.optim, steps_per_epoch=3, total=30)
    groups = {g["name"]: g for g in optimizer.param_groups}
    assert groups["weights"]["lars_adapt"] and not groups["bias_and_norm"]["lars_adapt"]
    assert groups["bias_and_norm"]["weight_decay"] == 0.0 and groups["weights"]["weight_decay"] == 1.5e-6
    for step in range(8):
        m = expected_multiplier(step, 30, 6, 0.0, 0.001)
        assert groups["weights"]["lr"] == pytest.approx(0.2 * 8 * m)
        assert groups["bias_and_norm"]["lr"] == pytest.approx(0.0048 * 8 * m)
        optimizer.step()
        scheduler.step()


def test_avid_optimiser_is_adam_over_all_parameters_in_one_constant_group():
    config = load_config(overrides=["model.video=tiny_video", "model.audio=tiny_audio", "model.head_hidden=[8]",
                                    "model.embed_dim=8", "method.num_negatives=2"])
    method = build_method(config, num_instances=10)
    optimizer = build_optimizer(method, config.optim, global_batch=32)
    assert type(optimizer) is torch.optim.Adam and len(optimizer.param_groups) == 1
    (group,) = optimizer.param_groups
    assert [id(p) for p in group["params"]] == [id(p) for p in method.parameters() if p.requires_grad]
    assert (group["lr"], group["weight_decay"], group["betas"]) == (2e-4, 1e-5, (0.9, 0.999))
    assert build_schedule(optimizer, config.optim, steps_per_epoch=10, total=100) is None


def test_unknown_optimiser_or_schedule_is_refused():
    config = load_config()
    method = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="optim.name='adamw'"):
        build_optimizer(method, OmegaConf.merge(config.optim, {"name": "adamw"}), 256)
    optimizer = build_optimizer(method, config.optim, 256)
    with pytest.raises(ValueError, match="optim.schedule='step'"):
        build_schedule(optimizer, OmegaConf.merge(config.optim, {"schedule": "step"}), 1, 1)
