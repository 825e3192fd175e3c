"""ESC-50 official metadata `meta/esc50.csv` (five-fold cross-validation).

Header `filename,fold,target,category,esc10,src_file,take`; `target` is already 0-based and
`category` its name. The 50 names are fixed by the dataset, so `class_names` always has all 50
entries, even when the selected folds miss a class, and every row's category is checked against
its target (a mismatch means an edited or foreign file). Paths are `audio/<filename>`; `fold` is
kept so the protocol (train on four folds, test on the fifth) is a filter on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from avssl.data.splits.labelled_video import (
    LabelledSplit,
    LabelledVideo,
    SplitFormatError,
    check_column_count,
    check_csv_header,
    claim_unique,
    parse_csv_line,
    parse_int,
    read_split_lines,
)

COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
FOLDS = (1, 2, 3, 4, 5)
# Ordered by target: animals 0-9, natural 10-19, human 20-29, interior 30-39, exterior 40-49.
ESC50_CLASS_NAMES = (
    "dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow",
    "rain", "sea_waves", "crackling_fire", "crickets", "chirping_birds",
    "water_drops", "wind", "pouring_water", "toilet_flush", "thunderstorm",
    "crying_baby", "sneezing", "clapping", "breathing", "coughing",
    "footsteps", "laughing", "brushing_teeth", "snoring", "drinking_sipping",
    "door_wood_knock", "mouse_click", "keyboard_typing", "door_wood_creaks", "can_opening",
    "washing_machine", "vacuum_cleaner", "clock_alarm", "clock_tick", "glass_breaking",
    "helicopter", "chainsaw", "siren", "car_horn", "engine",
    "train", "church_bells", "airplane", "fireworks", "hand_saw",
)  # fmt: skip
_SOURCE = "meta/esc50.csv from the ESC-50 repository, see datasets/esc50/README.md"


def load_esc50(meta_csv: str | os.PathLike, folds: Iterable[int] | None = None) -> LabelledSplit:
    """The clips of the given folds (all five when None), in file order; the whole file is validated."""
    selected = tuple(sorted(set(FOLDS if folds is None else folds)))
    if not selected or not set(selected) <= set(FOLDS):
        raise ValueError(f"ESC-50 folds must be a non-empty subset of {FOLDS}, got {folds!r}")
    meta_csv = Path(meta_csv)
    lines = read_split_lines(meta_csv, _SOURCE)
    check_csv_header(meta_csv, lines, COLUMNS, _SOURCE)

    videos: list[LabelledVideo] = []
    seen: dict[str, int] = {}
    for line in lines[1:]:
        values = parse_csv_line(meta_csv, line)
        check_column_count(meta_csv, line, values, COLUMNS)
        filename, fold_text, target_text, category = values[:4]
        if not filename:
            raise SplitFormatError(meta_csv, line.number, "filename", "is empty", "write the .wav file name")
        fold = parse_int(meta_csv, line, "fold", fold_text, "write the fold number 1..5")
        if fold not in FOLDS:
            raise SplitFormatError(
                meta_csv, line.number, "fold", f"{fold} is out of range 1..5", "write 1..5"
            )
        target = parse_int(meta_csv, line, "target", target_text, "write the 0-based class index 0..49")
        if not 0 <= target < len(ESC50_CLASS_NAMES):
            raise SplitFormatError(
                meta_csv,
                line.number,
                "target",
                f"{target} is out of range 0..49",
                "write the 0-based class index",
            )
        if category != ESC50_CLASS_NAMES[target]:
            raise SplitFormatError(
                meta_csv,
                line.number,
                "category",
                f"unknown class name {category!r} for target {target} (expected {ESC50_CLASS_NAMES[target]!r})",
                "use the unmodified official meta/esc50.csv",
            )
        claim_unique(seen, filename, meta_csv, line, "filename")
        if fold in selected:
            videos.append(
                LabelledVideo(path=f"audio/{filename}", label=target, label_name=category, fold=fold)
            )
    if not videos:
        raise SplitFormatError(
            meta_csv, None, "fold", f"no clip belongs to folds {selected}", f"use {_SOURCE}"
        )
    name = "esc50/all" if selected == FOLDS else "esc50/folds" + "-".join(map(str, selected))
    return LabelledSplit(name=name, videos=tuple(videos), class_names=ESC50_CLASS_NAMES)
