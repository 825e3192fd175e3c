"""The manifest: the validated list of videos a job trains on; row order is the instance index.

`manifest.csv` holds one row per accepted video, sorted by `path`; `manifest.json` beside it says
where relative paths are rooted and how the manifest was made. Both are written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from avssl.atomic_io import write_text_atomic
from avssl.data.media_info import MediaInfo

MANIFEST_NAME = "manifest.csv"
MANIFEST_META_NAME = "manifest.json"


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file, the row, the field and the fix."""


@dataclass(frozen=True)
class ManifestRow:
    """One accepted video. `path` is the source's id (relative to the source root); `reencoded`
    (relative to the manifest folder) is the file to decode when `avssl prepare --reencode` made
    one. Times are absolute stream seconds of the file that is decoded."""

    path: str
    label: str
    start: float
    duration: float
    video_fps: float
    width: int
    height: int
    video_frames: int
    audio_rate: int
    audio_channels: int
    video_codec: str = ""
    audio_codec: str = ""
    reencoded: str = ""

    @classmethod
    def from_info(cls, path: str, label: str, info: MediaInfo, reencoded: str = "") -> ManifestRow:
        return cls(
            path=path, label=label, start=round(info.av_start, 6), duration=round(info.duration, 6),
            video_fps=round(info.video_fps or 0.0, 6), width=info.width or 0, height=info.height or 0,
            video_frames=info.video_frames or 0, audio_rate=info.audio_rate or 0,
            audio_channels=info.audio_channels or 0, video_codec=info.video_codec or "",
            audio_codec=info.audio_codec or "", reencoded=reencoded,
        )


COLUMNS = tuple(f.name for f in fields(ManifestRow))
_REQUIRED = ("path", "label", "start", "duration")
_TYPES = {f.name: f.type for f in fields(ManifestRow)}


class Manifest:
    """Rows plus the folders their paths are relative to; `class_names` maps labels to ints."""

    def __init__(self, rows: list[ManifestRow], source_root: Path, manifest_dir: Path) -> None:
        self.rows = rows
        self.source_root = source_root
        self.manifest_dir = manifest_dir
        self.class_names = sorted({r.label for r in rows if r.label})
        self._label_index = {name: i for i, name in enumerate(self.class_names)}

    def __len__(self) -> int:
        return len(self.rows)

    def file_for(self, index: int) -> str:
        """The file a loader decodes for instance `index`."""
        row = self.rows[index]
        if row.reencoded:
            return str(self.manifest_dir / row.reencoded)
        path = Path(row.path)
        return str(path if path.is_absolute() else self.source_root / path)

    def label_index(self, index: int) -> int:
        """Integer class of instance `index`, or -1 when unlabelled."""
        return self._label_index.get(self.rows[index].label, -1)


def write_manifest(out_dir: str | os.PathLike, rows: list[ManifestRow], meta: dict) -> Path:
    """Write manifest.csv (sorted by path) and manifest.json atomically; return the csv path."""
    out_dir = Path(out_dir)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: r.path):
        writer.writerow(asdict(row))
    write_text_atomic(out_dir / MANIFEST_META_NAME, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    write_text_atomic(out_dir / MANIFEST_NAME, buffer.getvalue())
    return out_dir / MANIFEST_NAME


def read_manifest(path: str | os.PathLike, source_root: str | os.PathLike | None = None) -> Manifest:
    """Load a manifest csv (or the folder holding one). `source_root` overrides the recorded one,
    e.g. when the raw videos moved to another disk."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: no manifest here; create one with 'avssl prepare SRC --out {path.parent}'")
    meta_file = path.parent / MANIFEST_META_NAME
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    root = Path(source_root) if source_root is not None else Path(meta.get("source_root", path.parent))
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise ManifestError(
                f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(header)}); "
                "regenerate it with 'avssl prepare' or add the columns"
            )
        rows = [_parse_row(path, line, raw) for line, raw in enumerate(reader, start=2)]
    return Manifest(rows, root, path.parent)


def _parse_row(path: Path, line: int, raw: dict[str, str]) -> ManifestRow:
    values = {}
    for name in COLUMNS:
        text = (raw.get(name) or "").strip()
        kind = _TYPES[name]
        try:
            if kind in ("float", float):
                values[name] = float(text) if text else 0.0
            elif kind in ("int", int):
                values[name] = int(float(text)) if text else 0
            else:
                values[name] = text
        except ValueError:
            raise ManifestError(f"{path}:{line}: field '{name}' = {text!r} is not a {kind}; fix or remove the row") from None
    if not values["path"]:
        raise ManifestError(f"{path}:{line}: empty 'path'; every row needs the video's path")
    if values["duration"] <= 0:
        raise ManifestError(f"{path}:{line}: 'duration' must be > 0 (got {values['duration']}); re-run 'avssl prepare'")
    return ManifestRow(**values)
