"""SwAV, BYOL, SimSiam and Barlow Twins as plain modules: each step's loss against its equation
composed in the test, the per-step hooks (prototype freezing and normalisation, the EMA target),
and a few optimiser steps lowering every method's loss from the same start."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from avssl.core import cosine_momentum, sinkhorn, swav_loss
from avssl.methods import BYOL, BarlowTwins, SimSiam, SwAV
from avssl.models import MLP, TinyImageEncoder


def parts(batch_norm: bool = True, out: int = 8) -> tuple[nn.ModuleDict, nn.ModuleDict]:
    encoder = TinyImageEncoder(out_dim=16, width=4, batch_norm=batch_norm)
    return nn.ModuleDict({"image": encoder}), nn.ModuleDict({"image": MLP((16, 32, out), batch_norm=batch_norm)})


def make(name: str, **kwargs) -> nn.Module:
    torch.manual_seed(0)
    encoders, heads = parts(**kwargs)
    if name == "swav":
        return SwAV(encoders, heads, num_prototypes=10, freeze_prototypes_steps=2)
    if name == "byol":
        return BYOL(encoders, heads, MLP((8, 32, 8), batch_norm=True), tau_base=0.9)
    if name == "simsiam":
        return SimSiam(encoders, heads, MLP((8, 4, 8), batch_norm=True))
    return BarlowTwins(encoders, heads)


def batch(sizes=(32, 32), b: int = 12, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(b, 3, 32, 32, generator=g)
    views = [F.interpolate(base + 0.1 * torch.randn(base.shape, generator=g), size=(s, s), mode="bilinear",
                           align_corners=False) for s in sizes]
    return {"views": views, "index": torch.arange(b)}


# --- SwAV ---------------------------------------------------------------------------------------

def test_swav_predicts_the_two_large_crops_codes_from_every_other_crop():
    method = make("swav", batch_norm=False)  # no BN: grouping crops by size then changes nothing
    data = batch(sizes=(32, 32, 16, 16, 16))
    with torch.no_grad():
        z = [F.normalize(method.heads["image"](method.encoders["image"](v)), dim=1) for v in data["views"]]
        scores = [zi @ method.prototypes.weight.T for zi in z]
        expected = swav_loss(scores, [sinkhorn(scores[0]), sinkhorn(scores[1])], temperature=0.1)
        assert method(data)["loss"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_swav_prototypes_are_unit_norm_at_start_and_after_every_step():
    method = make("swav")
    torch.testing.assert_close(method.prototypes.weight.norm(dim=1), torch.ones(10))
    with torch.no_grad():
        method.prototypes.weight.mul_(3.0)
    method.on_after_optimizer_step(0, 10)
    torch.testing.assert_close(method.prototypes.weight.norm(dim=1), torch.ones(10))


def test_swav_prototypes_stay_frozen_for_the_first_steps_even_with_weight_decay():
    method = make("swav")
    optimizer = torch.optim.SGD(method.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
    start = method.prototypes.weight.detach().clone()
    for step in range(3):
        optimizer.zero_grad()
        method(batch(seed=step))["loss"].backward()
        assert method.prototypes.weight.grad is not None
        method.on_before_optimizer_step(step)
        frozen = step < 2
        assert (method.prototypes.weight.grad is None) == frozen
        optimizer.step()
        method.on_after_optimizer_step(step, 3)
        assert torch.allclose(method.prototypes.weight, start, rtol=0, atol=1e-6) == frozen  # renormalising: last bits


def test_swav_queue_fills_from_its_start_epoch_and_is_used_once_full():
    encoders, heads = parts()
    method = SwAV(encoders, heads, num_prototypes=10, queue_length=24, queue_start_epoch=1)
    method.on_train_epoch_start(0)
    method(batch())
    assert int(method.queues[0].count) == 0
    method.on_train_epoch_start(1)
    data = batch(seed=3)
    method.eval()  # fixed BN statistics: the same batch gives the same scores in both calls below
    without_queue = method(data)["loss"]
    assert int(method.queues[0].count) == 12 and not method.queues[0].is_full
    method(batch(seed=4))
    assert method.queues[1].is_full and "queues.0.rows" in method.state_dict()
    assert method(data)["loss"].item() != pytest.approx(without_queue.item(), rel=1e-4)


# --- BYOL ---------------------------------------------------------------------------------------

def test_byol_loss_is_the_symmetric_sum_of_two_minus_two_cosines():
    method = make("byol")
    data = batch()
    loss = method(data)["loss"].item()
    with torch.no_grad():
        online = [method.predictor(method.heads["image"](method.encoders["image"](v))) for v in data["views"]]
        target = [method.target.model(v) for v in data["views"]]

    def two_minus_two_cos(p, z):
        p, z = p.double().numpy(), z.double().numpy()
        return np.mean([2 - 2 * (p[i] @ z[i]) / np.linalg.norm(p[i]) / np.linalg.norm(z[i]) for i in range(len(p))])

    expected = two_minus_two_cos(online[0], target[1]) + two_minus_two_cos(online[1], target[0])
    assert loss == pytest.approx(expected, rel=1e-5)


def test_byol_target_starts_as_the_online_network_and_gets_no_gradient():
    method = make("byol")
    online = method.online_network().state_dict()
    for key, value in method.target.model.state_dict().items():
        assert torch.equal(value, online[key]), key
    method(batch())["loss"].backward()
    assert all(p.grad is None for p in method.target.parameters())
    assert method.encoders["image"].conv1[0].weight.grad is not None


def test_byol_target_follows_the_online_weights_with_the_cosine_tau_schedule():
    method = make("byol")
    with torch.no_grad():
        for p in method.online_network().parameters():
            p.add_(0.5)
    before = [p.clone() for p in method.target.parameters()]
    logged = method.on_after_optimizer_step(3, 10)
    tau = cosine_momentum(3, 10, 0.9)
    assert logged == {"byol/tau": pytest.approx(tau)}
    for old, new, src in zip(before, method.target.parameters(), method.online_network().parameters()):
        torch.testing.assert_close(new, tau * old + (1 - tau) * src, rtol=1e-6, atol=1e-6)


# --- SimSiam ------------------------------------------------------------------------------------

def simsiam_reference(method: SimSiam, data: dict, stop_gradient: bool) -> torch.Tensor:
    z1, z2 = (method.heads["image"](method.encoders["image"](v)) for v in data["views"])
    p1, p2 = method.predictor(z1), method.predictor(z2)
    t1, t2 = (z1.detach(), z2.detach()) if stop_gradient else (z1, z2)
    return -(F.cosine_similarity(p1, t2).mean() + F.cosine_similarity(p2, t1).mean()) / 2


def grads(method: nn.Module, loss: torch.Tensor) -> list[torch.Tensor]:
    method.zero_grad()
    loss.backward()
    return [p.grad.clone() for p in method.heads.parameters()]


def test_simsiam_takes_no_gradient_through_the_target_branch():
    method = make("simsiam")
    data = batch()
    ours = grads(method, method(data)["loss"])
    stopped = grads(method, simsiam_reference(method, data, stop_gradient=True))
    through = grads(method, simsiam_reference(method, data, stop_gradient=False))
    for a, b in zip(ours, stopped):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert any(not torch.allclose(a, b, atol=1e-6) for a, b in zip(ours, through))


def test_simsiam_loss_is_half_the_sum_of_both_directions():
    method = make("simsiam")
    data = batch()
    with torch.no_grad():
        assert method(data)["loss"].item() == pytest.approx(simsiam_reference(method, data, True).item(), rel=1e-6)


# --- all methods --------------------------------------------------------------------------------

METHODS = ("swav", "byol", "simsiam", "barlow_twins")


@pytest.mark.parametrize("name", METHODS)
def test_a_few_optimizer_steps_lower_the_loss_from_the_same_start(name):
    method = make(name)
    data = batch(sizes=(32, 32, 16, 16) if name == "swav" else (32, 32))
    start = method(data)["loss"].item()
    optimizer = torch.optim.Adam(method.parameters(), lr=3e-3)
    for step in range(15):
        optimizer.zero_grad()
        method(data)["loss"].backward()
        getattr(method, "on_before_optimizer_step", lambda s: None)(step + 2)  # SwAV: past the freeze
        optimizer.step()
        getattr(method, "on_after_optimizer_step", lambda s, k: {})(step, 100)
    assert method(data)["loss"].item() < start


@pytest.mark.parametrize("name", METHODS)
def test_embed_returns_unit_norm_encoder_features_of_the_image(name):
    method = make(name).eval()
    images = torch.rand(5, 3, 32, 32)
    with torch.no_grad():
        out = method.embed({"image": images})["image"]
        torch.testing.assert_close(out, F.normalize(method.encoders["image"](images), dim=1))
    assert out.shape == (5, 16)


@pytest.mark.parametrize("views, message", [([torch.zeros(4, 3, 8, 8)], "list of 2"),
                                            ([torch.zeros(4, 3, 8, 8), torch.zeros(3, 3, 8, 8)], "one B"),
                                            ([torch.zeros(4, 1, 8, 8)] * 2, r"\(B, 3, H, W\)")])
def test_a_batch_without_the_right_views_is_refused(views, message):
    with pytest.raises(ValueError, match=message):
        make("simsiam")({"views": views, "index": torch.arange(4)})
