"""Features on disk: npy and pt round trips, and the FAISS index `avssl extract` writes searches
exactly like brute-force cosine similarity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from avssl.core.top_k_selection import faiss
from avssl.data.manifest import Manifest, ManifestRow
from avssl.eval.feature_store import load_features, save_features
from avssl.eval.features import ClipFeatures

VIDEOS, CLIPS = 7, 3


def synthetic(seed: int = 0) -> tuple[ClipFeatures, Manifest]:
    generator = torch.Generator().manual_seed(seed)
    clip_video = torch.arange(VIDEOS).repeat_interleave(CLIPS)
    features = {"video/pool": torch.randn(VIDEOS * CLIPS, 16, generator=generator),
                "audio/conv5x": torch.randn(VIDEOS * CLIPS, 12, generator=generator)}
    rows = [ManifestRow(f"c{i % 2}/v{i},with comma.mp4", f"c{i % 2}", 0.0, 3.0, 25.0, 64, 48, 75, 24000, 1)
            for i in range(VIDEOS)]
    return ClipFeatures(features, clip_video, VIDEOS, decode_failures=2), Manifest(rows, Path("/src"), Path("/m"))


@pytest.mark.parametrize("fmt", ["npy", "pt"])
def test_features_round_trip(tmp_path, fmt):
    clips, manifest = synthetic()
    folder = save_features(tmp_path / fmt, clips, manifest, fmt, meta={"fold": "fold1"})
    loaded, rows = load_features(folder)
    assert sorted(loaded.features) == sorted(clips.features)
    for key, value in clips.features.items():
        assert torch.equal(loaded[key], value) and loaded[key].dtype == torch.float32
    assert torch.equal(loaded.clip_video, clips.clip_video) and loaded.num_videos == VIDEOS
    assert loaded.decode_failures == 2 and loaded.meta["fold"] == "fold1"
    assert [(r["video"], r["path"], r["label"]) for r in rows] == [(i, r.path, r.label)
                                                                   for i, r in enumerate(manifest.rows)]
    expected_means = clips["video/pool"].view(VIDEOS, CLIPS, -1).double().mean(1)
    torch.testing.assert_close(loaded.video_level()["video/pool"].double(), expected_means)
    if fmt == "npy":
        np.testing.assert_allclose(np.load(folder / "video_pool_videos.npy"), expected_means.numpy(), rtol=1e-6,
                                   atol=1e-6)


def test_an_unfinished_folder_is_refused_with_the_fix(tmp_path):
    clips, manifest = synthetic()
    folder = save_features(tmp_path / "f", clips, manifest)
    (folder / "features.json").unlink()
    with pytest.raises(FileNotFoundError, match="did not finish.*rerun 'avssl extract'"):
        load_features(folder)


@pytest.mark.skipif(faiss is None, reason="needs faiss")
def test_faiss_index_search_equals_brute_force_cosine(tmp_path):
    clips, manifest = synthetic()
    folder = save_features(tmp_path / "f", clips, manifest, faiss_index=True)
    database = clips.video_level()["video/pool"].double()
    index = faiss.read_index(str(folder / "video_pool_videos.faiss"))
    assert index.ntotal == VIDEOS and index.d == 16
    queries = torch.randn(5, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    unit_queries = torch.nn.functional.normalize(queries, dim=1)
    scores, ids = index.search(unit_queries.float().numpy(), VIDEOS)
    cosine = unit_queries @ torch.nn.functional.normalize(database, dim=1).T
    expected_scores, expected_ids = cosine.sort(dim=1, descending=True)
    assert np.array_equal(ids, expected_ids.numpy())
    np.testing.assert_allclose(scores, expected_scores.numpy(), atol=1e-5)
