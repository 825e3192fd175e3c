"""Parsers for the official split/annotation files of the labelled evaluation datasets.

Each returns a `LabelledSplit` with 0-based labels; malformed files raise `SplitFormatError`
naming file, line, field and fix. See datasets/<name>/README.md for where the files come from.
"""

from __future__ import annotations

from avssl.data.splits.audioset import load_audioset_label_map, load_audioset_split
from avssl.data.splits.esc50 import ESC50_CLASS_NAMES, load_esc50
from avssl.data.splits.hmdb51 import load_hmdb51_split
from avssl.data.splits.kinetics import load_kinetics_split
from avssl.data.splits.labelled_video import UNLABELLED, LabelledSplit, LabelledVideo, SplitFormatError
from avssl.data.splits.ucf101 import load_ucf101_class_names, load_ucf101_split
from avssl.data.splits.vggsound import load_vggsound_split

__all__ = [
    "ESC50_CLASS_NAMES",
    "UNLABELLED",
    "LabelledSplit",
    "LabelledVideo",
    "SplitFormatError",
    "load_audioset_label_map",
    "load_audioset_split",
    "load_esc50",
    "load_hmdb51_split",
    "load_kinetics_split",
    "load_ucf101_class_names",
    "load_ucf101_split",
    "load_vggsound_split",
]
