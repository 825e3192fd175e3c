"""SwAV's swapped prediction (Eq. 2, multi-crop) against loops in float64: each assigned crop's code
is predicted from every other crop, never from itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avssl.core import swav_loss


def reference_swav(scores: list[np.ndarray], codes: list[np.ndarray], temperature: float) -> float:
    pairs = []
    for t, q in enumerate(codes):
        for v, s in enumerate(scores):
            if v == t:
                continue
            total = 0.0
            for b in range(s.shape[0]):
                logits = s[b] / temperature
                log_p = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
                total += -(q[b] * log_p).sum()
            pairs.append(total / s.shape[0])
    return float(np.mean(pairs))


def crops(n: int, b: int = 5, k: int = 7, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, k, generator=g, dtype=torch.float64) for _ in range(n)]


def codes_for(n: int, b: int = 5, k: int = 7) -> list[torch.Tensor]:
    return [torch.softmax(s * 3, dim=1) for s in crops(n, b, k, seed=9)]


@pytest.mark.parametrize("num_crops, num_codes", [(2, 2), (8, 2), (6, 1), (3, 3)])
def test_loss_equals_the_mean_over_target_and_predicting_crop_pairs(num_crops, num_codes):
    s, q = crops(num_crops), codes_for(num_codes)
    expected = reference_swav([x.numpy() for x in s], [x.numpy() for x in q], 0.1)
    assert swav_loss(s, q, 0.1).item() == pytest.approx(expected, rel=1e-12)


def test_a_crop_never_predicts_its_own_code():
    # One code (crop 0's): only crops 1 and 2 predict it, so crop 0's scores are not in the loss at all.
    s = [x.clone().requires_grad_() for x in crops(3)]
    swav_loss(s, codes_for(1)).backward()
    assert s[0].grad is None
    assert s[1].grad.abs().sum() > 0 and s[2].grad.abs().sum() > 0


def test_no_gradient_flows_into_the_codes_and_scores_get_one():
    s = [x.clone().requires_grad_() for x in crops(3)]
    q = [x.clone().requires_grad_() for x in codes_for(2)]
    swav_loss(s, q).backward()
    assert all(x.grad is None for x in q)
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in s)


def test_mismatched_shapes_and_too_few_crops_are_refused():
    with pytest.raises(ValueError, match="same"):
        swav_loss(crops(2), [torch.zeros(5, 3)])
    with pytest.raises(ValueError, match=">= 2 crops"):
        swav_loss(crops(1), codes_for(1))
