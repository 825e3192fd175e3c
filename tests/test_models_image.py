"""Image encoders: torchvision trunks without their classifier, SEER's RegNetY-256GF, activation
checkpointing that changes memory but not results, and the tiny CPU net."""

from __future__ import annotations

import pytest
import torch
import torchvision

from avssl import models


@pytest.mark.parametrize("name, out_dim", [("resnet18", 512), ("resnet50", 2048), ("regnet_y_400mf", 440)])
def test_backbones_return_pooled_features_of_out_dim(name, out_dim):
    encoder = models.create(name).eval()
    assert encoder.out_dim == out_dim
    with torch.no_grad():
        assert encoder(torch.randn(2, 3, 64, 64)).shape == (2, out_dim)


def test_keys_are_torchvisions_without_the_classifier():
    state = models.create("resnet18").state_dict()
    missing, unexpected = torchvision.models.resnet18().load_state_dict(state, strict=False)
    assert sorted(missing) == ["fc.bias", "fc.weight"] and not unexpected


@pytest.mark.parametrize("name", ["resnet18", "regnet_y_400mf"])
def test_activation_checkpointing_keeps_keys_outputs_and_gradients(name):
    torch.manual_seed(0)
    plain = models.create(name)
    checkpointed = models.create(name, activation_checkpointing=True)
    assert list(plain.state_dict()) == list(checkpointed.state_dict())
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32)
    plain(x).square().sum().backward()
    out = checkpointed(x)
    out.square().sum().backward()
    torch.testing.assert_close(out, plain(x), rtol=1e-5, atol=1e-5)
    for (key, a), b in zip(plain.named_parameters(), checkpointed.parameters()):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-6, msg=key)


def test_seer_regnet_y_256gf_has_the_published_widths_and_about_1_3_billion_parameters():
    with torch.device("meta"):  # shapes only: nothing is allocated
        encoder = models.create("regnet_y_256gf")
    widths = [stage[0].proj[0].out_channels if hasattr(stage[0], "proj") and stage[0].proj is not None else None
              for stage in encoder.trunk_output]
    assert widths == [746, 1492, 4103, 10444] and encoder.out_dim == 10444
    assert 1.2e9 < sum(p.numel() for p in encoder.parameters()) < 1.35e9


def test_pretrained_weights_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match="weights=None"):
        models.create("resnet18", weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="unknown model"):
        models.create("resnet51")


def test_tiny_image_encoder_stages_for_a_32_pixel_image():
    encoder = models.create("tiny_image", width=8, out_dim=32)
    stages = encoder(torch.randn(3, 3, 32, 32), return_stages=True)
    assert [tuple(stages[k].shape[2:]) for k in ("conv1", "conv2x", "conv3x", "conv4x", "conv5x")] == \
        [(16, 16), (16, 16), (8, 8), (4, 4), (2, 2)]
    assert stages["pool"].shape == (3, 32) and encoder.out_dim == 32
    with pytest.raises(ValueError, match="4D input with 3"):
        encoder(torch.randn(3, 1, 32, 32))
