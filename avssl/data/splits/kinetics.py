"""Kinetics-400/600/700 official annotation CSVs.

Header `label,youtube_id,time_start,time_end,split` (Kinetics-400 adds `is_cc`; extra columns are
ignored); the test CSVs may have no `label` column, their clips get `UNLABELLED`. Labels may be
quoted and hold quotes, commas or parentheses ("passing American football (in game)").

There is no official file layout, so `path` is the flat name the ActivityNet Kinetics crawler and
the cvdfoundation/kinetics-dataset archives use: `{youtube_id}_{start:06d}_{end:06d}.mp4`, the
seconds truncated to integers as those tools do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from avssl.data.splits.labelled_video import (
    UNLABELLED,
    LabelledSplit,
    LabelledVideo,
    SplitFormatError,
    SplitLine,
    check_column_count,
    claim_unique,
    parse_csv_line,
    parse_seconds,
    read_split_lines,
)

REQUIRED_COLUMNS = ("youtube_id", "time_start", "time_end")
_SOURCE = "an official Kinetics annotation CSV, see datasets/kinetics/README.md"


def kinetics_clip_file_name(youtube_id: str, start: float, end: float) -> str:
    """The file name downloaders give a Kinetics clip: `{id}_{start:06d}_{end:06d}.mp4`."""
    return f"{youtube_id}_{int(start):06d}_{int(end):06d}.mp4"


def load_kinetics_split(
    csv_path: str | os.PathLike, class_names: Sequence[str] | None = None
) -> LabelledSplit:
    """The clips of one annotation CSV.

    Without `class_names` the classes are the sorted label names of this CSV; pass the train CSV's
    `class_names` when loading val/test so that every split shares one label index.
    """
    csv_path = Path(csv_path)
    lines = read_split_lines(csv_path, _SOURCE)
    if not lines:
        raise SplitFormatError(csv_path, None, "file", "is empty", f"use {_SOURCE}")
    header = _parse_header(csv_path, lines[0])
    column = {name: position for position, name in enumerate(header)}
    has_labels = "label" in column

    rows: list[tuple[SplitLine, str, str, float, float]] = []
    seen: dict[str, int] = {}
    for line in lines[1:]:
        values = parse_csv_line(csv_path, line)
        check_column_count(csv_path, line, values, header)
        youtube_id = values[column["youtube_id"]]
        if not youtube_id:
            raise SplitFormatError(csv_path, line.number, "youtube_id", "is empty", "write the YouTube id")
        start = parse_seconds(csv_path, line, "time_start", values[column["time_start"]])
        end = parse_seconds(csv_path, line, "time_end", values[column["time_end"]])
        if end <= start:
            raise SplitFormatError(
                csv_path,
                line.number,
                "time_end",
                f"{end:g} is not after time_start {start:g}",
                "swap or fix the times",
            )
        label_name = values[column["label"]] if has_labels else ""
        if has_labels and not label_name:
            raise SplitFormatError(
                csv_path,
                line.number,
                "label",
                "is empty",
                "write the class name, or drop the label column (test CSV)",
            )
        path = kinetics_clip_file_name(youtube_id, start, end)
        claim_unique(seen, path, csv_path, line, "youtube_id,time_start,time_end")
        rows.append((line, label_name, path, start, end))

    if class_names is None:
        class_names = sorted({row[1] for row in rows}) if has_labels else []
    class_names = tuple(class_names)
    if len(set(class_names)) != len(class_names):
        raise ValueError(f"class_names for {csv_path} contain duplicates")
    label_of = {name: label for label, name in enumerate(class_names)}

    videos: list[LabelledVideo] = []
    for line, label_name, path, start, end in rows:
        if has_labels and label_name not in label_of:
            raise SplitFormatError(
                csv_path,
                line.number,
                "label",
                f"unknown class name {label_name!r}",
                "pass the class_names of the same Kinetics version (e.g. from its train CSV)",
            )
        label = label_of[label_name] if has_labels else UNLABELLED
        videos.append(LabelledVideo(path=path, label=label, label_name=label_name, start=start, end=end))
    if not videos:
        raise SplitFormatError(csv_path, None, "file", "has a header but no clips", f"use {_SOURCE}")
    return LabelledSplit(name=f"kinetics/{csv_path.stem}", videos=tuple(videos), class_names=class_names)


def _parse_header(csv_path: Path, line: SplitLine) -> list[str]:
    header = parse_csv_line(csv_path, line)
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise SplitFormatError(
            csv_path,
            line.number,
            "header",
            f"missing column(s) {', '.join(missing)} in {line.text!r}",
            "start the file with the official header label,youtube_id,time_start,time_end,split",
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise SplitFormatError(
            csv_path,
            line.number,
            "header",
            f"repeated column(s) {', '.join(repeated)}",
            "name each column once",
        )
    return header
