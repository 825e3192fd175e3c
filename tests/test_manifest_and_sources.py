"""Manifest and source-list reading: stable order, clear errors naming file, row and field."""

from __future__ import annotations

import pytest

from avssl.data.manifest import ManifestError, ManifestRow, read_manifest, write_manifest
from avssl.data.sources import SourceListError, discover_sources


def _row(path: str, label: str = "a") -> ManifestRow:
    return ManifestRow(path=path, label=label, start=0.0, duration=3.0, video_fps=25.0, width=90, height=72,
                       video_frames=75, audio_rate=44100, audio_channels=2)


def test_write_sorts_by_path_and_round_trips(tmp_path):
    write_manifest(tmp_path, [_row("b/2.mp4", "b"), _row("a/1.mp4"), _row("a/0,x.mp4")], {"source_root": "/data"})
    manifest = read_manifest(tmp_path / "manifest.csv")
    assert [r.path for r in manifest.rows] == ["a/0,x.mp4", "a/1.mp4", "b/2.mp4"]
    assert manifest.rows[1] == _row("a/1.mp4")
    assert manifest.file_for(2) == "/data/b/2.mp4"
    assert [manifest.label_index(i) for i in range(3)] == [0, 0, 1]


def test_source_root_override(tmp_path):
    write_manifest(tmp_path, [_row("a/1.mp4")], {"source_root": "/old"})
    assert read_manifest(tmp_path, source_root="/new").file_for(0) == "/new/a/1.mp4"


def test_bad_number_names_file_line_and_field(tmp_path):
    write_manifest(tmp_path, [_row("a/1.mp4"), _row("a/2.mp4")], {})
    text = (tmp_path / "manifest.csv").read_text().replace("a/2.mp4,a,0.0,3.0", "a/2.mp4,a,0.0,three")
    (tmp_path / "manifest.csv").write_text(text)
    with pytest.raises(ManifestError, match=r"manifest\.csv:3: field 'duration' = 'three'"):
        read_manifest(tmp_path)


def test_missing_column_is_explained(tmp_path):
    (tmp_path / "manifest.csv").write_text("path,label\nx.mp4,a\n")
    with pytest.raises(ManifestError, match="missing column.*start, duration"):
        read_manifest(tmp_path)


def test_missing_manifest_says_how_to_make_one(tmp_path):
    with pytest.raises(ManifestError, match="avssl prepare"):
        read_manifest(tmp_path)


def test_folder_discovery_is_sorted_labelled_and_skips_hidden_and_non_videos(tmp_path):
    for rel in ["z/b.MP4", "a/c.mkv", "a/.hidden.mp4", "a/notes.txt", "top.webm", ".cache/x.mp4"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    root, videos = discover_sources(tmp_path)
    assert root == tmp_path.resolve()
    assert [(v.rel_path, v.label) for v in videos] == [("a/c.mkv", "a"), ("top.webm", ""), ("z/b.MP4", "z")]


def test_output_folder_inside_source_is_not_scanned(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.mp4").write_bytes(b"")
    (tmp_path / "out" / "videos").mkdir(parents=True)
    (tmp_path / "out" / "videos" / "y.mp4").write_bytes(b"")
    _, videos = discover_sources(tmp_path, exclude=tmp_path / "out")
    assert [v.rel_path for v in videos] == ["a/x.mp4"]


def test_list_file_needs_a_path_column(tmp_path):
    listing = tmp_path / "l.csv"
    listing.write_text("file,label\nx.mp4,a\n")
    with pytest.raises(SourceListError, match=r"l\.csv: no 'path' column \(found: file, label\)"):
        discover_sources(listing)


def test_list_file_duplicate_names_both_lines(tmp_path):
    listing = tmp_path / "l.csv"
    listing.write_text("path,label\nx.mp4,a\ny.mp4,b\nx.mp4,a\n")
    with pytest.raises(SourceListError, match=r"l\.csv:4: path 'x\.mp4' already listed on line 2"):
        discover_sources(listing)
