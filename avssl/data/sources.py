"""Find the raw videos `avssl prepare` should look at: a folder tree or a list file."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv", ".ogv", ".ogg", ".mpg", ".mpeg", ".ts",
    ".3gp", ".wmv",
)


class SourceListError(ValueError):
    """A list file that cannot be used; the message names the file, the field and the fix."""


@dataclass(frozen=True)
class SourceVideo:
    """One candidate: where it is on disk, its stable id (`rel_path`) and its label ('' if none)."""

    abs_path: str
    rel_path: str
    label: str


def discover_sources(src: str | os.PathLike, exclude: str | os.PathLike | None = None,
                     extensions: tuple[str, ...] = VIDEO_EXTENSIONS) -> tuple[Path, list[SourceVideo]]:
    """(root, videos sorted by rel_path) for a folder or a CSV list file.

    Sorting by the relative path, not by directory-listing order, makes the manifest row order,
    and so every instance index, the same on every machine.
    """
    src = Path(src)
    if src.is_dir():
        return src.resolve(), _from_folder(src.resolve(), exclude, extensions)
    if src.is_file():
        return src.resolve().parent, _from_list(src.resolve())
    raise FileNotFoundError(f"{src}: no such folder or list file; give a folder of videos or a CSV with a 'path' column")


def _from_folder(root: Path, exclude: str | os.PathLike | None, extensions: tuple[str, ...]) -> list[SourceVideo]:
    excluded = Path(exclude).resolve() if exclude is not None else None
    wanted = tuple(e.lower() for e in extensions)
    videos = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() != excluded)
        for name in filenames:
            if name.startswith(".") or not name.lower().endswith(wanted):
                continue
            rel = (here / name).relative_to(root).as_posix()
            label = Path(rel).parent.name if "/" in rel else ""
            videos.append(SourceVideo(str(here / name), rel, label))
    return sorted(videos, key=lambda v: v.rel_path)


def _from_list(list_file: Path) -> list[SourceVideo]:
    with open(list_file, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = [f.strip() for f in (reader.fieldnames or [])]
        if "path" not in fields:
            raise SourceListError(
                f"{list_file}: no 'path' column (found: {', '.join(fields) or 'nothing'}); "
                "the first line must be a header such as 'path,label'"
            )
        reader.fieldnames = fields
        seen: dict[str, int] = {}
        videos = []
        for line_number, row in enumerate(reader, start=2):
            rel = (row.get("path") or "").strip()
            if not rel:
                raise SourceListError(f"{list_file}:{line_number}: empty 'path'; every row needs a video path")
            if rel in seen:
                raise SourceListError(
                    f"{list_file}:{line_number}: path {rel!r} already listed on line {seen[rel]}; remove the duplicate"
                )
            seen[rel] = line_number
            abs_path = Path(rel) if Path(rel).is_absolute() else list_file.parent / rel
            videos.append(SourceVideo(str(abs_path), rel, (row.get("label") or "").strip()))
    return sorted(videos, key=lambda v: v.rel_path)
