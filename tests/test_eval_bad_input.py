"""Bad evaluation input fails early with an error that names the config key and what it needs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from eval_fixtures import UCF_OVERRIDES, build_esc50, session_folder, tiny_checkpoint, ucf_folder
from rich.console import Console

from avssl.cli import main
from avssl.eval.eval_job import run_protocol

RECIPES = Path(__file__).parents[1] / "configs" / "eval"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory)


def knn(checkpoint, out: Path, *overrides: str, config: Path | None = None) -> dict:
    return run_protocol("knn", checkpoint, config, [*UCF_OVERRIDES, *overrides], out, console=Console(quiet=True))


def test_a_recipe_placeholder_left_unset_names_the_key(checkpoint, tmp_path):
    with pytest.raises(ValueError, match=r"eval\.dataset\.root is required for eval\.dataset\.kind=ucf101.*"
                                         r"pass eval\.dataset\.root=\.\.\."):
        knn(checkpoint, tmp_path, config=RECIPES / "ucf101.yaml")


def test_a_missing_root_folder_names_the_key_and_the_layout(checkpoint, tmp_path_factory, tmp_path):
    splits = ucf_folder(tmp_path_factory) / "ucfTrainTestlist"
    with pytest.raises(FileNotFoundError, match=r"eval\.dataset\.root=.*nowhere: no such file or folder; "
                                                r"expected the extracted UCF-101/ folder"):
        knn(checkpoint, tmp_path, f"eval.dataset.root={tmp_path / 'nowhere'}", f"eval.dataset.splits={splits}")


def test_a_missing_split_file_names_the_key_the_fold_and_the_file(checkpoint, tmp_path_factory, tmp_path):
    ucf = ucf_folder(tmp_path_factory)
    splits = tmp_path / "ucfTrainTestlist"
    splits.mkdir()
    shutil.copy(ucf / "ucfTrainTestlist" / "classInd.txt", splits)  # trainlist01.txt and testlist01.txt missing
    with pytest.raises(FileNotFoundError, match=r"eval\.dataset\.splits=.*ucfTrainTestlist \(fold 1 train\): "
                                                r".*trainlist01\.txt: no such file"):
        knn(checkpoint, tmp_path, f"eval.dataset.root={ucf / 'UCF-101'}", f"eval.dataset.splits={splits}")


def test_a_missing_esc50_metadata_file_names_the_key(checkpoint, tmp_path_factory, tmp_path):
    esc50 = session_folder(tmp_path_factory, "eval_esc50", build_esc50)
    with pytest.raises(FileNotFoundError, match=r"eval\.dataset\.splits=.*esc50\.csv: no such file or folder; "
                                                r"expected the official meta/esc50\.csv file"):
        run_protocol("audio", checkpoint, RECIPES / "esc50.yaml",
                     [f"eval.dataset.root={esc50}", f"eval.dataset.splits={esc50 / 'esc50.csv'}"], tmp_path,
                     console=Console(quiet=True))


def test_the_cli_prints_the_error_and_exits_2(checkpoint, tmp_path, capsys):
    argv = ["eval", "knn", str(checkpoint), "-c", str(RECIPES / "hmdb51.yaml"), "--out", str(tmp_path),
            "eval.dataset.splits=/nowhere"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("avssl eval: error: eval.dataset.root is required for eval.dataset.kind=hmdb51")
    assert not (tmp_path / "prepared").exists()
