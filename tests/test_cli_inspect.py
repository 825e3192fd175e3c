"""`avssl inspect`: what the decoders see in a file; statistics of a manifest; clean errors."""

from __future__ import annotations

import os
import subprocess
import sys

from avssl.data.prepare import prepare


def _avssl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "avssl.cli", *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "200"})


def test_inspect_file_shows_headers_and_measured_streams(mixed_folder):
    src, _ = mixed_folder
    result = _avssl("inspect", str(src / "cats" / "good_b.mkv"), "--decoders", "pyav")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "matroska" in out and "5.1" in out and "flac" in out
    assert "audio_channels" in out and "6" in out and "usable A/V span" in out


def test_inspect_broken_file_reports_the_reason_and_fails(mixed_folder):
    src, _ = mixed_folder
    result = _avssl("inspect", str(src / "birds" / "to_truncate.mp4"))
    assert result.returncode == 1
    assert "truncated: moov atom not found" in result.stdout


def test_inspect_manifest_prints_summary_statistics(mixed_folder, tmp_path):
    src, _ = mixed_folder
    prepare(src, tmp_path, workers=0, progress=False)
    result = _avssl("inspect", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "videos" in result.stdout and "│ 4 " in result.stdout
    assert "cats, dogs" in result.stdout and "44100 Hz ×3" in result.stdout


def test_prepare_with_a_bad_list_file_exits_2_with_the_reason(tmp_path):
    listing = tmp_path / "l.csv"
    listing.write_text("file\nx.mp4\n")
    result = _avssl("prepare", str(listing), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "no 'path' column" in result.stderr
