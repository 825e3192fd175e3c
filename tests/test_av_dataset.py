"""AVClipDataset: correct batches from a manifest through DataLoader workers, with every back-end;
bad files replaced by other videos that keep their own instance index."""

from __future__ import annotations

import logging
import shutil

import pytest
import torch
from media_factory import LOSSLESS_VIDEO, frame_index_of, write_video
from torch.utils.data import DataLoader

from avssl.config import load_config
from avssl.data.av_dataset import AVClipDataset, DecodeSize
from avssl.data.build_dataset import build_av_dataset
from avssl.data.clip_sampling import AVClipSampler, UniformClipSampler
from avssl.data.decoders import create_decoder
from avssl.data.manifest import read_manifest
from avssl.data.prepare import prepare


@pytest.fixture()
def prepared(prepared_mixed):
    return prepared_mixed


def _backend_available(name: str) -> None:
    try:
        create_decoder(name).probe  # noqa: B018 — import check only
    except ImportError as error:
        pytest.skip(f"{name} back-end unavailable: {error}")


@pytest.mark.parametrize("backend", ["pyav", "decord", "torchcodec"])
@pytest.mark.parametrize("training", [True, False])
def test_two_worker_loader_yields_avid_batches(prepared, backend, training):
    _backend_available(backend)
    cfg = load_config(overrides=[f"data.manifest={prepared}", f"data.decoder={backend}", "data.clip.clips_per_video=2"]).data
    dataset = build_av_dataset(cfg, training=training)
    manifest = dataset.manifest
    assert len(dataset) == 2 * len(manifest)
    loader = DataLoader(dataset, batch_size=3, num_workers=2, shuffle=False)
    seen = []
    for batch in loader:
        b = batch["index"].shape[0]
        assert batch["video"].shape == (b, 3, 8, 112, 112) and batch["video"].dtype == torch.float32
        assert batch["audio"].shape == (b, 1, 200, 257) and batch["audio"].dtype == torch.float32
        assert torch.isfinite(batch["video"]).all() and torch.isfinite(batch["audio"]).all()
        assert (batch["decode_failures"] == 0).all()
        for index, label in zip(batch["index"].tolist(), batch["label"].tolist()):
            assert label == manifest.label_index(index)
        seen += batch["index"].tolist()
    assert seen == [i // 2 for i in range(len(dataset))]  # item i is clip i % 2 of video i // 2


def test_frames_come_from_the_sampled_times(tmp_path):
    src = tmp_path / "src"
    write_video(src / "a" / "v.mkv", seconds=4.0, fps=25.0, video_encoding=LOSSLESS_VIDEO, audio_codec="flac",
                container_format="matroska")
    prepare(src, tmp_path / "out", workers=0, progress=False)
    manifest = read_manifest(tmp_path / "out")
    sampler = AVClipSampler(UniformClipSampler(2.0, 3), video_fps=8.0, video_frames=4)
    dataset = AVClipDataset(manifest, sampler, clips_per_video=3, decode_size=DecodeSize(None), with_audio=False)
    for item in range(3):
        frames = dataset[item]["video"]
        span = dataset.span_for(0, item, None)
        expected = [int(t * 25 + 1e-6) % 32 for t in span.video_times]  # gray levels wrap every 32 frames
        assert [frame_index_of(f.numpy()) for f in frames] == expected


def test_same_item_same_sample_new_epoch_new_augmentation(prepared):
    cfg = load_config(overrides=[f"data.manifest={prepared}"]).data
    dataset = build_av_dataset(cfg, training=True)
    a, b = dataset[3], dataset[3]
    assert torch.equal(a["video"], b["video"]) and torch.equal(a["audio"], b["audio"])
    dataset.set_epoch(1)
    assert not torch.equal(a["video"], dataset[3]["video"])


def test_broken_file_is_replaced_by_another_video_with_its_own_index(prepared, tmp_path, caplog):
    copy = tmp_path / "prepared"
    shutil.copytree(prepared, copy)
    manifest = read_manifest(copy)
    broken = 1
    bad_file = tmp_path / "gone.mp4"
    bad_file.write_bytes(b"not a video any more")
    manifest.rows[broken] = manifest.rows[broken].__class__(**{**manifest.rows[broken].__dict__, "path": str(bad_file)})
    cfg = load_config(overrides=[f"data.manifest={copy}"]).data
    dataset = build_av_dataset(cfg, training=True, manifest=manifest)
    items = [broken * cfg.clip.clips_per_video + j for j in range(3)]
    with caplog.at_level(logging.WARNING):
        samples = [dataset[i] for i in items]
    for sample in samples:
        assert sample["decode_failures"] >= 1
        assert sample["index"] != broken
        assert sample["label"] == manifest.label_index(sample["index"])
    warnings = [r for r in caplog.records if "gone.mp4" in r.getMessage()]
    assert len(warnings) == 1, "a bad file is logged once, not once per sample"


def test_all_files_broken_is_an_error_after_bounded_retries(prepared, tmp_path):
    manifest = read_manifest(prepared)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"")
    manifest.rows[:] = [r.__class__(**{**r.__dict__, "path": str(bad)}) for r in manifest.rows]
    cfg = load_config(overrides=[f"data.manifest={prepared}", "data.max_retries=3"]).data
    dataset = build_av_dataset(cfg, training=True, manifest=manifest)
    with pytest.raises(RuntimeError, match="4 consecutive samples failed"):
        dataset[0]
