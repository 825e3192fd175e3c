"""AudioSet official segment CSVs and label map (multi-label).

Segment files (`balanced_train_segments.csv`, `unbalanced_train_segments.csv`,
`eval_segments.csv`) start with `#` comment lines, then rows
`YTID, start_seconds, end_seconds, "<mid>,<mid>,..."` (note the space after each comma).
`class_labels_indices.csv` (`index,mid,display_name`) fixes the 527 class indices.
Each clip's `labels` are its positive classes in file order; `label` is the first of them.

There is no official file layout. `path` is `{YTID}_{start_ms}_{end_ms}.mp4`, times in integer
milliseconds: the name audiosetdl produces and the official AVID-CMA file lists use, and exact
for the segments that do not start or end on a whole second.
"""

from __future__ import annotations

import os
from pathlib import Path

from avssl.data.splits.labelled_video import (
    LabelledSplit,
    LabelledVideo,
    SplitFormatError,
    SplitLine,
    check_column_count,
    check_csv_header,
    claim_unique,
    parse_csv_line,
    parse_int,
    parse_seconds,
    read_split_lines,
)

LABEL_MAP_COLUMNS = ("index", "mid", "display_name")
SEGMENT_COLUMNS = ("YTID", "start_seconds", "end_seconds", "positive_labels")
_LABEL_MAP_SOURCE = (
    "class_labels_indices.csv from the AudioSet download page, see datasets/audioset/README.md"
)
_SEGMENTS_SOURCE = "an official AudioSet segments CSV, see datasets/audioset/README.md"


def audioset_clip_file_name(youtube_id: str, start: float, end: float) -> str:
    """The file name of a downloaded AudioSet segment: `{id}_{start_ms}_{end_ms}.mp4`."""
    return f"{youtube_id}_{round(start * 1000)}_{round(end * 1000)}.mp4"


def load_audioset_label_map(class_labels_csv: str | os.PathLike) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`(mids, display_names)` ordered by the official class index (position i is label i)."""
    lines = read_split_lines(class_labels_csv, _LABEL_MAP_SOURCE)
    check_csv_header(class_labels_csv, lines, LABEL_MAP_COLUMNS, _LABEL_MAP_SOURCE)
    mids: list[str] = []
    display_names: list[str] = []
    seen: dict[str, int] = {}
    for line in lines[1:]:
        values = parse_csv_line(class_labels_csv, line)
        check_column_count(class_labels_csv, line, values, LABEL_MAP_COLUMNS)
        index = parse_int(class_labels_csv, line, "index", values[0], "write the 0-based class index first")
        if index != len(mids):
            raise SplitFormatError(
                class_labels_csv,
                line.number,
                "index",
                f"found {index}, expected {len(mids)}",
                "list classes in order with indices 0, 1, 2, ... and no gaps",
            )
        claim_unique(seen, values[1], class_labels_csv, line, "mid")
        mids.append(values[1])
        display_names.append(values[2])
    if not mids:
        raise SplitFormatError(
            class_labels_csv, None, "file", "contains no classes", f"use {_LABEL_MAP_SOURCE}"
        )
    return tuple(mids), tuple(display_names)


def load_audioset_split(
    segments_csv: str | os.PathLike, class_labels_csv: str | os.PathLike
) -> LabelledSplit:
    """The segments of one AudioSet CSV; `class_names` are the display names of the label map."""
    segments_csv = Path(segments_csv)
    mids, display_names = load_audioset_label_map(class_labels_csv)
    label_of = {mid: label for label, mid in enumerate(mids)}

    videos: list[LabelledVideo] = []
    seen: dict[str, int] = {}
    for line in read_split_lines(segments_csv, _SEGMENTS_SOURCE):
        if line.text.startswith("#"):
            continue
        values = parse_csv_line(segments_csv, line, skip_initial_space=True)
        check_column_count(segments_csv, line, values, SEGMENT_COLUMNS)
        youtube_id = values[0]
        if not youtube_id:
            raise SplitFormatError(segments_csv, line.number, "YTID", "is empty", "write the YouTube id")
        start = parse_seconds(segments_csv, line, "start_seconds", values[1])
        end = parse_seconds(segments_csv, line, "end_seconds", values[2])
        if end <= start:
            raise SplitFormatError(
                segments_csv,
                line.number,
                "end_seconds",
                f"{end:g} is not after start_seconds {start:g}",
                "fix the times",
            )
        labels = _parse_positive_labels(segments_csv, line, values[3], label_of)
        path = audioset_clip_file_name(youtube_id, start, end)
        claim_unique(seen, path, segments_csv, line, "YTID,start_seconds,end_seconds")
        videos.append(
            LabelledVideo(
                path=path,
                label=labels[0],
                label_name=display_names[labels[0]],
                start=start,
                end=end,
                labels=labels,
            )
        )
    if not videos:
        raise SplitFormatError(segments_csv, None, "file", "contains no segments", f"use {_SEGMENTS_SOURCE}")
    return LabelledSplit(
        name=f"audioset/{segments_csv.stem}", videos=tuple(videos), class_names=display_names
    )


def _parse_positive_labels(
    segments_csv: Path, line: SplitLine, positive_labels: str, label_of: dict[str, int]
) -> tuple[int, ...]:
    mids = [mid.strip() for mid in positive_labels.split(",")]
    if not all(mids):
        raise SplitFormatError(
            segments_csv,
            line.number,
            "positive_labels",
            f"{positive_labels!r} has an empty label",
            'write a quoted, comma-separated list of MIDs, e.g. "/m/09x0r,/m/05zppz"',
        )
    labels: list[int] = []
    for mid in mids:
        if mid not in label_of:
            raise SplitFormatError(
                segments_csv,
                line.number,
                "positive_labels",
                f"unknown class name {mid!r} (not in the label map)",
                "use the class_labels_indices.csv of the same AudioSet release",
            )
        if label_of[mid] in labels:
            raise SplitFormatError(
                segments_csv, line.number, "positive_labels", f"{mid!r} is listed twice", "list each MID once"
            )
        labels.append(label_of[mid])
    return tuple(labels)
