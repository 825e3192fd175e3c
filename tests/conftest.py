"""Shared fixtures: real media written once per session with PyAV (see media_factory.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from media_factory import write_broken_set


@pytest.fixture(scope="session")
def mixed_folder(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A class_name/video.ext tree of good and broken files, with the expected verdicts."""
    folder = tmp_path_factory.mktemp("mixed_videos")
    return folder, write_broken_set(folder)
