"""The shared split types and reading policy every dataset parser relies on."""

from __future__ import annotations

import pickle

import pytest

from avssl.data.splits.labelled_video import (
    UNLABELLED,
    LabelledSplit,
    LabelledVideo,
    SplitFormatError,
    read_split_lines,
)


def test_single_label_video_gets_labels_tuple_of_its_label():
    video = LabelledVideo("a/b.avi", 3, "c")
    assert video.labels == (3,)
    assert video.is_labelled


def test_unlabelled_video_has_no_labels():
    video = LabelledVideo("x.mp4", UNLABELLED, "")
    assert video.labels == ()
    assert not video.is_labelled


def test_multi_label_video_requires_label_to_be_first_of_labels():
    assert LabelledVideo("x.mp4", 2, "two", labels=[2, 0]).labels == (2, 0)
    with pytest.raises(ValueError, match="first of labels"):
        LabelledVideo("x.mp4", 0, "zero", labels=(2, 0))


def test_labelled_video_is_frozen():
    video = LabelledVideo("a.avi", 0, "a")
    with pytest.raises(AttributeError):
        video.label = 1  # type: ignore[misc]


def test_split_rejects_a_label_outside_its_class_names():
    with pytest.raises(ValueError, match="outside 0..1"):
        LabelledSplit("s", [LabelledVideo("a.avi", 2, "c")], ["a", "b"])


def test_split_behaves_as_a_sequence_of_videos():
    videos = [LabelledVideo("a.avi", 0, "a"), LabelledVideo("b.avi", 1, "b")]
    split = LabelledSplit("s", videos, ["a", "b"])
    assert len(split) == 2
    assert list(split) == videos
    assert split.num_classes == 2
    assert split.videos == tuple(videos) and split.class_names == ("a", "b")


def test_error_message_names_file_line_field_and_fix():
    error = SplitFormatError("/data/list.txt", 7, "label", "'x' is not an integer", "write a number")
    assert str(error) == "/data/list.txt:7: label: 'x' is not an integer. Fix: write a number"
    assert isinstance(error, ValueError)


def test_error_survives_pickling_for_worker_processes():
    error = pickle.loads(pickle.dumps(SplitFormatError("f.csv", 2, "label", "bad", "fix it")))
    assert (error.file, error.line, error.field, str(error)) == (
        "f.csv",
        2,
        "label",
        "f.csv:2: label: bad. Fix: fix it",
    )


def test_reading_tolerates_bom_crlf_whitespace_and_blank_lines_keeping_line_numbers(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(b"\xef\xbb\xbf first \r\n\r\n\tsecond\r\nthird\n\n\n")
    lines = read_split_lines(path, "a test file")
    assert [(line.number, line.text) for line in lines] == [(1, "first"), (3, "second"), (4, "third")]


def test_reading_reports_the_line_of_invalid_utf8(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(b"ok\nalso ok\nbad \xff byte\n")
    with pytest.raises(SplitFormatError, match=r"list.txt:3: encoding"):
        read_split_lines(path, "a test file")


def test_missing_file_says_which_official_file_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected classInd.txt from somewhere"):
        read_split_lines(tmp_path / "classInd.txt", "classInd.txt from somewhere")
