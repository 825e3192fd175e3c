"""Image checkpoints on video evaluation sets: an image-only model's "video" feature of a clip is its
encoder's feature of the clip's middle frame, averaged over a video's clips (avssl.eval.eval_model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from eval_fixtures import ucf_folder, ucf_overrides
from omegaconf import OmegaConf
from rich.console import Console
from torch import nn

from avssl.config import load_config
from avssl.data.manifest import read_manifest
from avssl.data.prepare import prepare
from avssl.eval.eval_datasets import clip_dataset
from avssl.eval.eval_job import EvalContext, evaluate, run_protocol
from avssl.eval.eval_model import EvalModel
from avssl.eval.features import extract_clip_features
from avssl.methods import SimSiam
from avssl.models import TinyImageEncoder
from avssl.models.heads import MLP

SMALL_CLIPS = ("data.video.crop_size=32", "data.video.decode_short_side=40")


def simsiam_model() -> EvalModel:
    """A SimSiam method as its checkpoint would rebuild it: encoders and heads keyed "image"."""
    torch.manual_seed(0)
    method = SimSiam(nn.ModuleDict({"image": TinyImageEncoder(out_dim=32, width=8)}),
                     nn.ModuleDict({"image": MLP((32, 32, 16), batch_norm=True)}), MLP((16, 8, 16)))
    model = EvalModel(method.encoders, method.heads, None, "simsiam (built in the test)", "avssl")
    model.encoders.eval()
    model.heads.eval()
    return model


@pytest.fixture(scope="module")
def ucf(tmp_path_factory):
    return ucf_folder(tmp_path_factory)


def test_an_image_model_offers_video_features_only():
    model = simsiam_model()
    assert model.modalities == ("video",)
    source = model.source("video")
    assert source.encoder is model.encoders["image"] and source.middle_frame and source.key == "video"
    with pytest.raises(ValueError, match="no 'audio' encoder.*it has video"):
        model.source("audio")


def test_video_features_of_an_image_model_are_its_middle_frame_features(ucf, tmp_path):
    prepare(ucf / "UCF-101", tmp_path / "manifest", workers=0, progress=False)
    manifest = read_manifest(tmp_path / "manifest")
    data = load_config(overrides=list(SMALL_CLIPS)).data
    dataset = clip_dataset(data, manifest, 3, ("video",))
    model = simsiam_model()
    clips = extract_clip_features([model.source("video")], dataset, ["pool", "projection", "conv5x"], batch_size=4,
                                  device="cpu", progress=False)
    encoder, head = model.encoders["image"], model.heads["image"]
    with torch.no_grad():
        videos = torch.stack([dataset[i]["video"] for i in range(len(dataset))])  # (N, 3, T, H, W)
        assert videos.shape[2] == 8
        frames = videos[:, :, 4]  # T // 2
        pooled = encoder(frames)
        expected = {"video/pool": pooled, "video/projection": F.normalize(head(pooled), dim=1),
                    "video/conv5x": encoder(frames, return_stages=True)["conv5x"].amax(dim=(2, 3))}
    assert clips.clip_video.tolist() == [v for v in range(len(manifest)) for _ in range(3)]
    for key, value in expected.items():
        torch.testing.assert_close(clips[key], value, rtol=1e-5, atol=1e-5)
    # Another frame gives other features: the rule really picks the middle one.
    assert not torch.allclose(encoder(videos[:, :, 0]).detach(), clips["video/pool"], atol=1e-4)
    torch.testing.assert_close(clips.video_level()["video/pool"], pooled.view(len(manifest), 3, -1).mean(1))


@pytest.mark.parametrize("protocol, settings", [
    ("knn", ("eval.knn.ks=[3]",)),
    ("linear", ("eval.linear.epochs=2", "eval.linear.train_clips_per_video=1", "eval.linear.batch_size=4")),
    ("retrieval", ("eval.retrieval.directions=[video->video]", "eval.features.stages=[pool,projection]")),
    ("finetune", ("eval.finetune.warmup_epochs=0", "eval.finetune.epochs=1", "eval.finetune.batch_size=4",
                  "eval.finetune.train_clips_per_video=1", "eval.finetune.test_clips_per_video=1",
                  "eval.finetune.dense_clips_per_video=1", "eval.finetune.num_workers=0")),
])
def test_video_protocols_run_on_an_image_model(ucf, tmp_path_factory, tmp_path, protocol, settings):
    prepared = tmp_path_factory.getbasetemp() / "eval_ucf_prepared_image"
    config = load_config(overrides=[*SMALL_CLIPS, *ucf_overrides(ucf, prepared, *settings)])
    metrics = evaluate(EvalContext(config, simsiam_model(), tmp_path, Console(quiet=True)), protocol)
    assert metrics["protocol"] == protocol and metrics["checkpoint"] == "simsiam (built in the test)"
    assert (tmp_path / "metrics.json").is_file()
    if protocol == "retrieval":
        assert {s: set(by) for s, by in metrics["recall"].items()} == {"pool": {"video->video"},
                                                                      "projection": {"video->video"}}
        assert (tmp_path / "report.html").read_text().count("<h2>") == 2


def test_retrieval_refuses_an_audio_direction_before_preparing_any_data(ucf, tmp_path):
    config = load_config(overrides=[*SMALL_CLIPS, *ucf_overrides(ucf, tmp_path / "prepared")])
    with pytest.raises(ValueError, match=r"no 'audio' encoder.*eval\.retrieval\.directions=\[video->video\]"):
        evaluate(EvalContext(config, simsiam_model(), tmp_path, Console(quiet=True)), "retrieval")
    assert not (tmp_path / "prepared").exists()


CONFIGS = Path(__file__).parents[1] / "configs"


@pytest.mark.parametrize("recipe, crop, short_side", [("simsiam/demo", 32, 37), ("byol/imagenet", 224, 256)])
def test_image_model_clips_are_cropped_like_its_largest_training_view(recipe, crop, short_side):
    config = OmegaConf.to_container(load_config(CONFIGS / f"{recipe}.yaml", ["data.manifest=x"]), resolve=True)
    model = simsiam_model()
    model.config = config
    video = model.eval_base_config()["data"]["video"]
    assert (video["crop_size"], video["decode_short_side"]) == (crop, short_side)
    assert config["data"]["video"]["crop_size"] == 112  # the training config itself is left as it was


def test_a_trained_image_checkpoint_evaluates_through_avssl_eval(ucf, tmp_path_factory, tmp_path):
    """The whole path with the trainer's own checkpoint (SimSiam demo recipe, one short epoch)."""
    from avssl.train.run_training import train

    prepare(ucf / "UCF-101", tmp_path / "manifest", workers=0, progress=False)
    result = train(load_config(CONFIGS / "simsiam" / "demo.yaml", [
        f"data.manifest={tmp_path / 'manifest'}", "data.num_workers=0", "data.batch_size=16",
        "data.video.decode_short_side=40", "train.max_epochs=1", "train.progress_bar=false",
        f"run.out_dir={tmp_path}", "run.name=simsiam"]))
    checkpoint = result.run_dir / "checkpoints" / "last.ckpt"
    prepared = tmp_path_factory.getbasetemp() / "eval_ucf_prepared_image"
    metrics = run_protocol("knn", checkpoint, None, ucf_overrides(ucf, prepared, "eval.knn.ks=[3]"), tmp_path / "knn",
                           console=Console(quiet=True))
    assert metrics["checkpoint_kind"] == "avssl" and metrics["accuracy"]["pool"].keys() == {"k=3"}
    resolved = OmegaConf.load(tmp_path / "knn" / "config.yaml")
    assert (resolved.data.video.crop_size, resolved.data.video.decode_short_side) == (32, 37)
