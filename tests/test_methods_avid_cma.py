"""AVID+CMA: every term against a direct float64 formula (product-form NCE), the group weighting,
within-modal terms on the first n_w negatives, negatives over the complement of the positive set,
the resampling schedule and the checkpointed positive sets."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from avssl.core import cma_positives
from avssl.methods import AVIDCMA, CMAWeights

N, K, KW, P, B, D, TAU = 40, 16, 6, 5, 4, 32, 0.07
VIDEO_SHAPE = (3, 2, 4, 4)
AUDIO_SHAPE = (1, 4, 6)
ALL_TERMS = ("inst_v2a", "inst_a2v", "inst_v2v", "inst_a2a", "pos_v2a", "pos_a2v", "pos_v2v", "pos_a2a")


class RecordingComplementSampler:
    """Fixed-seed uniform draws over the complement, recording the exclusions it was given."""

    def __init__(self) -> None:
        self.excludes: list[torch.Tensor] = []

    def __call__(self, index: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor:
        from avssl.core import sample_negatives

        self.excludes.append(exclude.clone())
        return sample_negatives(index, N, K, torch.Generator().manual_seed(5), exclude)


def make_model(weights: CMAWeights, sampler=None, seed: int = 0, partition_per_term: bool = False) -> AVIDCMA:
    torch.manual_seed(seed)
    encoders = nn.ModuleDict({
        "video": nn.Sequential(nn.Flatten(), nn.Linear(math.prod(VIDEO_SHAPE), 16), nn.ReLU()),
        "audio": nn.Sequential(nn.Flatten(), nn.Linear(math.prod(AUDIO_SHAPE), 16), nn.ReLU()),
    })
    heads = nn.ModuleDict({"video": nn.Linear(16, D), "audio": nn.Linear(16, D)})
    return AVIDCMA(encoders, heads, num_instances=N, embed_dim=D, weights=weights, num_positives=P,
                   num_negatives=K, num_negatives_within=KW, resample_every=3, sampler=sampler,
                   partition_per_term=partition_per_term)


def make_batch(seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {"video": torch.randn(B, *VIDEO_SHAPE, generator=gen), "audio": torch.randn(B, *AUDIO_SHAPE, generator=gen),
            "index": torch.tensor([3, 0, 17, 39])}


def nce_product_form(s_pos: torch.Tensor, s_neg: torch.Tensor, z: float) -> torch.Tensor:
    """Wu et al. (2018) NCE with K = number of negatives: −mean_p log h(s_p) − Σ_k log(1 − h(s_k))."""
    kz = s_neg.shape[1] * z
    h_pos = s_pos.exp() / (s_pos.exp() + kz)
    h_neg = s_neg.exp() / (s_neg.exp() + kz)
    return (-h_pos.log().mean(1) - (1 - h_neg).log().sum(1)).mean()


def reference(model: AVIDCMA, batch, memory, positives, neg, z_per_term: bool = False) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        emb = {m: e.double() for m, e in model.embed(batch).items()}
    index = batch["index"]
    mod = {"v": "video", "a": "audio"}
    out, z = {}, None
    for name in ALL_TERMS:
        kind, pair = name.split("_")
        e, mem = emb[mod[pair[0]]], memory[mod[pair[2]]]
        pos_rows = index.unsqueeze(1) if kind == "inst" else positives[index]
        negatives = neg if pair[0] != pair[2] else neg[:, :KW]
        s_pos = torch.einsum("bd,bpd->bp", e, mem[pos_rows]) / TAU
        s_neg = torch.einsum("bd,bkd->bk", e, mem[negatives]) / TAU
        if z is None or z_per_term:
            z = s_neg.exp().mean().item()  # shared: Z from the first term (cross-modal instance, K negatives)
        out[name] = nce_product_form(s_pos, s_neg, z)
    return out


@pytest.mark.parametrize("per_term", [False, True], ids=["shared-Z", "Z-per-term"])
def test_every_term_and_the_weighted_total_match_the_formula(per_term):
    weights = CMAWeights(cross_instance=1.0, within_instance=2.0, cross_positive=3.0, within_positive=4.0)
    sampler = RecordingComplementSampler()
    model = make_model(weights, sampler, partition_per_term=per_term)
    model.update_positives(epoch=0)
    batch = make_batch()
    memory = {m: model.banks[m].memory.double().clone() for m in ("video", "audio")}
    positives = model.positives.clone()
    neg = sampler(batch["index"], positives[batch["index"]])
    sampler.excludes.clear()
    out = model(batch)
    expected = reference(model, batch, memory, positives, neg, per_term)  # no optimiser step: same embeddings
    for name in ALL_TERMS:
        assert out[name].item() == pytest.approx(expected[name].item(), rel=1e-5), name
    groups = {"cross_instance": ("inst_v2a", "inst_a2v"), "within_instance": ("inst_v2v", "inst_a2a"),
              "cross_positive": ("pos_v2a", "pos_a2v"), "within_positive": ("pos_v2v", "pos_a2a")}
    total = sum(getattr(weights, g) / 10.0 * (expected[a] + expected[b]) / 2 for g, (a, b) in groups.items())
    assert out["loss"].item() == pytest.approx(total.item(), rel=1e-5)
    assert torch.equal(sampler.excludes[0], positives[batch["index"]])  # negatives avoid the positive sets


def test_per_term_partition_functions_are_frozen_checkpointed_and_not_the_shared_one():
    model = make_model(CMAWeights(1, 1, 1, 1), RecordingComplementSampler(), partition_per_term=True)
    model.update_positives(0)
    model(make_batch())
    z = {name: float(p.z) for name, p in model.term_partitions.items()}
    assert set(z) == set(ALL_TERMS) and len(set(z.values())) > 1  # each term its own estimate
    assert not model.partition.is_frozen  # the shared Z (restored from AVID when released) is unused
    model(make_batch(seed=1))
    assert {name: float(p.z) for name, p in model.term_partitions.items()} == z  # frozen after the first step
    restored = make_model(CMAWeights(1, 1, 1, 1), partition_per_term=True, seed=1)
    restored.load_state_dict(model.state_dict())
    assert {name: float(p.z) for name, p in restored.term_partitions.items()} == z


def test_release_weights_use_two_groups_and_skip_the_others():
    model = make_model(CMAWeights(), RecordingComplementSampler())
    model.update_positives(0)
    out = model(make_batch())
    assert {t.name for t in model.terms} == {"inst_v2a", "inst_a2v", "pos_v2v", "pos_a2a"}
    assert [t.negatives for t in model.terms] == [None, None, KW, KW]
    expected = 0.5 * (out["inst_v2a"] + out["inst_a2v"]) / 2 + 0.5 * (out["pos_v2v"] + out["pos_a2a"]) / 2
    assert out["loss"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_positive_sets_come_from_the_banks_and_follow_the_schedule():
    model = make_model(CMAWeights())
    with pytest.raises(RuntimeError, match="not computed"):
        model(make_batch())
    assert model.positives_due(0)
    logged = model.on_train_epoch_start(0)
    assert "cma/positives_seconds" in logged
    expected = cma_positives(model.banks["video"].memory, model.banks["audio"].memory, P, "consensus")
    assert torch.equal(model.positives, expected)
    assert [model.positives_due(e) for e in (0, 1, 2, 3)] == [False, False, False, True]
    assert model.on_train_epoch_start(1) == {}
    state = copy.deepcopy(model.state_dict())
    restored = make_model(CMAWeights(), seed=1)
    restored.load_state_dict(state)
    assert torch.equal(restored.positives, model.positives) and int(restored.positives_epoch) == 0
    assert not restored.positives_due(2)


def test_training_steps_lower_the_loss():
    model = make_model(CMAWeights(1, 1, 1, 1), RecordingComplementSampler())
    model.update_positives(0)
    batch = make_batch()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        out = model(batch)
        optimiser.zero_grad()
        out["loss"].backward()
        optimiser.step()
        losses.append(out["loss"].item())
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.parametrize("kwargs,match", [
    ({"weights": CMAWeights(0, 0, 0, 0)}, "not all zero"),
    ({"agreement": "both"}, "agreement='both'"),
    ({"num_positives": N - 1}, "num_positives"),
    ({"num_negatives_within": K + 1}, "num_negatives_within"),
])
def test_invalid_settings(kwargs, match):
    base = make_model(CMAWeights())
    settings = {"weights": CMAWeights(), "num_positives": P, "num_negatives": K, "num_negatives_within": KW, **kwargs}
    with pytest.raises(ValueError, match=match):
        AVIDCMA(base.encoders, base.heads, num_instances=N, embed_dim=D, **settings)
