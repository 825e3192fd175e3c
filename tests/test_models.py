"""The AVID encoders, heads, tiny nets and the registry: sizes, stage shapes, block structure."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from avssl import models
from avssl.models.avid_video import R2Plus1DBlock


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta_params(name: str) -> int:
    with torch.device("meta"):  # counts shapes without allocating or initialising weights
        return n_params(models.create(name))


def test_r2plus1d_18_has_the_official_parameter_count():
    assert meta_params("avid_r2plus1d_18") == 15_379_136


@pytest.mark.parametrize(("name", "count"), [("avid_r2plus1d_10", 7_015_616), ("avid_r2plus1d_34", 28_861_632)])
def test_r2plus1d_other_depths_keep_their_parameter_counts(name, count):
    assert meta_params(name) == count


def test_audio_conv2d_has_the_official_parameter_count():
    assert meta_params("avid_audio_conv2d") == 4_725_696


@pytest.fixture(scope="module")
def video18():
    torch.manual_seed(0)
    return models.create("avid_r2plus1d_18").eval()


@pytest.mark.parametrize(("batch", "size"), [(2, 112), (1, 224)])
@torch.no_grad()
def test_video_stage_shapes_at_8_frames(video18, batch, size):
    stages = video18(torch.randn(batch, 3, 8, size, size), return_stages=True)
    s = size // 4  # stride-2 stem conv, then stride-2 max pool
    assert {k: tuple(v.shape) for k, v in stages.items()} == {
        "conv1": (batch, 64, 8, s, s),
        "conv2x": (batch, 64, 8, s, s),
        "conv3x": (batch, 128, 4, s // 2, s // 2),
        "conv4x": (batch, 256, 2, s // 4, s // 4),
        "conv5x": (batch, 512, 1, -(-s // 8), -(-s // 8)),
        "pool": (batch, 512),
    }


@torch.no_grad()
def test_video_default_output_is_the_global_max_of_conv5x(video18):
    x = torch.randn(2, 3, 8, 32, 32)
    stages = video18(x, return_stages=True)
    assert torch.equal(video18(x), stages["pool"])
    assert torch.equal(stages["pool"], stages["conv5x"].amax(dim=(2, 3, 4)))


@torch.no_grad()
def test_audio_stage_shapes_at_200x257():
    net = models.create("avid_audio_conv2d").eval()
    stages = net(torch.randn(2, 1, 200, 257), return_stages=True)
    assert {k: tuple(v.shape) for k, v in stages.items()} == {
        "conv1": (2, 64, 100, 129),
        "conv2x": (2, 64, 50, 65),
        "conv3x": (2, 128, 25, 33),
        "conv4x": (2, 256, 13, 17),
        "conv5x": (2, 512, 13, 17),
        "pool": (2, 512),
    }
    assert torch.equal(stages["pool"], stages["conv5x"].amax(dim=(2, 3)))


def test_video_stem_is_a_full_3d_conv_then_spatial_max_pool(video18):
    conv, bn, relu, pool = video18.conv1
    assert isinstance(conv, nn.Conv3d) and conv.bias is None
    assert (conv.in_channels, conv.out_channels) == (3, 64)
    assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 7, 7), (1, 2, 2), (1, 3, 3))
    assert isinstance(bn, nn.BatchNorm3d) and isinstance(relu, nn.ReLU)
    assert isinstance(pool, nn.MaxPool3d)
    assert (pool.kernel_size, pool.stride, pool.padding) == ((1, 3, 3), (1, 2, 2), (0, 1, 1))
    assert isinstance(video18.pool, nn.AdaptiveMaxPool3d)


def test_video_blocks_have_no_mid_channel_expansion_and_no_bias(video18):
    for block in video18.modules():
        if isinstance(block, R2Plus1DBlock):
            out = block.spt_bn1.num_features
            for conv in (block.spt_conv1, block.tmp_conv1, block.spt_conv2, block.tmp_conv2):
                assert conv.out_channels == out and conv.bias is None
            assert block.spt_conv1.kernel_size == (1, 3, 3) and block.tmp_conv1.kernel_size == (3, 1, 1)


def test_video_block_children_order_has_no_bn_between_last_temporal_conv_and_the_add(video18):
    names = [name for name, _ in video18.conv3x[0].named_children()]
    assert names == [
        "spt_conv1", "spt_bn1", "tmp_conv1", "tmp_bn1", "spt_conv2", "spt_bn2", "tmp_conv2", "out_bn", "relu",
        "res_conv",
    ]
    assert not hasattr(video18.conv3x[0], "tmp_bn2")


def test_video_shortcut_is_a_bias_free_1x1x1_conv_only_where_the_shape_changes(video18):
    for stage_name in ("conv2x", "conv3x", "conv4x", "conv5x"):
        stage = getattr(video18, stage_name)
        first = stage[0]
        if stage_name == "conv2x":
            assert first.res_conv is None
        else:
            assert isinstance(first.res_conv, nn.Conv3d)
            assert first.res_conv.kernel_size == (1, 1, 1) and first.res_conv.stride == (2, 2, 2)
            assert first.res_conv.bias is None
            # time is halved by the temporal conv, space by the spatial conv
            assert first.spt_conv1.stride == (1, 2, 2) and first.tmp_conv1.stride == (2, 1, 1)
        assert all(block.res_conv is None for block in stage[1:])


@torch.no_grad()
def test_video_block_normalises_the_residual_sum():
    torch.manual_seed(0)
    block = R2Plus1DBlock(8, 16, stride=(2, 2, 2))
    for bn in (m for m in block.modules() if isinstance(m, nn.BatchNorm3d)):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    block.eval()
    x = torch.randn(2, 8, 4, 10, 10)
    b = block
    y = torch.relu(b.spt_bn1(b.spt_conv1(x)))
    y = torch.relu(b.tmp_bn1(b.tmp_conv1(y)))
    y = torch.relu(b.spt_bn2(b.spt_conv2(y)))
    expected = torch.relu(b.out_bn(b.tmp_conv2(y) + b.res_conv(x)))
    torch.testing.assert_close(block(x), expected)


def test_audio_blocks_are_plain_two_conv_bn_relu():
    net = models.create("avid_audio_conv2d")
    strides = [getattr(net, f"block{i}").conv1.stride for i in range(1, 5)]
    assert strides == [(2, 2), (2, 2), (2, 2), (1, 1)]
    assert [getattr(net, f"block{i}").conv2.out_channels for i in range(1, 5)] == [64, 128, 256, 512]
    assert not any(isinstance(m, nn.Conv2d) and m.bias is not None for m in net.modules())
    assert isinstance(net.pool, nn.AdaptiveMaxPool2d)


def test_mlp_head_defaults_to_the_avid_head():
    head = models.create("mlp_head")
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(512, 512), (512, 512), (512, 128)]
    assert all(m.bias is not None for m in linears)
    assert [type(m) for m in head.layers] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert head(torch.randn(3, 512)).shape == (3, 128)


def test_mlp_with_batch_norm_drops_biases_cancelled_by_bn():
    head = models.MLP((32, 64, 16), batch_norm=True, last_batch_norm=True, last_affine=False)
    assert [type(m) for m in head.layers] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear, nn.BatchNorm1d]
    assert head.layers[0].bias is None and head.layers[3].bias is None
    assert not head.layers[4].affine
    assert head(torch.randn(4, 32)).shape == (4, 16)


def test_mlp_rejects_a_single_dimension():
    with pytest.raises(ValueError, match="dims"):
        models.MLP((128,))


@torch.no_grad()
@pytest.mark.parametrize("out_dim", [128, 64])
def test_tiny_nets_share_the_stage_api_at_demo_sizes(out_dim):
    video = models.create("tiny_video", out_dim=out_dim).eval()
    audio = models.create("tiny_audio", out_dim=out_dim).eval()
    assert 50_000 < n_params(video) < 1_000_000 and 50_000 < n_params(audio) < 1_000_000
    v = video(torch.randn(2, 3, 8, 32, 32), return_stages=True)
    a = audio(torch.randn(2, 1, 200, 257), return_stages=True)
    assert list(v) == list(a) == ["conv1", "conv2x", "conv3x", "conv4x", "conv5x", "pool"]
    assert v["pool"].shape == a["pool"].shape == (2, out_dim)
    assert video.out_dim == audio.out_dim == out_dim
    assert audio(torch.randn(2, 1, 50, 64)).shape == (2, out_dim)


def test_encoders_reject_inputs_with_the_wrong_layout():
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        models.create("avid_r2plus1d_10")(torch.randn(1, 8, 3, 32, 32))
    with pytest.raises(ValueError, match=r"\(B, 1, T, F\)"):
        models.create("avid_audio_conv2d")(torch.randn(1, 200, 257))


def test_registry_lists_every_required_name():
    assert set(models.available_models()) >= {
        "avid_r2plus1d_10", "avid_r2plus1d_18", "avid_r2plus1d_34", "avid_audio_conv2d",
        "tiny_video", "tiny_audio", "mlp_head",
    }


def test_registry_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown model 'resnet9000'") as info:
        models.create("resnet9000")
    assert "avid_r2plus1d_18" in str(info.value) and "tiny_audio" in str(info.value)


def test_registry_refuses_to_register_a_name_twice():
    with pytest.raises(ValueError, match="already registered"):
        models.register("tiny_video", models.TinyVideoNet)


def test_unsupported_depth_is_an_error():
    with pytest.raises(ValueError, match="depth"):
        models.AVIDVideoNet(depth=50)
