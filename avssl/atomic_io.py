"""Atomic file writes: a reader never sees a half-written output, an interrupted job never
leaves one behind (DESIGN.md, non-negotiables)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the destination's folder; rename it onto `path` on success.

    The temporary file lives beside the target so the final `os.replace` is a same-filesystem
    rename (atomic on POSIX). On any exception the temporary file is removed and the target is
    left untouched. The temporary name ends with the target's extension, so writers that infer
    the format from it (FFmpeg muxers, numpy) behave as with the real name.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_file_mode())  # mkstemp makes 0600; outputs are shared like any file
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _read_umask() -> int:
    umask = os.umask(0)  # the only portable way to read it; done once, at import, before any threads
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _default_file_mode() -> int:
    """0666 less the process umask: the mode `open(path, "w")` would have given a new file."""
    return 0o666 & ~_UMASK


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` atomically (temp file + fsync + rename)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
