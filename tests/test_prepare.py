"""`avssl prepare` on a folder mixing good and broken videos (the issue's acceptance case)."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from avssl.data.decoders import create_decoder
from avssl.data.manifest import read_manifest
from avssl.data.media_check import MediaRequirements
from avssl.data.prepare import prepare
from avssl.data.reencode import ReencodeSpec


def _digests(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _rejected(out: Path) -> dict[str, str]:
    with open(out / "rejected.csv", newline="") as handle:
        return {row["path"]: row["reason"] for row in csv.DictReader(handle)}


def test_cli_accepts_good_rejects_broken_and_leaves_sources_untouched(mixed_folder, tmp_path):
    src, expected = mixed_folder
    before = _digests(src)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "avssl.cli", "prepare", str(src), "--out", str(out),
                             "--workers", "2", "--no-progress"], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "accepted" in result.stdout and "rejected" in result.stdout
    manifest = read_manifest(out)
    accepted = {row.path for row in manifest.rows}
    assert accepted == {p for p, reason in expected.items() if reason == ""}
    rejected = _rejected(out)
    assert set(rejected) == {p for p, reason in expected.items() if reason}
    for path, reason in rejected.items():
        assert reason.startswith(expected[path]), (path, reason)
    assert _digests(src) == before, "sources must stay byte-identical (and untouched)"


def test_manifest_rows_are_sorted_labelled_and_measured(mixed_folder, tmp_path):
    src, _ = mixed_folder
    prepare(src, tmp_path, workers=0, progress=False)
    manifest = read_manifest(tmp_path)
    paths = [row.path for row in manifest.rows]
    assert paths == sorted(paths)
    assert manifest.class_names == ["cats", "dogs"]
    row = {r.path: r for r in manifest.rows}["cats/good_b.mkv"]
    assert row.label == "cats" and row.audio_channels == 6 and row.audio_rate == 44100
    assert row.width == 90 and row.height == 72
    assert row.video_fps == pytest.approx(30000 / 1001, rel=2e-3)
    assert row.duration == pytest.approx(3.0, abs=0.05)
    assert Path(manifest.file_for(paths.index("cats/good_b.mkv"))).is_file()


def test_rerun_after_kill_resumes_and_yields_the_same_manifest(mixed_folder, tmp_path):
    src, _ = mixed_folder
    full = tmp_path / "full"
    prepare(src, full, workers=0, progress=False)
    resumed = tmp_path / "resumed"
    prepare(src, resumed, workers=0, progress=False)
    # Simulate a kill: keep only the first 5 log records plus a torn half line, drop the outputs.
    log = resumed / ".prepare" / "probes.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:5]) + lines[5][: len(lines[5]) // 2])
    (resumed / "manifest.csv").unlink()
    summary = prepare(src, resumed, workers=2, progress=False)
    assert summary.resumed == 5
    assert (resumed / "manifest.csv").read_bytes() == (full / "manifest.csv").read_bytes()
    assert (resumed / "rejected.csv").read_bytes() == (full / "rejected.csv").read_bytes()
    assert all(json.loads(line) for line in log.read_text().splitlines())


def test_a_changed_source_is_probed_again(tmp_path):
    from media_factory import write_video

    src = tmp_path / "src"
    write_video(src / "a" / "x.mp4", seconds=3.0)
    prepare(src, tmp_path / "out", workers=0, progress=False)
    write_video(src / "a" / "x.mp4", seconds=1.0)  # replaced by a too-short file
    summary = prepare(src, tmp_path / "out", workers=0, progress=False)
    assert summary.resumed == 0 and summary.accepted == 0
    assert _rejected(tmp_path / "out")["a/x.mp4"].startswith("too short")


def test_allow_silent_accepts_silent_and_audio_less_videos(mixed_folder, tmp_path):
    src, _expected = mixed_folder
    prepare(src, tmp_path, MediaRequirements(need_audio=False), workers=0, progress=False)
    accepted = {row.path for row in read_manifest(tmp_path).rows}
    assert {"dogs/no_audio.mp4", "dogs/silent.mp4"} <= accepted
    assert "birds/zero.mp4" not in accepted


def test_list_file_source_with_labels(mixed_folder, tmp_path):
    src, _ = mixed_folder
    listing = tmp_path / "list.csv"
    listing.write_text(f"path,label\n{src}/cats/good_a.mp4,kitten\n{src}/dogs/silent.mp4,puppy\n")
    prepare(listing, tmp_path / "out", workers=0, progress=False)
    rows = read_manifest(tmp_path / "out").rows
    assert [(r.path.endswith("good_a.mp4"), r.label) for r in rows] == [(True, "kitten")]


def test_reencode_writes_training_format_copies(mixed_folder, tmp_path):
    src, _ = mixed_folder
    spec = ReencodeSpec(short_side=64, fps=16.0, gop_seconds=1.0)
    prepare(src, tmp_path, reencode_spec=spec, workers=2, progress=False)
    manifest = read_manifest(tmp_path)
    assert len(manifest) == 4 and all(row.reencoded for row in manifest.rows)
    decoder = create_decoder("pyav")
    for i, row in enumerate(manifest.rows):
        copy = manifest.file_for(i)
        assert copy.startswith(str(tmp_path / "videos"))
        info = decoder.probe(copy)
        assert min(info.width, info.height) == 64 and info.audio_rate == 24000 and info.audio_channels == 1
        assert info.video_fps == pytest.approx(16.0, rel=1e-3)
        assert info.duration == pytest.approx(3.0, abs=0.1)
    assert not list((tmp_path / "videos").rglob(".*.tmp*")), "no temporary files may remain"


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder or list file"):
        prepare(tmp_path / "nope", tmp_path / "out", progress=False)
