"""ESC-50 `meta/esc50.csv`: exact parse of the fixture, fold selection, every malformed case named."""

from __future__ import annotations

from pathlib import Path

import pytest

from avssl.data.splits import ESC50_CLASS_NAMES, SplitFormatError, load_esc50

META = Path(__file__).resolve().parents[1] / "datasets" / "esc50" / "fixtures" / "meta" / "esc50.csv"
HEADER = "filename,fold,target,category,esc10,src_file,take"


def test_class_names_are_the_fifty_official_categories_by_target():
    assert len(ESC50_CLASS_NAMES) == len(set(ESC50_CLASS_NAMES)) == 50
    assert (ESC50_CLASS_NAMES[0], ESC50_CLASS_NAMES[14], ESC50_CLASS_NAMES[49]) == (
        "dog",
        "chirping_birds",
        "hand_saw",
    )


def test_all_folds_in_file_order():
    split = load_esc50(META)
    assert split.name == "esc50/all"
    assert split.class_names == ESC50_CLASS_NAMES
    assert len(split) == 9
    first, last = split.videos[0], split.videos[-1]
    assert (first.path, first.label, first.label_name, first.fold) == ("audio/1-100032-A-0.wav", 0, "dog", 1)
    assert (last.path, last.label, last.label_name, last.fold) == ("audio/5-9032-A-0.wav", 0, "dog", 5)
    assert [v.fold for v in split] == [1, 1, 1, 1, 2, 3, 4, 5, 5]


def test_folds_select_the_cross_validation_subset():
    train = load_esc50(META, folds=[2, 3, 4, 5])
    test = load_esc50(META, folds=[1])
    assert train.name == "esc50/folds2-3-4-5" and test.name == "esc50/folds1"
    assert len(train) == 5 and len(test) == 4
    assert [(v.path, v.label) for v in test] == [
        ("audio/1-100032-A-0.wav", 0),
        ("audio/1-100038-A-14.wav", 14),
        ("audio/1-100210-A-36.wav", 36),
        ("audio/1-100210-B-36.wav", 36),
    ]
    assert test.num_classes == 50


@pytest.mark.parametrize("folds", [[], [0], [6], [1, 7]])
def test_rejects_folds_outside_one_to_five(folds):
    with pytest.raises(ValueError, match="ESC-50 folds"):
        load_esc50(META, folds=folds)


def _expect_error(tmp_path: Path, rows: str, line: int, field: str, header: str = HEADER) -> None:
    path = tmp_path / "esc50_broken.csv"
    path.write_text(f"{header}\n{rows}")
    with pytest.raises(SplitFormatError) as caught:
        load_esc50(path)
    assert f"esc50_broken.csv:{line}: {field}:" in str(caught.value)
    assert (caught.value.line, caught.value.field) == (line, field)


def test_wrong_header_is_rejected(tmp_path):
    _expect_error(
        tmp_path, "1-100032-A-0.wav,1,0,dog,True,100032,A\n", 1, "header", header="filename,fold,target"
    )


def test_missing_column_is_rejected(tmp_path):
    _expect_error(
        tmp_path,
        "1-100032-A-0.wav,1,0,dog,True,100032,A\n1-100038-A-14.wav,1,14,chirping_birds\n",
        3,
        "columns",
    )


def test_non_integer_target_is_rejected(tmp_path):
    _expect_error(tmp_path, "1-100032-A-0.wav,1,dog,dog,True,100032,A\n", 2, "target")


def test_target_out_of_range_is_rejected(tmp_path):
    _expect_error(tmp_path, "1-100032-A-50.wav,1,50,dog,True,100032,A\n", 2, "target")


def test_fold_out_of_range_is_rejected(tmp_path):
    _expect_error(tmp_path, "6-100032-A-0.wav,6,0,dog,True,100032,A\n", 2, "fold")


def test_category_that_disagrees_with_target_is_rejected(tmp_path):
    _expect_error(tmp_path, "1-100032-A-0.wav,1,0,Dog,True,100032,A\n", 2, "category")


def test_duplicate_file_is_rejected(tmp_path):
    row = "1-100032-A-0.wav,1,0,dog,True,100032,A\n"
    _expect_error(tmp_path, row + "\n" + row, 4, "filename")


def test_crlf_bom_and_trailing_blank_lines_are_tolerated(tmp_path):
    path = tmp_path / "esc50.csv"
    path.write_bytes(b"\xef\xbb\xbf" + META.read_bytes().replace(b"\n", b"\r\n") + b"\r\n  \r\n")
    assert [v.path for v in load_esc50(path)] == [v.path for v in load_esc50(META)]
