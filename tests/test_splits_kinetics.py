"""Kinetics annotation CSVs: exact parse of the fixtures, and every malformed case named."""

from __future__ import annotations

from pathlib import Path

import pytest

from avssl.data.splits import UNLABELLED, SplitFormatError, load_kinetics_split
from avssl.data.splits.kinetics import kinetics_clip_file_name

FIXTURES = Path(__file__).resolve().parents[1] / "datasets" / "kinetics" / "fixtures" / "kinetics400"
HEADER = "label,youtube_id,time_start,time_end,split"


def test_clip_file_name_follows_the_downloaders_convention():
    assert kinetics_clip_file_name("--07WQ2iBlw", 1, 11) == "--07WQ2iBlw_000001_000011.mp4"
    assert kinetics_clip_file_name("abc", 417.9, 427.9) == "abc_000417_000427.mp4"


def test_train_csv_classes_are_sorted_label_names_with_quotes_removed():
    split = load_kinetics_split(FIXTURES / "train.csv")
    assert split.name == "kinetics/train"
    assert split.class_names == (
        "abseiling",
        "air drumming",
        "massaging person's head",
        "passing American football (in game)",
    )
    assert len(split) == 5
    first, last = split.videos[0], split.videos[-1]
    assert (first.path, first.label, first.label_name, first.start, first.end) == (
        "--07WQ2iBlw_000001_000011.mp4",
        0,
        "abseiling",
        1.0,
        11.0,
    )
    assert (last.path, last.label) == ("-3B32lodo2M_000059_000069.mp4", 0)
    assert split.videos[2].label_name == "passing American football (in game)"
    assert split.videos[2].label == 3
    assert all(v.fold is None for v in split)


def test_val_csv_with_bom_and_crlf_reuses_the_train_class_index():
    assert (FIXTURES / "val.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in (FIXTURES / "val.csv").read_bytes()
    class_names = load_kinetics_split(FIXTURES / "train.csv").class_names
    split = load_kinetics_split(FIXTURES / "val.csv", class_names=class_names)
    assert split.class_names == class_names
    assert [(v.path, v.label) for v in split] == [
        ("-0vFg2N2hW8_000002_000012.mp4", 3),
        ("0wR5jVB-WPk_000417_000427.mp4", 0),
    ]


def test_test_csv_without_label_column_gives_unlabelled_clips():
    split = load_kinetics_split(FIXTURES / "test.csv")
    assert split.class_names == ()
    assert [(v.path, v.label, v.labels, v.label_name) for v in split] == [
        ("--6bJUbfpnQ_000017_000027.mp4", UNLABELLED, (), ""),
        ("--GDgbu7ukc_000000_000010.mp4", UNLABELLED, (), ""),
    ]


def test_label_with_a_comma_inside_quotes_is_one_field(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(f'{HEADER}\n"tying knot, not on a tie",abcdefghijk,0,10,train\n')
    split = load_kinetics_split(path)
    assert split.class_names == ("tying knot, not on a tie",)
    assert split.videos[0].path == "abcdefghijk_000000_000010.mp4"


def _expect_error(tmp_path: Path, text: str, line: int, field: str, class_names=None) -> None:
    path = tmp_path / "kinetics_broken.csv"
    path.write_text(text)
    with pytest.raises(SplitFormatError) as caught:
        load_kinetics_split(path, class_names=class_names)
    assert f"kinetics_broken.csv:{line}: {field}:" in str(caught.value)
    assert (caught.value.line, caught.value.field) == (line, field)


def test_unquoted_comma_in_label_is_a_column_count_error(tmp_path):
    _expect_error(
        tmp_path, f"{HEADER}\nabseiling,a,1,11,train\ntying knot, not on a tie,b,0,10,train\n", 3, "columns"
    )


def test_header_without_youtube_id_is_rejected(tmp_path):
    _expect_error(tmp_path, "abseiling,--07WQ2iBlw,1,11,train\n", 1, "header")


def test_non_numeric_time_is_rejected(tmp_path):
    _expect_error(tmp_path, f"{HEADER}\nabseiling,a,one,11,train\n", 2, "time_start")


def test_end_before_start_is_rejected(tmp_path):
    _expect_error(tmp_path, f"{HEADER}\nabseiling,a,11,1,train\n", 2, "time_end")


def test_unknown_class_name_is_rejected(tmp_path):
    text = f'{HEADER}\nabseiling,a,1,11,val\n\n"air drumming",b,1,11,val\n'
    _expect_error(tmp_path, text, 4, "label", class_names=["abseiling"])


def test_empty_label_is_rejected(tmp_path):
    _expect_error(tmp_path, f"{HEADER}\n,a,1,11,train\n", 2, "label")


def test_duplicate_clip_is_rejected(tmp_path):
    _expect_error(
        tmp_path,
        f"{HEADER}\nabseiling,a,1,11,train\nabseiling,a,1,11,train\n",
        3,
        "youtube_id,time_start,time_end",
    )


def test_unbalanced_quote_is_rejected(tmp_path):
    _expect_error(tmp_path, f'{HEADER}\n"abseiling"x,a,1,11,train\n', 2, "row")
