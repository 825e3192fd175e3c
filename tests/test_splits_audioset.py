"""AudioSet segment CSVs and label map: exact multi-label parse, and every malformed case named."""

from __future__ import annotations

from pathlib import Path

import pytest

from avssl.data.splits import SplitFormatError, load_audioset_label_map, load_audioset_split
from avssl.data.splits.audioset import audioset_clip_file_name

FIXTURES = Path(__file__).resolve().parents[1] / "datasets" / "audioset" / "fixtures"
LABEL_MAP = FIXTURES / "class_labels_indices.csv"
COMMENTS = "# Segments csv created Sun Mar  5 10:54:31 2017\n# num_ytids=1\n# YTID, start_seconds, end_seconds, positive_labels\n"


def test_clip_file_name_uses_integer_milliseconds():
    assert audioset_clip_file_name("-0CamVQdP_Y", 0.0, 6.0) == "-0CamVQdP_Y_0_6000.mp4"
    assert audioset_clip_file_name("x", 150.5, 160.5) == "x_150500_160500.mp4"


def test_label_map_keeps_quoted_display_names_with_commas():
    mids, names = load_audioset_label_map(LABEL_MAP)
    assert len(mids) == len(names) == 6
    assert (mids[0], names[0]) == ("/m/09x0r", "Speech")
    assert (mids[1], names[1]) == ("/m/05zppz", "Male speech, man speaking")
    assert (mids[-1], names[-1]) == ("/m/02qldy", "Narration, monologue")


def test_segments_become_multi_label_clips_in_file_order():
    split = load_audioset_split(FIXTURES / "balanced_train_segments.csv", LABEL_MAP)
    assert split.name == "audioset/balanced_train_segments"
    assert split.num_classes == 6
    assert len(split) == 4
    first = split.videos[0]
    assert (first.path, first.start, first.end, first.labels, first.label, first.label_name) == (
        "--PJHxphWEs_30000_40000.mp4",
        30.0,
        40.0,
        (0, 1),
        0,
        "Speech",
    )
    assert split.videos[2].labels == (2, 0, 4)
    assert split.videos[2].label_name == "Female speech, woman speaking"
    last = split.videos[-1]
    assert (last.path, last.labels, last.end) == ("-0CamVQdP_Y_0_6000.mp4", (3,), 6.0)


def test_crlf_file_with_fractional_times_parses_exactly():
    assert b"\r\n" in (FIXTURES / "eval_segments.csv").read_bytes()
    split = load_audioset_split(FIXTURES / "eval_segments.csv", LABEL_MAP)
    assert [(v.path, v.labels) for v in split] == [
        ("--4gqARaEJE_0_10000.mp4", (4, 0)),
        ("-0RWZT-miFs_420000_430000.mp4", (1,)),
        ("-1EXhfqLLwQ_150500_160500.mp4", (0,)),
    ]
    assert (split.videos[-1].start, split.videos[-1].end) == (150.5, 160.5)


def _expect_segments_error(tmp_path: Path, rows: str, line: int, field: str) -> None:
    path = tmp_path / "segments_broken.csv"
    path.write_text(COMMENTS + rows)
    with pytest.raises(SplitFormatError) as caught:
        load_audioset_split(path, LABEL_MAP)
    assert f"segments_broken.csv:{line}: {field}:" in str(caught.value)
    assert (caught.value.line, caught.value.field) == (line, field)


def test_unquoted_label_list_is_a_column_count_error(tmp_path):
    _expect_segments_error(tmp_path, "a, 0.000, 10.000, /m/09x0r,/m/05zppz\n", 4, "columns")


def test_non_numeric_start_is_rejected(tmp_path):
    _expect_segments_error(
        tmp_path, 'a, 0.000, 10.000, "/m/09x0r"\nb, zero, 10.000, "/m/09x0r"\n', 5, "start_seconds"
    )


def test_unknown_mid_is_rejected(tmp_path):
    _expect_segments_error(tmp_path, 'a, 0.000, 10.000, "/m/09x0r,/m/xxxxx"\n', 4, "positive_labels")


def test_empty_mid_is_rejected(tmp_path):
    _expect_segments_error(tmp_path, 'a, 0.000, 10.000, "/m/09x0r,"\n', 4, "positive_labels")


def test_repeated_mid_in_one_row_is_rejected(tmp_path):
    _expect_segments_error(tmp_path, 'a, 0.000, 10.000, "/m/09x0r,/m/09x0r"\n', 4, "positive_labels")


def test_duplicate_segment_is_rejected(tmp_path):
    rows = 'a, 0.000, 10.000, "/m/09x0r"\nb, 0.000, 10.000, "/m/09x0r"\na, 0.000, 10.000, "/m/02zsn"\n'
    _expect_segments_error(tmp_path, rows, 6, "YTID,start_seconds,end_seconds")


def _expect_label_map_error(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = tmp_path / "labels_broken.csv"
    path.write_text(text)
    with pytest.raises(SplitFormatError) as caught:
        load_audioset_label_map(path)
    assert f"labels_broken.csv:{line}: {field}:" in str(caught.value)
    assert (caught.value.line, caught.value.field) == (line, field)


def test_label_map_without_header_is_rejected(tmp_path):
    _expect_label_map_error(tmp_path, '0,/m/09x0r,"Speech"\n', 1, "header")


def test_label_map_non_integer_index_is_rejected(tmp_path):
    _expect_label_map_error(tmp_path, 'index,mid,display_name\nzero,/m/09x0r,"Speech"\n', 2, "index")


def test_label_map_index_gap_is_rejected(tmp_path):
    _expect_label_map_error(tmp_path, 'index,mid,display_name\n0,/m/a,"A"\n2,/m/b,"B"\n', 3, "index")


def test_label_map_unquoted_comma_is_a_column_count_error(tmp_path):
    _expect_label_map_error(
        tmp_path, "index,mid,display_name\n0,/m/a,Male speech, man speaking\n", 2, "columns"
    )


def test_label_map_duplicate_mid_is_rejected(tmp_path):
    _expect_label_map_error(tmp_path, 'index,mid,display_name\n0,/m/a,"A"\n1,/m/a,"B"\n', 3, "mid")
