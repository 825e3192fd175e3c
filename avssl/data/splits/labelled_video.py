"""What a labelled evaluation split is, and the strict-but-forgiving way its files are read.

Every parser in this package turns an official split/annotation file into a `LabelledSplit` of
`LabelledVideo`s with 0-based labels. They share one reading policy: harmless noise (a UTF-8
BOM, CRLF line endings, surrounding whitespace, blank lines) is tolerated, and anything that
would silently shift labels or duplicate a sample raises `SplitFormatError` naming the file,
the line, the field and the fix. An evaluation number computed on a mis-parsed split is worse
than no number.

`LabelledVideo.path` is relative to the dataset root. Datasets that ship as YouTube ids plus a
time segment (Kinetics, AudioSet, VGGSound) have no official file layout, so their parsers give
the file name the community's downloaders produce; each parser documents which one.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

UNLABELLED = -1
"""`LabelledVideo.label` of a clip whose annotation holds no label (e.g. the Kinetics test CSV)."""


@dataclass(frozen=True)
class LabelledVideo:
    """One clip of an evaluation split.

    `labels` holds every positive class (AudioSet is multi-label); for single-label datasets it is
    `(label,)`, so multi-label code can always read `labels` and single-label code `label`.
    `start`/`end` are seconds in the source video where the annotation gives a segment; `fold` is
    the dataset's own fold number (1-based, as published) where it has folds.
    """

    path: str
    label: int
    label_name: str
    start: float | None = None
    end: float | None = None
    fold: int | None = None
    labels: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        labels = tuple(self.labels)
        if not labels and self.label != UNLABELLED:
            labels = (self.label,)
        if labels and labels[0] != self.label:
            raise ValueError(f"{self.path}: label {self.label} must be the first of labels {labels}")
        object.__setattr__(self, "labels", labels)

    @property
    def is_labelled(self) -> bool:
        return self.label != UNLABELLED


@dataclass(frozen=True)
class LabelledSplit:
    """A named list of clips plus the class names their 0-based labels index."""

    name: str
    videos: tuple[LabelledVideo, ...]
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "videos", tuple(self.videos))
        object.__setattr__(self, "class_names", tuple(self.class_names))
        for video in self.videos:
            for label in video.labels:
                if not 0 <= label < len(self.class_names):
                    raise ValueError(
                        f"{self.name}: {video.path} has label {label} outside 0..{len(self.class_names) - 1}"
                    )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.videos)

    def __iter__(self) -> Iterator[LabelledVideo]:
        return iter(self.videos)


class SplitFormatError(ValueError):
    """A split or annotation file that cannot be trusted: says where, what and how to fix it."""

    def __init__(self, file: str | os.PathLike, line: int | None, field: str, problem: str, fix: str):
        self.file = str(file)
        self.line = line
        self.field = field
        self.problem = problem
        self.fix = fix
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {field}: {problem}. Fix: {fix}")

    def __reduce__(self):
        # Keeps the error picklable (DataLoader workers, multiprocessing) despite the custom __init__.
        return (type(self), (self.file, self.line, self.field, self.problem, self.fix))


@dataclass(frozen=True)
class SplitLine:
    """One non-blank line of a split file: its 1-based line number in the file and stripped text."""

    number: int
    text: str


def read_split_lines(path: str | os.PathLike, what: str) -> list[SplitLine]:
    """The non-blank lines of `path`, stripped, with the line numbers an editor would show.

    `what` names the file for the not-found message (which official file, where it comes from).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file; expected {what}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SplitFormatError(
            path,
            raw[: err.start].count(b"\n") + 1,
            "encoding",
            f"byte {raw[err.start]:#04x} is not UTF-8",
            "re-save the file as UTF-8 (the official files are plain ASCII)",
        ) from None
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [SplitLine(number, line.strip()) for number, line in enumerate(physical, 1) if line.strip()]


def parse_csv_line(path: str | os.PathLike, line: SplitLine, skip_initial_space: bool = False) -> list[str]:
    """Fields of one CSV line (quotes honoured, so labels may hold commas), each stripped.

    Lines are parsed one at a time so every error keeps its exact line number; none of the
    official formats puts a newline inside a quoted field.
    """
    try:
        row = next(csv.reader([line.text], skipinitialspace=skip_initial_space, strict=True))
    except csv.Error as err:
        raise SplitFormatError(
            path, line.number, "row", f"not valid CSV ({err})", "balance the quotes"
        ) from None
    return [value.strip() for value in row]


def check_csv_header(path: str | os.PathLike, lines: list[SplitLine], columns: Iterable[str], source: str) -> None:
    """Reject a file whose first line is not exactly the official header `columns`."""
    columns = list(columns)
    if not lines or parse_csv_line(path, lines[0]) != columns:
        raise SplitFormatError(
            path,
            lines[0].number if lines else None,
            "header",
            f"expected {','.join(columns)}",
            f"use {source}",
        )


def check_column_count(
    path: str | os.PathLike, line: SplitLine, values: list[str], expected: Iterable[str]
) -> None:
    """Reject a row whose column count differs from the format (a shifted column shifts labels)."""
    expected = list(expected)
    if len(values) != len(expected):
        raise SplitFormatError(
            path,
            line.number,
            "columns",
            f"found {len(values)} columns, expected {len(expected)} ({', '.join(expected)})",
            "quote values that contain commas and remove extra or missing separators",
        )


def parse_int(path: str | os.PathLike, line: SplitLine, field: str, value: str, fix: str) -> int:
    """`value` as an integer, or a SplitFormatError that names the field."""
    try:
        return int(value)
    except ValueError:
        raise SplitFormatError(path, line.number, field, f"{value!r} is not an integer", fix) from None


def parse_seconds(path: str | os.PathLike, line: SplitLine, field: str, value: str) -> float:
    """`value` as a non-negative time in seconds, or a SplitFormatError that names the field."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds >= 0.0 or seconds == float("inf"):
        raise SplitFormatError(
            path,
            line.number,
            field,
            f"{value!r} is not a time in seconds",
            "write a number >= 0, e.g. 30.000",
        )
    return seconds


def claim_unique(
    seen: dict[str, int], key: str, path: str | os.PathLike, line: SplitLine, field: str
) -> None:
    """Record `key` as used by `line`; a second use is an error (a duplicate inflates its class)."""
    first = seen.setdefault(key, line.number)
    if first != line.number:
        raise SplitFormatError(
            path,
            line.number,
            field,
            f"duplicate entry {key!r} (first at line {first})",
            "delete one of the two lines",
        )
