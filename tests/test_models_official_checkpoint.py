"""Loading the official AVID-CMA release format: a DataParallel state dict under ``model``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from avssl import models
from avssl.models.official_checkpoint import AVIDModel, avssl_to_official_key, official_to_avssl_key


def make_model(depth: int) -> AVIDModel:
    torch.manual_seed(depth)
    model = AVIDModel(
        models.create(f"avid_r2plus1d_{depth}"),
        models.create("avid_audio_conv2d"),
        models.create("mlp_head"),
        models.create("mlp_head"),
    )
    with torch.no_grad():  # non-trivial BN statistics, so eval outputs depend on every buffer
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)
    return model.eval()


def to_official_layout(state_dict: dict[str, torch.Tensor], depth: int) -> dict[str, torch.Tensor]:
    # Written out independently of the loader's own renaming.
    out = {}
    for key, value in state_dict.items():
        key = key.replace("video_proj.layers.", "video_proj.projection.")
        key = key.replace("audio_proj.layers.", "audio_proj.projection.")
        if depth == 10:
            for stage in ("conv2x", "conv3x", "conv4x", "conv5x"):
                key = key.replace(f"video_model.{stage}.0.", f"video_model.{stage}.")
        out["module." + key] = value.clone()
    return out


def save_release(path, official: dict[str, torch.Tensor]) -> None:
    torch.save({"epoch": 30, "model": official, "optimizer": {"state": {}, "param_groups": []}}, path)


@pytest.fixture(scope="module")
def model18():
    return make_model(18)


@pytest.fixture(scope="module")
def official18(model18):
    return to_official_layout(model18.state_dict(), 18)


def test_official_layout_uses_the_release_key_names(official18):
    for key in (
        "module.video_model.conv1.0.weight",
        "module.video_model.conv2x.0.spt_conv1.weight",
        "module.video_model.conv3x.0.res_conv.weight",
        "module.video_model.conv5x.1.out_bn.running_var",
        "module.audio_model.conv1.1.weight",
        "module.audio_model.block4.bn2.bias",
        "module.video_proj.projection.4.weight",
        "module.audio_proj.projection.0.bias",
    ):
        assert key in official18


@torch.no_grad()
def test_round_trip_through_a_release_file_gives_equal_outputs(tmp_path, model18, official18):
    path = tmp_path / "checkpoint.pth.tar"
    save_release(path, official18)
    loaded = models.load_avid_cma_checkpoint(path)
    assert not loaded.training
    video, audio = torch.randn(2, 3, 8, 32, 32), torch.randn(2, 1, 100, 129)
    expected = model18(video, audio)
    got = loaded(video, audio)
    assert got[0].shape == got[1].shape == (2, 128)
    torch.testing.assert_close(got[0], expected[0], rtol=0, atol=0)
    torch.testing.assert_close(got[1], expected[1], rtol=0, atol=0)


@torch.no_grad()
def test_depth_10_release_without_block_index_loads(tmp_path):
    model = make_model(10)
    official = to_official_layout(model.state_dict(), 10)
    assert "module.video_model.conv2x.spt_conv1.weight" in official
    path = tmp_path / "r10.pth.tar"
    save_release(path, official)
    loaded = models.load_avid_cma_checkpoint(path)
    assert loaded.video_model.depth == 10
    video, audio = torch.randn(1, 3, 8, 32, 32), torch.randn(1, 1, 64, 64)
    torch.testing.assert_close(loaded(video, audio), model(video, audio), rtol=0, atol=0)


def test_corrupted_key_set_names_missing_and_unexpected_keys(tmp_path, official18):
    broken = dict(official18)
    del broken["module.video_model.conv4x.1.tmp_conv2.weight"]
    broken["module.audio_model.block5.conv1.weight"] = torch.zeros(1)
    path = tmp_path / "broken.pth.tar"
    save_release(path, broken)
    with pytest.raises(models.OfficialCheckpointError) as info:
        models.load_avid_cma_checkpoint(path)
    message = str(info.value)
    assert str(path) in message
    assert "missing keys (1): module.video_model.conv4x.1.tmp_conv2.weight" in message
    assert "unexpected keys (1): module.audio_model.block5.conv1.weight" in message


def test_wrong_tensor_shape_is_reported(tmp_path, official18):
    broken = dict(official18)
    broken["module.video_proj.projection.4.weight"] = torch.zeros(128, 256)
    path = tmp_path / "shape.pth.tar"
    save_release(path, broken)
    with pytest.raises(models.OfficialCheckpointError, match=r"projection\.4\.weight \(128, 256\)"):
        models.load_avid_cma_checkpoint(path)


def test_file_without_a_model_state_dict_is_rejected(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"epoch": 1, "weights": [1, 2]}, path)
    with pytest.raises(models.OfficialCheckpointError, match="'model'"):
        models.load_avid_cma_checkpoint(path)


def test_state_dict_of_another_network_is_rejected(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save({"model": nn.Linear(3, 4).state_dict()}, path)
    with pytest.raises(models.OfficialCheckpointError, match="not an AVID-CMA checkpoint"):
        models.load_avid_cma_checkpoint(path)


def test_export_backbone_state_dict_loads_into_a_fresh_backbone(model18):
    video_sd = models.export_backbone_state_dict(model18, "video")
    audio_sd = models.export_backbone_state_dict(model18, "audio")
    assert "conv2x.0.spt_conv1.weight" in video_sd and "block1.conv1.weight" in audio_sd
    models.create("avid_r2plus1d_18").load_state_dict(video_sd)
    models.create("avid_audio_conv2d").load_state_dict(audio_sd)
    with pytest.raises(ValueError, match="modality"):
        models.export_backbone_state_dict(model18, "text")


def test_key_renaming_is_invertible(official18):
    for key in official18:
        assert avssl_to_official_key(official_to_avssl_key(key, 18), 18) == key
    key10 = "module.video_model.conv3x.tmp_bn1.weight"
    assert official_to_avssl_key(key10, 10) == "video_model.conv3x.0.tmp_bn1.weight"
    assert avssl_to_official_key(official_to_avssl_key(key10, 10), 10) == key10
