"""VGGSound `vggsound.csv`: exact parse of the fixture, and every malformed case named."""

from __future__ import annotations

from pathlib import Path

import pytest

from avssl.data.splits import SplitFormatError, load_vggsound_split
from avssl.data.splits.vggsound import vggsound_clip_file_name

CSV = Path(__file__).resolve().parents[1] / "datasets" / "vggsound" / "fixtures" / "vggsound.csv"
CLASSES = ("male speech, man speaking", "people marching", "playing tennis", "waterfall burbling")


def test_clip_file_name_is_id_and_six_digit_start():
    assert vggsound_clip_file_name("---g-f_I2yQ", 1) == "---g-f_I2yQ_000001.mp4"


def test_train_subset_of_the_crlf_fixture():
    assert b"\r\n" in CSV.read_bytes()
    split = load_vggsound_split(CSV, "train")
    assert split.name == "vggsound/train"
    assert split.class_names == CLASSES
    assert [(v.path, v.label, v.start, v.end) for v in split] == [
        ("--0PQM4-hqg_000030.mp4", 3, 30.0, 40.0),
        ("--56QUhyDQM_000185.mp4", 2, 185.0, 195.0),
        ("--5OkAjCI7g_000040.mp4", 0, 40.0, 50.0),
    ]
    assert split.videos[2].label_name == "male speech, man speaking"


def test_test_subset_shares_the_class_index_of_the_whole_file():
    split = load_vggsound_split(CSV, "test")
    assert split.class_names == CLASSES
    assert [(v.path, v.label_name, v.label) for v in split] == [
        ("---g-f_I2yQ_000001.mp4", "people marching", 1),
        ("--8puiAGLhs_000030.mp4", "waterfall burbling", 3),
        ("-0BIyqJj9ZU_000030.mp4", "male speech, man speaking", 0),
    ]


def test_given_class_names_fix_the_label_index():
    split = load_vggsound_split(CSV, "test", class_names=list(reversed(CLASSES)))
    assert [v.label for v in split] == [2, 0, 3]


def test_rejects_unknown_subset():
    with pytest.raises(ValueError, match="VGGSound subset"):
        load_vggsound_split(CSV, "val")


def _expect_error(tmp_path: Path, text: str, line: int, field: str, class_names=None) -> None:
    path = tmp_path / "vggsound_broken.csv"
    path.write_text(text)
    with pytest.raises(SplitFormatError) as caught:
        load_vggsound_split(path, "train", class_names=class_names)
    assert f"vggsound_broken.csv:{line}: {field}:" in str(caught.value)
    assert (caught.value.line, caught.value.field) == (line, field)


def test_unquoted_comma_in_label_is_a_column_count_error(tmp_path):
    _expect_error(tmp_path, "a,1,dog barking,train\nb,2,male speech, man speaking,train\n", 2, "columns")


def test_fractional_start_is_rejected(tmp_path):
    _expect_error(tmp_path, "a,1.5,dog barking,train\n", 1, "start_seconds")


def test_unknown_split_is_rejected(tmp_path):
    _expect_error(tmp_path, "a,1,dog barking,val\n", 1, "split")


def test_unknown_class_name_is_rejected(tmp_path):
    _expect_error(
        tmp_path, "a,1,dog barking,train\nb,1,cat purring,test\n", 2, "label", class_names=["dog barking"]
    )


def test_duplicate_clip_in_one_subset_is_rejected(tmp_path):
    _expect_error(
        tmp_path,
        "a,1,dog barking,train\r\nb,1,dog barking,train\r\na,1,dog barking,train\r\n",
        3,
        "youtube_id,start_seconds",
    )
