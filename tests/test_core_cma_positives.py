"""avssl.core.cma_positives against a numpy brute force for all four agreement modes, with ties
and duplicate memories; the approximate path's recall on clustered memories."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from knn_reference import (
    clustered_unit_vectors,
    exact_grid_vectors,
    recall,
    reference_agreement,
    reference_top_k,
)

from avssl.core import AGREEMENT_MODES, SearchSpec, cma_positives


def memories(n: int = 240, duplicates: int = 15) -> tuple[torch.Tensor, torch.Tensor]:
    video = exact_grid_vectors(n, 6, seed=10, duplicates=duplicates)
    audio = exact_grid_vectors(n, 6, seed=11, duplicates=duplicates)
    audio[-3:] = audio[:3]  # instances whose audio duplicates another's while their video does not
    return video, audio


@pytest.mark.parametrize("backend", ["faiss", "torch"])
@pytest.mark.parametrize("mode", AGREEMENT_MODES)
def test_equal_to_brute_force(mode, backend):
    video, audio = memories()
    spec = SearchSpec(backend=backend, block_bytes=1 << 16)
    positives = cma_positives(video, audio, 12, mode, spec)
    truth = np.sort(reference_top_k(reference_agreement(video, audio, mode), 12, exclude_self=True), axis=1)
    assert positives.dtype == torch.int64 and positives.shape == (240, 12)
    np.testing.assert_array_equal(positives.numpy(), truth)
    assert not (positives == torch.arange(240).unsqueeze(1)).any()
    assert (positives[:, 1:] > positives[:, :-1]).all()  # sorted ascending, no repeats


def test_a_duplicate_in_both_modalities_is_the_first_consensus_positive():
    video, audio = (torch.nn.functional.normalize(m, dim=1) for m in memories(duplicates=0))
    video[100], audio[100] = video[5], audio[5]  # unit rows: a duplicate scores the maximum, 1
    positives = cma_positives(video, audio, 4, "consensus")
    assert 100 in positives[5].tolist() and 5 in positives[100].tolist()


def test_rows_compute_a_slice_of_the_sets():
    video, audio = memories()
    whole = cma_positives(video, audio, 8, "consensus")
    assert torch.equal(cma_positives(video, audio, 8, "consensus", rows=(50, 130)), whole[50:130])


@pytest.mark.parametrize("mode", ["consensus", "union"])
def test_approximate_agreement_recall_on_clustered_memories(mode):
    video = clustered_unit_vectors(2500, 32, clusters=25, spread=0.3, seed=20)
    audio = clustered_unit_vectors(2500, 32, clusters=25, spread=0.3, seed=20)  # same cluster labels
    audio = torch.nn.functional.normalize(audio + 0.2 * torch.randn(audio.shape, generator=torch.Generator().manual_seed(0)), dim=1)
    truth = reference_top_k(reference_agreement(video, audio, mode), 16, exclude_self=True)
    found = cma_positives(video, audio, 16, mode, SearchSpec(index="hnsw", candidate_factor=4))
    assert not (found == torch.arange(2500).unsqueeze(1)).any()
    assert recall(found, truth) > 0.9


@pytest.mark.parametrize("mode", ["consensus", "union"])
def test_approximate_candidates_hold_the_positives_even_without_structure(mode):
    """With a near-exact index (HNSW, efSearch ≫ k) only the choice of candidates limits recall.
    On unstructured memories the consensus positives are rarely in either modality's own top
    candidate_factor·k (per-modality lists held only half of them here), but they are near the top of the
    mean of both similarities, which the joint [v, a] index ranks by; union's lie in the
    per-modality lists by construction."""
    gen = torch.Generator().manual_seed(3)
    video, audio = (torch.nn.functional.normalize(torch.randn(1500, 16, generator=gen), dim=1) for _ in range(2))
    truth = reference_top_k(reference_agreement(video, audio, mode), 8, exclude_self=True)
    spec = SearchSpec(index="hnsw", hnsw_ef_search=400, hnsw_ef_construction=200, candidate_factor=4)
    assert recall(cma_positives(video, audio, 8, mode, spec), truth) > 0.95


def test_bad_arguments():
    video, audio = memories(20, 0)
    with pytest.raises(ValueError, match="mode='both'"):
        cma_positives(video, audio, 4, "both")
    with pytest.raises(ValueError, match="same shape"):
        cma_positives(video, audio[:10], 4)
    with pytest.raises(ValueError, match="k=20"):
        cma_positives(video, audio, 20)
