"""VGGSound official annotation file `vggsound.csv`.

No header; rows `youtube_id,start_seconds,label,split` with integer start seconds, split `train` or
`test`, every clip 10 s long. Labels may be quoted and hold commas ("male speech, man speaking").
Classes are the sorted label names of the whole file (both subsets), so train and test share one
label index.

There is no official file layout. `path` is `{youtube_id}_{start:06d}.mp4`, the name of the
widely shared VGGSound video release.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from avssl.data.splits.labelled_video import (
    LabelledSplit,
    LabelledVideo,
    SplitFormatError,
    SplitLine,
    check_column_count,
    claim_unique,
    parse_csv_line,
    parse_int,
    read_split_lines,
)

COLUMNS = ("youtube_id", "start_seconds", "label", "split")
SUBSETS = ("train", "test")
CLIP_SECONDS = 10.0
_SOURCE = "vggsound.csv from the VGGSound page, see datasets/vggsound/README.md"


def vggsound_clip_file_name(youtube_id: str, start: int) -> str:
    """The file name of a downloaded VGGSound clip: `{id}_{start:06d}.mp4`."""
    return f"{youtube_id}_{start:06d}.mp4"


def load_vggsound_split(
    csv_path: str | os.PathLike,
    subset: Literal["train", "test"],
    class_names: Sequence[str] | None = None,
) -> LabelledSplit:
    """The clips of one subset; the whole file is validated whichever subset is asked for."""
    if subset not in SUBSETS:
        raise ValueError(f"VGGSound subset must be one of {SUBSETS}, got {subset!r}")
    csv_path = Path(csv_path)

    rows: list[tuple[SplitLine, str, str, int, str]] = []
    seen = {name: {} for name in SUBSETS}
    for line in read_split_lines(csv_path, _SOURCE):
        values = parse_csv_line(csv_path, line)
        check_column_count(csv_path, line, values, COLUMNS)
        youtube_id, start_text, label_name, row_subset = values
        if not youtube_id:
            raise SplitFormatError(csv_path, line.number, "youtube_id", "is empty", "write the YouTube id")
        start = parse_int(
            csv_path, line, "start_seconds", start_text, "write the start as whole seconds, e.g. 30"
        )
        if start < 0:
            raise SplitFormatError(
                csv_path, line.number, "start_seconds", f"{start} is negative", "write seconds >= 0"
            )
        if not label_name:
            raise SplitFormatError(csv_path, line.number, "label", "is empty", "write the class name")
        if row_subset not in SUBSETS:
            raise SplitFormatError(
                csv_path, line.number, "split", f"{row_subset!r} is not train or test", "write train or test"
            )
        path = vggsound_clip_file_name(youtube_id, start)
        claim_unique(seen[row_subset], path, csv_path, line, "youtube_id,start_seconds")
        rows.append((line, label_name, path, start, row_subset))

    class_names = tuple(sorted({row[1] for row in rows}) if class_names is None else class_names)
    if len(set(class_names)) != len(class_names):
        raise ValueError(f"class_names for {csv_path} contain duplicates")
    label_of = {name: label for label, name in enumerate(class_names)}

    videos: list[LabelledVideo] = []
    for line, label_name, path, start, row_subset in rows:
        if label_name not in label_of:
            raise SplitFormatError(
                csv_path,
                line.number,
                "label",
                f"unknown class name {label_name!r}",
                "pass class_names that include every VGGSound class, or none to use the file's own",
            )
        if row_subset == subset:
            videos.append(
                LabelledVideo(
                    path=path,
                    label=label_of[label_name],
                    label_name=label_name,
                    start=float(start),
                    end=start + CLIP_SECONDS,
                )
            )
    if not videos:
        raise SplitFormatError(csv_path, None, "split", f"no clip belongs to {subset!r}", f"use {_SOURCE}")
    return LabelledSplit(name=f"vggsound/{subset}", videos=tuple(videos), class_names=class_names)
