"""Atomic writes: the target appears whole or not at all, with the mode a plain write would give."""

from __future__ import annotations

import os
import stat

import pytest

from avssl.atomic_io import atomic_path, write_text_atomic


def test_written_file_has_the_umask_mode_not_mkstemps_private_one(tmp_path):
    target = tmp_path / "metrics.json"
    write_text_atomic(target, "{}\n")
    plain = tmp_path / "plain.json"
    plain.write_text("{}\n")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_a_failed_write_leaves_the_old_target_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
