"""An official AVID-CMA release file (synthetic weights in the release's key layout) through
`avssl eval retrieval`: no training config inside, so the data settings are the AVID defaults plus
the command line's."""

from __future__ import annotations

import pytest
import torch
from eval_fixtures import ucf_folder, ucf_overrides
from rich.console import Console
from test_models_official_checkpoint import make_model, save_release, to_official_layout

from avssl.eval.eval_job import run_protocol
from avssl.eval.eval_model import load_eval_model

DEPTH = 10  # the release's smaller video net: the same loader path at a fraction of the cost


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    model = make_model(DEPTH)
    path = tmp_path_factory.mktemp("official") / "AVID_synthetic_checkpoint.pth.tar"
    save_release(path, to_official_layout(model.state_dict(), DEPTH))
    return model, path


def test_official_release_file_loads_as_an_eval_model(release):
    model, path = release
    loaded = load_eval_model(path)
    assert loaded.kind == "official" and loaded.config is None and loaded.modalities == ("video", "audio")
    clip = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        features = loaded.source("video")({"video": clip}, ["pool", "projection"])
        torch.testing.assert_close(features["pool"], model.video_model(clip))
        torch.testing.assert_close(features["projection"],
                                   torch.nn.functional.normalize(model.video_proj(model.video_model(clip)), dim=1))


def test_retrieval_runs_on_an_official_checkpoint(release, tmp_path_factory, tmp_path):
    _, path = release
    ucf = ucf_folder(tmp_path_factory)
    overrides = ucf_overrides(ucf, tmp_path_factory.getbasetemp() / "eval_ucf_prepared_official",
                              "data.video.crop_size=32", "data.video.decode_short_side=40",
                              "eval.retrieval.directions=[video->video]", "eval.features.stages=[conv5x,pool]",
                              "eval.features.clips_per_video=1", "eval.retrieval.report_queries=2")
    metrics = run_protocol("retrieval", path, None, overrides, tmp_path, console=Console(quiet=True))
    assert metrics["checkpoint_kind"] == "official" and metrics["checkpoint"] == str(path)
    assert set(metrics["recall"]) == {"conv5x", "pool"}
    assert all(0.0 <= v <= 1.0 for by in metrics["recall"].values() for r in by.values() for v in r.values())
    assert (tmp_path / "report.html").read_text().count("<h2>") == 2
