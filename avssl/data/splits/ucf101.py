"""UCF-101 official three-fold splits (`ucfTrainTestlist/` from UCF101TrainTestSplits-RecognitionTask.zip).

`classInd.txt` holds "1 ApplyEyeMakeup" (1-based); `trainlistNN.txt` holds
"ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1" (1-based label); `testlistNN.txt` holds the path
only, its class is the folder name. avssl labels are 0-based: label = class index - 1.
Paths are relative to the extracted `UCF-101/` folder.
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
SUBSETS = ("train", "test")
_SOURCE = "the official UCF101TrainTestSplits-RecognitionTask.zip, see datasets/ucf101/README.md"


def load_ucf101_class_names(class_ind_path: str | os.PathLike) -> tuple[str, ...]:
    """Class names ordered by their official index, so position i is avssl label i."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for line in read_split_lines(class_ind_path, f"classInd.txt from {_SOURCE}"):
        values = line.text.split()
        check_column_count(class_ind_path, line, values, ("class index", "class name"))
        index = parse_int(
            class_ind_path, line, "class index", values[0], "write the 1-based class index first"
        )
        if index != len(names) + 1:
            raise SplitFormatError(
                class_ind_path,
                line.number,
                "class index",
                f"found {index}, expected {len(names) + 1}",
                "list classes in order with indices 1, 2, 3, ... and no gaps (use the official classInd.txt)",
            )
        claim_unique(seen, values[1], class_ind_path, line, "class name")
        names.append(values[1])
    if not names:
        raise SplitFormatError(
            class_ind_path, None, "file", "contains no classes", f"use classInd.txt from {_SOURCE}"
        )
    return tuple(names)


def load_ucf101_split(
    split_dir: str | os.PathLike, fold: int, subset: Literal["train", "test"]
) -> LabelledSplit:
    """The videos of one official fold and subset, labelled 0..100 by `classInd.txt`."""
    if fold not in FOLDS:
        raise ValueError(f"UCF-101 fold must be one of {FOLDS}, got {fold!r}")
    if subset not in SUBSETS:
        raise ValueError(f"UCF-101 subset must be one of {SUBSETS}, got {subset!r}")
    split_dir = Path(split_dir)
    class_names = load_ucf101_class_names(split_dir / "classInd.txt")
    label_of = {name: label for label, name in enumerate(class_names)}
    list_path = split_dir / f"{subset}list{fold:02d}.txt"
    expected_columns = ("path", "class index") if subset == "train" else ("path",)

    videos: list[LabelledVideo] = []
    seen: dict[str, int] = {}
    for line in read_split_lines(list_path, f"{list_path.name} from {_SOURCE}"):
        values = line.text.split()
        check_column_count(list_path, line, values, expected_columns)
        video_path = values[0]
        folder, slash, file_name = video_path.partition("/")
        if not slash or not folder or not file_name:
            raise SplitFormatError(
                list_path,
                line.number,
                "path",
                f"{video_path!r} is not <Class>/<video>.avi",
                "use the official list",
            )
        if folder not in label_of:
            raise SplitFormatError(
                list_path,
                line.number,
                "path",
                f"unknown class name {folder!r} (not in classInd.txt)",
                "use the classInd.txt that belongs to this split folder",
            )
        label = label_of[folder]
        if subset == "train":
            index = parse_int(
                list_path, line, "class index", values[1], "write the 1-based class index after the path"
            )
            if not 1 <= index <= len(class_names):
                raise SplitFormatError(
                    list_path,
                    line.number,
                    "class index",
                    f"{index} is out of range 1..{len(class_names)}",
                    "use the 1-based index from classInd.txt",
                )
            if index - 1 != label:
                raise SplitFormatError(
                    list_path,
                    line.number,
                    "class index",
                    f"{index} ({class_names[index - 1]}) disagrees with the folder {folder!r} ({label + 1})",
                    "use the trainlist and classInd.txt from the same official zip",
                )
        claim_unique(seen, video_path, list_path, line, "path")
        videos.append(LabelledVideo(path=video_path, label=label, label_name=folder, fold=fold))
    if not videos:
        raise SplitFormatError(
            list_path, None, "file", "contains no videos", f"use {list_path.name} from {_SOURCE}"
        )
    return LabelledSplit(name=f"ucf101/fold{fold}/{subset}", videos=tuple(videos), class_names=class_names)
