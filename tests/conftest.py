"""Shared fixtures: real media written once per session with PyAV (see media_factory.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from avssl.data.prepare import prepare

sys.path.insert(0, str(Path(__file__).parent))

from media_factory import write_broken_set


@pytest.fixture(scope="session")
def mixed_folder(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A class_name/video.ext tree of good and broken files, with the expected verdicts."""
    folder = tmp_path_factory.mktemp("mixed_videos")
    return folder, write_broken_set(folder)


@pytest.fixture(scope="session")
def prepared_mixed(mixed_folder, tmp_path_factory) -> Path:
    """`avssl prepare` output for `mixed_folder` (4 accepted videos of 3 s in 2 classes).
    Tests must not modify it: copy it first."""
    out = tmp_path_factory.mktemp("prepared_mixed")
    prepare(mixed_folder[0], out, workers=0, progress=False)
    return out
