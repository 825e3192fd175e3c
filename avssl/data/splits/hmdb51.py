"""HMDB-51 official three-fold splits (`testTrainMulti_7030_splits/` from test_train_splits.rar).

One file per class and fold, `<class>_test_split<fold>.txt`, with lines "<video.avi> <flag>":
flag 1 = train, 2 = test, 0 = unused (the 70/30 protocol leaves some videos out). Labels index
the class names sorted alphabetically, the order every published HMDB-51 result uses. Paths are
`<class>/<video.avi>`, the layout of the extracted per-class rar archives.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from avssl.data.splits.labelled_video import (
    LabelledSplit,
    LabelledVideo,
    SplitFormatError,
    check_column_count,
    claim_unique,
    parse_int,
    read_split_lines,
)

FOLDS = (1, 2, 3)
SUBSET_FLAGS = {"train": 1, "test": 2}
_UNUSED_FLAG = 0
_SOURCE = "the official test_train_splits.rar, see datasets/hmdb51/README.md"


def load_hmdb51_split(
    split_dir: str | os.PathLike, fold: int, subset: Literal["train", "test"]
) -> LabelledSplit:
    """The videos of one official fold and subset; classes are the per-class file names, sorted."""
    if fold not in FOLDS:
        raise ValueError(f"HMDB-51 fold must be one of {FOLDS}, got {fold!r}")
    if subset not in SUBSET_FLAGS:
        raise ValueError(f"HMDB-51 subset must be one of {tuple(SUBSET_FLAGS)}, got {subset!r}")
    split_dir = Path(split_dir)
    suffix = f"_test_split{fold}.txt"
    class_files = {path.name[: -len(suffix)]: path for path in split_dir.glob(f"*{suffix}")}
    if not class_files:
        raise FileNotFoundError(
            f"{split_dir}: no <class>{suffix} files; expected the folder unpacked from {_SOURCE}"
        )
    class_names = tuple(sorted(class_files))
    wanted_flag = SUBSET_FLAGS[subset]

    videos: list[LabelledVideo] = []
    for label, class_name in enumerate(class_names):
        class_file = class_files[class_name]
        seen: dict[str, int] = {}
        for line in read_split_lines(class_file, f"{class_file.name} from {_SOURCE}"):
            values = line.text.split()
            check_column_count(class_file, line, values, ("video file", "split flag"))
            video_name, flag_text = values
            flag = parse_int(
                class_file, line, "split flag", flag_text, "write 0 (unused), 1 (train) or 2 (test)"
            )
            if flag not in (_UNUSED_FLAG, *SUBSET_FLAGS.values()):
                raise SplitFormatError(
                    class_file,
                    line.number,
                    "split flag",
                    f"{flag} is out of range 0..2",
                    "write 0 (unused), 1 (train) or 2 (test)",
                )
            claim_unique(seen, video_name, class_file, line, "video file")
            if flag == wanted_flag:
                videos.append(
                    LabelledVideo(
                        path=f"{class_name}/{video_name}", label=label, label_name=class_name, fold=fold
                    )
                )
    if not videos:
        raise SplitFormatError(
            split_dir,
            None,
            "split flag",
            f"no video is marked {wanted_flag} ({subset})",
            f"use the files from {_SOURCE}",
        )
    return LabelledSplit(name=f"hmdb51/fold{fold}/{subset}", videos=tuple(videos), class_names=class_names)
