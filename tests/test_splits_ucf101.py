"""UCF-101 official split lists: exact parse of the fixtures, and every malformed case named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from avssl.data.splits import SplitFormatError, load_ucf101_class_names, load_ucf101_split

SPLIT_DIR = Path(__file__).resolve().parents[1] / "datasets" / "ucf101" / "fixtures" / "ucfTrainTestlist"


@pytest.fixture
def split_dir(tmp_path: Path) -> Path:
    """A writable copy of the fixture folder, to break one file at a time."""
    return Path(shutil.copytree(SPLIT_DIR, tmp_path / "ucfTrainTestlist"))


def test_fixture_uses_the_official_crlf_line_endings():
    assert b"\r\n" in (SPLIT_DIR / "classInd.txt").read_bytes()
    assert b"\r\n" in (SPLIT_DIR / "trainlist01.txt").read_bytes()
    assert (SPLIT_DIR / "trainlist02.txt").read_bytes().startswith(b"\xef\xbb\xbf")


def test_class_names_follow_class_ind_order():
    names = load_ucf101_class_names(SPLIT_DIR / "classInd.txt")
    assert len(names) == 101
    assert (names[0], names[36], names[100]) == ("ApplyEyeMakeup", "HandstandPushups", "YoYo")


def test_trainlist_labels_become_zero_based():
    split = load_ucf101_split(SPLIT_DIR, fold=1, subset="train")
    assert split.name == "ucf101/fold1/train"
    assert split.num_classes == 101
    assert len(split) == 4
    first, last = split.videos[0], split.videos[-1]
    assert (first.path, first.label, first.label_name, first.fold) == (
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi",
        0,
        "ApplyEyeMakeup",
        1,
    )
    assert (last.path, last.label, last.label_name) == ("YoYo/v_YoYo_g25_c05.avi", 100, "YoYo")
    assert split.videos[2].label == 36  # "HandstandPushups/v_HandStandPushups_g08_c01.avi 37"


def test_testlist_labels_come_from_the_folder_name():
    split = load_ucf101_split(SPLIT_DIR, fold=1, subset="test")
    assert [(v.path, v.label) for v in split] == [
        ("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", 0),
        ("HandstandPushups/v_HandStandPushups_g01_c01.avi", 36),
        ("YoYo/v_YoYo_g07_c05.avi", 100),
    ]
    assert all(v.fold == 1 and v.start is None for v in split)


def test_second_fold_reads_its_own_lists():
    train = load_ucf101_split(SPLIT_DIR, fold=2, subset="train")
    test = load_ucf101_split(SPLIT_DIR, fold=2, subset="test")
    assert [v.path for v in train] == [
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
        "YoYo/v_YoYo_g25_c05.avi",
    ]
    assert [v.label for v in test] == [0, 100]
    assert {v.fold for v in train} == {2}


@pytest.mark.parametrize(("fold", "subset"), [(0, "train"), (4, "test"), (1, "val")])
def test_rejects_unknown_fold_or_subset(fold, subset):
    with pytest.raises(ValueError, match="UCF-101"):
        load_ucf101_split(SPLIT_DIR, fold=fold, subset=subset)


def test_missing_list_names_the_official_zip(split_dir):
    (split_dir / "testlist02.txt").unlink()
    with pytest.raises(FileNotFoundError, match="UCF101TrainTestSplits-RecognitionTask.zip"):
        load_ucf101_split(split_dir, fold=2, subset="test")


def _expect_error(split_dir: Path, file_name: str, text: str, subset: str, line: int, field: str) -> None:
    (split_dir / file_name).write_text(text)
    with pytest.raises(SplitFormatError) as caught:
        load_ucf101_split(split_dir, fold=1, subset=subset)
    assert f"{file_name}:{line}: {field}:" in str(caught.value)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert "Fix:" in str(caught.value)


def test_trainlist_line_without_label_is_a_column_count_error(split_dir):
    text = "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nApplyEyeMakeup/v_ApplyEyeMakeup_g08_c02.avi\n"
    _expect_error(split_dir, "trainlist01.txt", text, "train", 2, "columns")


def test_testlist_line_with_extra_column_is_a_column_count_error(split_dir):
    _expect_error(split_dir, "testlist01.txt", "YoYo/v_YoYo_g07_c05.avi 101 extra\n", "test", 1, "columns")


def test_non_integer_label_is_rejected(split_dir):
    _expect_error(split_dir, "trainlist01.txt", "YoYo/v_YoYo_g25_c05.avi YoYo\n", "train", 1, "class index")


@pytest.mark.parametrize("index", ["0", "102"])
def test_label_out_of_range_is_rejected(split_dir, index):
    _expect_error(
        split_dir, "trainlist01.txt", f"YoYo/v_YoYo_g25_c05.avi {index}\n", "train", 1, "class index"
    )


def test_label_that_disagrees_with_its_folder_is_rejected(split_dir):
    _expect_error(split_dir, "trainlist01.txt", "YoYo/v_YoYo_g25_c05.avi 1\n", "train", 1, "class index")


def test_unknown_class_folder_is_rejected(split_dir):
    _expect_error(split_dir, "testlist01.txt", "\nYoyo/v_YoYo_g07_c05.avi\n", "test", 2, "path")


def test_duplicate_video_is_rejected(split_dir):
    text = "YoYo/v_YoYo_g07_c05.avi\r\nApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\r\nYoYo/v_YoYo_g07_c05.avi\r\n"
    _expect_error(split_dir, "testlist01.txt", text, "test", 3, "path")


def test_class_index_gap_is_rejected(split_dir):
    _expect_error(split_dir, "classInd.txt", "1 ApplyEyeMakeup\n3 Archery\n", "test", 2, "class index")


def test_class_index_without_name_is_rejected(split_dir):
    _expect_error(split_dir, "classInd.txt", "1 ApplyEyeMakeup\n2\n", "test", 2, "columns")
