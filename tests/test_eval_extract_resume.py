"""`avssl extract` resumes: finished feature chunks are reused, never recomputed, and a changed
setting never reuses stale ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from eval_fixtures import tiny_checkpoint, ucf_folder, ucf_overrides
from rich.console import Console

from avssl.eval import features
from avssl.eval.eval_job import run_extract

TRAIN_CLIPS = 9 * 2  # 9 training videos x eval.features.clips_per_video=2


def chunk_files(out: Path, clips_per_video: int = 2) -> dict[str, tuple[int, int]]:
    """{chunk file: (inode, mtime_ns)} of the training subset's resumable chunks."""
    folder = out / "features" / "fold1" / f"train-{clips_per_video}uniform"
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.pt"))}


@pytest.fixture()
def extract(tmp_path_factory, tmp_path, monkeypatch):
    monkeypatch.setattr(features, "CHUNK_BATCHES", 1)  # one chunk per batch of 4 clips: 5 chunks
    ucf, checkpoint = ucf_folder(tmp_path_factory), tiny_checkpoint(tmp_path_factory)
    prepared = tmp_path_factory.getbasetemp() / "eval_ucf_prepared"

    def run(*extra: str) -> Path:
        overrides = ucf_overrides(ucf, prepared, "eval.features.subsets=[train]", "eval.features.modalities=[video]",
                                  *extra)
        run_extract(checkpoint, None, overrides, tmp_path, console=Console(quiet=True))
        return tmp_path

    return run


def test_a_rerun_reuses_every_finished_chunk(extract):
    out = extract()
    first = chunk_files(out)
    assert len(first) == 5 and max(first) == f"{16:010d}-{TRAIN_CLIPS:010d}.pt"
    pool = np.load(out / "train" / "video_pool_clips.npy")
    extract()
    assert chunk_files(out) == first  # same files: same inodes, untouched
    np.testing.assert_array_equal(np.load(out / "train" / "video_pool_clips.npy"), pool)


def test_an_interrupted_run_recomputes_only_the_missing_chunk(extract):
    out = extract()
    first = chunk_files(out)
    pool = np.load(out / "train" / "video_pool_clips.npy")
    missing = sorted(first)[2]
    (out / "features" / "fold1" / "train-2uniform" / missing).unlink()  # killed before this chunk was written
    extract()
    again = chunk_files(out)
    assert again.keys() == first.keys() and again[missing] != first[missing]
    assert {k: v for k, v in again.items() if k != missing} == {k: v for k, v in first.items() if k != missing}
    np.testing.assert_allclose(np.load(out / "train" / "video_pool_clips.npy"), pool, rtol=1e-6, atol=1e-6)


def test_another_stage_does_not_reuse_stale_chunks(extract):
    out = extract()
    first = chunk_files(out)
    extract("eval.features.stages=[conv5x]")
    changed = chunk_files(out)
    assert changed.keys() == first.keys() and all(changed[k] != first[k] for k in first)
    for name in changed:  # every chunk holds the new stage only: none of the pool chunks survived
        chunk = torch.load(out / "features" / "fold1" / "train-2uniform" / name, weights_only=True)
        assert "video/conv5x" in chunk and "video/pool" not in chunk
    assert (out / "train" / "video_conv5x_clips.npy").is_file()


def test_another_clip_count_extracts_into_its_own_folder(extract):
    out = extract()
    first = chunk_files(out)
    extract("eval.features.clips_per_video=3")
    assert chunk_files(out) == first  # the 2-clip chunks are neither reused nor touched
    assert len(chunk_files(out, 3)) == 7  # 27 clips in chunks of 4
    assert np.load(out / "train" / "video_pool_clips.npy").shape[0] == 27
