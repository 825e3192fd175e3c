"""AVID (Morgado et al., CVPR 2021, Sec. 3): terms against a direct float64 formula, memory
order (score first, update after), variant coefficients, and that training lowers the loss."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from avssl.methods import AVID, AVID_VARIANTS

N, K, B, D, TAU = 20, 8, 4, 128, 0.07
VIDEO_SHAPE = (3, 2, 4, 4)
AUDIO_SHAPE = (1, 4, 6)


class FixedSampler:
    """Returns the same (B, K) negatives every call and records the indices it was given."""

    def __init__(self, neg: torch.Tensor) -> None:
        self.neg = neg
        self.calls: list[torch.Tensor] = []

    def __call__(self, index: torch.Tensor) -> torch.Tensor:
        self.calls.append(index.clone())
        return self.neg.clone()


def fixed_negatives(index: torch.Tensor, seed: int = 1) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    neg = torch.randint(0, N - 1, (index.shape[0], K), generator=gen)
    return neg + (neg >= index[:, None]).long()


def make_model(cross: float = 1.0, self_: float = 0.0, sampler=None, seed: int = 0) -> AVID:
    torch.manual_seed(seed)
    encoders = nn.ModuleDict(
        {
            "video": nn.Sequential(nn.Flatten(), nn.Linear(math.prod(VIDEO_SHAPE), 16), nn.ReLU()),
            "audio": nn.Sequential(nn.Flatten(), nn.Linear(math.prod(AUDIO_SHAPE), 16), nn.ReLU()),
        }
    )
    heads = nn.ModuleDict({"video": nn.Linear(16, D), "audio": nn.Linear(16, D)})
    return AVID(encoders, heads, num_instances=N, cross=cross, self_=self_, num_negatives=K, sampler=sampler)


def make_batch(seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {
        "video": torch.randn(B, *VIDEO_SHAPE, generator=gen),
        "audio": torch.randn(B, *AUDIO_SHAPE, generator=gen),
        "index": torch.tensor([3, 0, 17, 9]),
    }


def reference_terms(
    emb: dict[str, torch.Tensor], memory: dict[str, torch.Tensor], index, neg, terms
) -> tuple[dict[str, torch.Tensor], float]:
    """Product-form NCE in float64; Z = mean exp(s_neg) of the first listed term."""
    pairs = {
        "v2a": ("video", "audio"),
        "a2v": ("audio", "video"),
        "v2v": ("video", "video"),
        "a2a": ("audio", "audio"),
    }
    z = None
    out = {}
    for term in terms:
        e = emb[pairs[term][0]].double()
        mem = memory[pairs[term][1]].double()
        s_pos = (e * mem[index]).sum(1) / TAU
        s_neg = torch.einsum("bd,bkd->bk", e, mem[neg]) / TAU
        if z is None:
            z = s_neg.exp().mean().item()
        kz = K * z
        loss = -torch.log(s_pos.exp() / (s_pos.exp() + kz)) - torch.log(kz / (s_neg.exp() + kz)).sum(1)
        out[term] = loss.mean()
    return out, z


@pytest.mark.parametrize("variant", ["cross", "self", "joint"])
def test_terms_equal_float64_formula(variant):
    batch = make_batch()
    neg = fixed_negatives(batch["index"])
    sampler = FixedSampler(neg)
    model = make_model(*AVID_VARIANTS[variant], sampler=sampler)
    memory = {m: model.banks[m].memory.clone() for m in ("video", "audio")}
    with torch.no_grad():
        emb = model.embed(batch)
    out = model(batch)

    terms = {"cross": ["v2a", "a2v"], "self": ["v2v", "a2a"], "joint": ["v2a", "a2v", "v2v", "a2a"]}[variant]
    want, z = reference_terms(emb, memory, batch["index"], neg, terms)
    assert torch.equal(sampler.calls[0], batch["index"])
    assert math.isclose(out["log_z"].item(), math.log(z), rel_tol=1e-5)
    for term in terms:
        torch.testing.assert_close(out[term].double(), want[term], rtol=1e-5, atol=1e-5)
    cross, self_ = AVID_VARIANTS[variant]
    expected_loss = sum((cross if t in ("v2a", "a2v") else self_) * want[t] for t in terms)
    torch.testing.assert_close(out["loss"].double(), expected_loss, rtol=1e-5, atol=1e-5)


def test_scores_use_pre_update_memory_and_banks_update_after():
    batch = make_batch()
    neg = fixed_negatives(batch["index"])
    model = make_model(cross=1.0, self_=1.0, sampler=FixedSampler(neg))
    before = {m: model.banks[m].memory.clone() for m in ("video", "audio")}
    with torch.no_grad():
        emb = model.embed(batch)
    out = model(batch)
    index = batch["index"]

    # Banks: rows at index <- normalise(0.5 M + 0.5 e); all others untouched.
    for m in ("video", "audio"):
        after = model.banks[m].memory
        want = F.normalize(0.5 * before[m][index] + 0.5 * emb[m], dim=1)
        torch.testing.assert_close(after[index], want, rtol=1e-6, atol=1e-6)
        others = torch.ones(N, dtype=torch.bool)
        others[index] = False
        assert torch.equal(after[others], before[m][others])

    # Scores came from the memories before the update: the post-update memories give other values.
    with_before, _ = reference_terms(emb, before, index, neg, ["v2a", "a2v", "v2v", "a2a"])
    after_mem = {m: model.banks[m].memory.clone() for m in ("video", "audio")}
    with_after, _ = reference_terms(emb, after_mem, index, neg, ["v2a", "a2v", "v2v", "a2a"])
    for term in ("v2a", "a2v", "v2v", "a2a"):
        torch.testing.assert_close(out[term].double(), with_before[term], rtol=1e-5, atol=1e-5)
        assert not math.isclose(out[term].item(), with_after[term].item(), rel_tol=1e-3)


def test_partition_function_is_shared_and_frozen_after_first_batch():
    batch = make_batch()
    model = make_model(cross=1.0, self_=1.0, sampler=FixedSampler(fixed_negatives(batch["index"])))
    first = model(batch)["log_z"]
    second = model(make_batch(seed=5))["log_z"]
    assert model.partition.is_frozen
    assert torch.equal(first, second)


@pytest.mark.parametrize(
    ("cross", "self_", "terms"),
    [
        (1.0, 0.0, {"v2a", "a2v"}),
        (0.0, 1.0, {"v2v", "a2a"}),
        (1.0, 1.0, {"v2a", "a2v", "v2v", "a2a"}),
        (0.5, 2.0, {"v2a", "a2v", "v2v", "a2a"}),
    ],
)
def test_coefficients_select_terms(cross, self_, terms):
    batch = make_batch()
    model = make_model(cross, self_, sampler=FixedSampler(fixed_negatives(batch["index"])))
    out = model(batch)
    assert set(out) == terms | {"loss", "log_z"}
    for value in out.values():
        assert value.dim() == 0 and torch.isfinite(value)
    want = sum((cross if t in ("v2a", "a2v") else self_) * out[t] for t in terms)
    torch.testing.assert_close(out["loss"], want)


def test_variant_constructor_and_invalid_coefficients():
    model = make_model()
    cross_model = AVID.variant(
        "self", encoders=model.encoders, heads=model.heads, num_instances=N, num_negatives=K
    )
    assert (cross_model.cross, cross_model.self_) == (0.0, 1.0)
    with pytest.raises(ValueError):
        AVID.variant("both", encoders=model.encoders, heads=model.heads, num_instances=N)
    with pytest.raises(ValueError):
        AVID(model.encoders, model.heads, num_instances=N, cross=0.0, self_=0.0)
    with pytest.raises(ValueError):
        AVID(nn.ModuleDict({"video": nn.Identity()}), model.heads, num_instances=N)


def test_default_sampler_draws_k_negatives_excluding_self():
    batch = make_batch()
    model = make_model()
    neg = model.sampler(batch["index"])
    assert neg.shape == (B, K)
    assert not (neg == batch["index"][:, None]).any()
    out = model(batch)
    assert torch.isfinite(out["loss"])


def test_adam_steps_lower_the_loss():
    batch = make_batch()
    neg = fixed_negatives(batch["index"])
    trained = make_model(cross=1.0, self_=1.0, sampler=FixedSampler(neg), seed=0)
    frozen = copy.deepcopy(trained)  # same start; memories move, parameters do not
    opt = torch.optim.Adam(trained.parameters(), lr=1e-2)
    losses, frozen_losses = [], []
    for _ in range(15):
        out = trained(batch)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        losses.append(out["loss"].item())
        with torch.no_grad():
            frozen_losses.append(frozen(batch)["loss"].item())
    assert losses[0] == pytest.approx(frozen_losses[0])
    assert losses[-1] < 0.5 * losses[0]
    assert losses[-1] < frozen_losses[-1]
