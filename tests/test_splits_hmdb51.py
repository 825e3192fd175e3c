"""HMDB-51 official per-class split files: exact parse of the fixtures, and every malformed case named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from avssl.data.splits import SplitFormatError, load_hmdb51_split

SPLIT_DIR = (
    Path(__file__).resolve().parents[1] / "datasets" / "hmdb51" / "fixtures" / "testTrainMulti_7030_splits"
)


@pytest.fixture
def split_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SPLIT_DIR, tmp_path / "testTrainMulti_7030_splits"))


def test_fixture_mixes_crlf_and_lf_files():
    assert b"\r\n" in (SPLIT_DIR / "cartwheel_test_split1.txt").read_bytes()
    assert b"\r\n" not in (SPLIT_DIR / "wave_test_split1.txt").read_bytes()


def test_train_subset_takes_flag_1_with_classes_sorted():
    split = load_hmdb51_split(SPLIT_DIR, fold=1, subset="train")
    assert split.name == "hmdb51/fold1/train"
    assert split.class_names == ("brush_hair", "cartwheel", "wave")
    assert [(v.path, v.label) for v in split] == [
        ("brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi", 0),
        ("brush_hair/Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0.avi", 0),
        ("cartwheel/(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_0.avi", 1),
        ("wave/21_wave_u_nm_np1_fr_goo_5.avi", 2),
    ]
    assert all(v.fold == 1 and v.label_name == split.class_names[v.label] for v in split)


def test_test_subset_takes_flag_2_and_skips_unused_videos():
    split = load_hmdb51_split(SPLIT_DIR, fold=1, subset="test")
    paths = [v.path for v in split]
    assert paths == [
        "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_1.avi",
        "cartwheel/Bodenturnen_2004_cartwheel_f_cm_np1_le_med_0.avi",
        "wave/20060723sfjffbartsinger_wave_f_cm_np1_ba_med_0.avi",
    ]
    assert "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_2.avi" not in paths  # flag 0


def test_second_fold_reads_its_own_files():
    split = load_hmdb51_split(SPLIT_DIR, fold=2, subset="train")
    assert [(v.path, v.label, v.fold) for v in split] == [
        ("brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_1.avi", 0, 2),
        ("cartwheel/Bodenturnen_2004_cartwheel_f_cm_np1_le_med_0.avi", 1, 2),
        ("wave/20060723sfjffbartsinger_wave_f_cm_np1_ba_med_0.avi", 2, 2),
    ]


@pytest.mark.parametrize(("fold", "subset"), [(0, "train"), (4, "test"), (1, "unused")])
def test_rejects_unknown_fold_or_subset(fold, subset):
    with pytest.raises(ValueError, match="HMDB-51"):
        load_hmdb51_split(SPLIT_DIR, fold=fold, subset=subset)


def test_folder_without_split_files_names_the_official_archive(tmp_path):
    with pytest.raises(FileNotFoundError, match="test_train_splits.rar"):
        load_hmdb51_split(tmp_path, fold=1, subset="train")


def _expect_error(split_dir: Path, file_name: str, text: str, line: int, field: str) -> None:
    (split_dir / file_name).write_text(text)
    with pytest.raises(SplitFormatError) as caught:
        load_hmdb51_split(split_dir, fold=1, subset="train")
    assert f"{file_name}:{line}: {field}:" in str(caught.value)
    assert (caught.value.line, caught.value.field) == (line, field)


def test_missing_flag_is_a_column_count_error(split_dir):
    _expect_error(split_dir, "wave_test_split1.txt", "a.avi 1 \nb.avi\n", 2, "columns")


def test_non_integer_flag_is_rejected(split_dir):
    _expect_error(split_dir, "wave_test_split1.txt", "a.avi train\n", 1, "split flag")


def test_flag_out_of_range_is_rejected(split_dir):
    _expect_error(split_dir, "cartwheel_test_split1.txt", "a.avi 1\r\nb.avi 3\r\n", 2, "split flag")


def test_duplicate_video_in_one_class_file_is_rejected(split_dir):
    _expect_error(split_dir, "wave_test_split1.txt", "a.avi 1\nb.avi 2\na.avi 1\n", 3, "video file")


def test_fold_with_no_video_for_the_subset_is_rejected(tmp_path):
    (tmp_path / "wave_test_split1.txt").write_text("a.avi 2\nb.avi 0\n")
    with pytest.raises(SplitFormatError, match="no video is marked 1"):
        load_hmdb51_split(tmp_path, fold=1, subset="train")
