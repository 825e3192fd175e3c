"""Specification of the clip transforms: consistent per clip, exact where they claim to be."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as nnf
from torchvision.transforms.v2 import functional as F

from avssl.data.video_transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ClipAugmentation,
    VideoEvalTransform,
    VideoTrainTransform,
    adjust_brightness_,
    adjust_contrast_,
    adjust_saturation_,
    sample_resized_crop,
    shift_hue,
)

NO_JITTER = (0.0, 0.0, 0.0, 0.0)


def random_clip(t: int = 8, h: int = 128, w: int = 171, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (t, h, w, 3), dtype=torch.uint8, generator=g)


def smooth_clip(t: int = 8, h: int = 128, w: int = 171, seed: int = 0) -> torch.Tensor:
    """Mid-grey colourful frames (values ~100..150) so jitter rarely clips at 0 or 255."""
    g = torch.Generator().manual_seed(seed)
    small = torch.rand((1, 3, 8, 8), generator=g)
    frame = nnf.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)[0]
    frame = (100 + 50 * frame).round().to(torch.uint8).permute(1, 2, 0)
    return frame.expand(t, h, w, 3).contiguous()


def by_hand(clip: torch.Tensor, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    """(x / 255 - mean) / std in float64, as (3, T, H, W)."""
    x = clip.to(torch.float64).permute(3, 0, 1, 2) / 255.0
    m = torch.tensor(mean, dtype=torch.float64).view(3, 1, 1, 1)
    s = torch.tensor(std, dtype=torch.float64).view(3, 1, 1, 1)
    return (x - m) / s


def normalised_range() -> tuple[torch.Tensor, torch.Tensor]:
    m = torch.tensor(IMAGENET_MEAN).view(3, 1, 1, 1)
    s = torch.tensor(IMAGENET_STD).view(3, 1, 1, 1)
    return (0 - m) / s, (1 - m) / s


@pytest.mark.parametrize("grayscale_prob", [0.0, 1.0])
def test_train_output_is_float32_channel_first_and_within_normalised_range(grayscale_prob):
    transform = VideoTrainTransform(crop_size=112, grayscale_prob=grayscale_prob)
    low, high = normalised_range()
    for seed in range(5):
        out = transform(random_clip(), generator=torch.Generator().manual_seed(seed))
        assert out.shape == (3, 8, 112, 112)
        assert out.dtype == torch.float32
        assert out.is_contiguous()
        assert bool((out >= low - 1e-5).all()) and bool((out <= high + 1e-5).all())


def test_eval_output_is_float32_channel_first_and_within_normalised_range():
    out = VideoEvalTransform(resize_short_side=128, crop_size=112)(random_clip(h=240, w=320))
    low, high = normalised_range()
    assert out.shape == (3, 8, 112, 112)
    assert out.dtype == torch.float32
    assert bool((out >= low - 1e-5).all()) and bool((out <= high + 1e-5).all())


def test_identical_frames_stay_identical_after_train_transform():
    transform = VideoTrainTransform(crop_size=64, grayscale_prob=0.5, color_jitter_prob=1.0)
    clip = random_clip(t=1, h=96, w=128).expand(6, 96, 128, 3).contiguous()
    for seed in range(10):
        out = transform(clip, generator=torch.Generator().manual_seed(seed))
        for t in range(1, 6):
            assert torch.equal(out[:, t], out[:, 0]), f"seed {seed}: frame {t} was augmented differently"


def test_per_frame_brightness_ordering_survives_train_transform():
    # Frames differ only by +2 grey levels per frame; per-frame random jitter would scramble this.
    base = smooth_clip(t=1, h=96, w=128).to(torch.int16)
    clip = torch.cat([base + 2 * t for t in range(8)]).to(torch.uint8)
    transform = VideoTrainTransform(crop_size=64)
    for seed in range(20):
        out = transform(clip, generator=torch.Generator().manual_seed(seed))
        frame_means = out.mean(dim=(0, 2, 3))
        assert bool((frame_means[1:] > frame_means[:-1]).all()), f"seed {seed}: {frame_means.tolist()}"


def test_flip_mirrors_a_known_pattern():
    clip = torch.zeros((4, 32, 32, 3), dtype=torch.uint8)
    clip[..., :, :8, 0] = 255  # red band on the left edge only
    clip[..., :, 8:12, 1] = 200
    transform = VideoTrainTransform(
        crop_size=32, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_prob=1.0, color_jitter=NO_JITTER
    )
    out = transform(clip)
    expected = by_hand(torch.flip(clip, dims=[2]))
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=0)
    assert bool((out[0, :, :, -8:] > out[0, :, :, :8]).all())


def test_flip_is_the_only_difference_between_flip_prob_one_and_zero():
    clip = random_clip()
    flipped = VideoTrainTransform(flip_prob=1.0)(clip, generator=torch.Generator().manual_seed(3))
    kept = VideoTrainTransform(flip_prob=0.0)(clip, generator=torch.Generator().manual_seed(3))
    assert not torch.equal(flipped, kept)
    torch.testing.assert_close(flipped, torch.flip(kept, dims=[-1]), atol=1e-5, rtol=0)


def test_eval_transform_is_deterministic():
    transform = VideoEvalTransform()
    clip = random_clip(h=240, w=320)
    assert torch.equal(transform(clip), transform(clip))


@pytest.mark.parametrize(("height", "width", "top", "left"), [(128, 172, 8, 30), (150, 128, 19, 8)])
def test_eval_centre_crop_takes_the_exact_centre_pixels(height, width, top, left):
    clip = random_clip(t=3, h=height, w=width)
    out = VideoEvalTransform(resize_short_side=128, crop_size=112)(clip)
    expected = by_hand(clip[:, top : top + 112, left : left + 112])
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=0)


def test_eval_resizes_the_short_side_before_cropping():
    clip = random_clip(t=2, h=256, w=340)
    out = VideoEvalTransform(resize_short_side=128, crop_size=128)(clip)
    resized = F.resize(clip.permute(0, 3, 1, 2), [128], antialias=True)
    assert resized.shape[-2:] == (128, 170)
    expected = by_hand(resized[..., 21 : 21 + 128].permute(0, 2, 3, 1))
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=0)


def test_seeded_generator_reproduces_the_same_output():
    clip = random_clip()
    a = VideoTrainTransform(generator=torch.Generator().manual_seed(7))
    b = VideoTrainTransform(generator=torch.Generator().manual_seed(7))
    c = VideoTrainTransform(generator=torch.Generator().manual_seed(8))
    out_a, out_b, out_c = a(clip), b(clip), c(clip)
    assert torch.equal(out_a, out_b)
    assert not torch.equal(out_a, out_c)


def test_generator_leaves_the_global_rng_untouched():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    VideoTrainTransform(generator=torch.Generator().manual_seed(1))(random_clip())
    assert torch.equal(torch.rand(3), expected)


def test_global_rng_is_used_without_a_generator():
    clip, transform = random_clip(), VideoTrainTransform()
    torch.manual_seed(5)
    first = transform(clip)
    torch.manual_seed(5)
    assert torch.equal(transform(clip), first)
    assert not torch.equal(transform(clip), first)


def test_full_scale_square_crop_is_the_resized_whole_frame():
    clip = random_clip(t=4, h=64, w=64)
    transform = VideoTrainTransform(
        crop_size=32, scale=(0.999, 1.0), ratio=(1.0, 1.0), flip_prob=0.0, color_jitter=NO_JITTER
    )
    out = transform(clip, generator=torch.Generator().manual_seed(0))
    frames = clip.permute(0, 3, 1, 2).double()
    resized = nnf.interpolate(frames, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)
    expected = by_hand(resized.permute(0, 2, 3, 1))
    # The crop is resized in uint8, so it may differ from the float reference by rounding (0.5 / 255).
    torch.testing.assert_close(out.double(), expected, atol=1.0 / 255 / min(IMAGENET_STD), rtol=0)


def test_train_crop_takes_the_sampled_window():
    clip = random_clip(t=3, h=60, w=80)
    transform = VideoTrainTransform(crop_size=32)
    params = ClipAugmentation(crop=(5, 7, 32, 32), flip=False, jitter=(), grayscale=False)
    expected = by_hand(clip[:, 5:37, 7:39])
    torch.testing.assert_close(transform.apply(clip, params).double(), expected, atol=1e-5, rtol=0)


def test_normalisation_matches_the_formula_in_float64():
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    clip = random_clip(t=2, h=16, w=16)
    train = VideoTrainTransform(crop_size=16, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_prob=0.0,
                                color_jitter=NO_JITTER, mean=mean, std=std)
    evaluate = VideoEvalTransform(resize_short_side=16, crop_size=16, mean=mean, std=std)
    expected = by_hand(clip, mean, std)
    torch.testing.assert_close(train(clip).double(), expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(evaluate(clip).double(), expected, atol=1e-6, rtol=0)


def test_jitter_is_applied_with_official_default_probability_one():
    clip = smooth_clip(t=2, h=32, w=32)
    transform = VideoTrainTransform(crop_size=32, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_prob=0.0)
    plain = by_hand(clip).float()
    for seed in range(10):
        params = transform.sample(32, 32, torch.Generator().manual_seed(seed))
        assert [name for name, _ in params.jitter] != []
        assert not torch.allclose(transform.apply(clip, params), plain, atol=1e-3)


def test_jitter_order_and_factors_vary_between_clips():
    transform = VideoTrainTransform()
    g = torch.Generator().manual_seed(0)
    orders = {tuple(name for name, _ in transform.sample(128, 171, g).jitter) for _ in range(50)}
    assert len(orders) > 5


def test_crop_windows_stay_inside_the_frame_and_respect_the_ranges():
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        top, left, h, w = sample_resized_crop(128, 171, (0.08, 1.0), (3 / 4, 4 / 3), g)
        assert 0 <= top and top + h <= 128 and 0 <= left and left + w <= 171
        assert 0.08 * 128 * 171 * 0.9 <= h * w <= 128 * 171


def test_crop_falls_back_to_a_centred_window_when_nothing_fits():
    # A very wide frame cannot hold a square window of 90 % of its area: centred, ratio-limited crop.
    assert sample_resized_crop(10, 100, (0.9, 1.0), (1.0, 1.0)) == (0, 45, 10, 10)


@pytest.mark.parametrize("factor", [-0.5, -0.2, 0.0, 0.1, 0.37, 0.5])
def test_shift_hue_matches_torchvision(factor):
    x = torch.rand((2, 3, 17, 19), generator=torch.Generator().manual_seed(1))
    x[:, :, :3] = 0.5  # grey pixels have no hue
    x[:, 0, 3:6] = x[:, 1, 3:6]  # ties between channels pick the same hue whichever wins
    x[:, 0, 6:9] = x[:, 2, 6:9]
    x[:, 1, 9:12] = x[:, 2, 9:12]
    torch.testing.assert_close(shift_hue(x, factor), F.adjust_hue(x, factor), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "clip",
    [torch.zeros((8, 32, 32, 4), dtype=torch.uint8), torch.zeros((8, 32, 32, 3)),
     torch.zeros((0, 32, 32, 3), dtype=torch.uint8), torch.zeros((32, 32, 3), dtype=torch.uint8)],
)
def test_malformed_clips_are_rejected_with_a_clear_error(clip):
    with pytest.raises(ValueError, match="expected"):
        VideoTrainTransform()(clip)
    with pytest.raises(ValueError, match="expected"):
        VideoEvalTransform()(clip)


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="scale"):
        VideoTrainTransform(scale=(0.5, 0.1))
    with pytest.raises(ValueError, match="flip_prob"):
        VideoTrainTransform(flip_prob=1.5)
    with pytest.raises(ValueError, match="color_jitter"):
        VideoTrainTransform(color_jitter=(0.4, 0.4, 0.4, 0.7))
    with pytest.raises(ValueError, match="resize_short_side"):
        VideoEvalTransform(resize_short_side=100, crop_size=112)


def previous_shift_hue(frames: torch.Tensor, factor: float) -> torch.Tensor:
    """The formula shift_hue used before it was rewritten to allocate less (kept as the reference
    for the rewrite): max − chroma·clamp(min(k, 4 − k), 0, 1), k = (hue6 + offset) mod 6."""
    maxc = frames.amax(dim=-3, keepdim=True)
    chroma = maxc - frames.amin(dim=-3, keepdim=True)
    inv_chroma = chroma.reciprocal().nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
    r, g, b = frames.split(1, dim=-3)
    is_r = (maxc == r).to(frames.dtype)
    is_g = (maxc == g).to(frames.dtype).mul_(1.0 - is_r)
    is_b = 1.0 - is_r - is_g
    hue6 = (g - b).mul_(is_r).addcmul_(b - r, is_g).addcmul_(r - g, is_b).mul_(inv_chroma)
    hue6.add_(is_g, alpha=2.0).add_(is_b, alpha=4.0)
    k = hue6 + torch.tensor([5.0, 3.0, 1.0], dtype=frames.dtype).view(3, 1, 1).add_(6.0 * factor)
    k.sub_(torch.floor(k / 6.0).mul_(6.0))
    return torch.minimum(k, 4.0 - k).clamp_(0.0, 1.0).mul_(chroma).neg_().add_(maxc)


def hue_test_image(seed: int = 1) -> torch.Tensor:
    x = torch.rand((3, 3, 17, 19), generator=torch.Generator().manual_seed(seed))
    x[:, :, :3] = 0.5  # grey
    x[:, 0, 3:6] = x[:, 1, 3:6]  # ties between channels
    x[:, 0, 6:9] = x[:, 2, 6:9]
    x[:, 1, 9:12] = x[:, 2, 9:12]
    x[:, :, 12:14] = torch.randint(0, 256, (3, 3, 2, 19), generator=torch.Generator().manual_seed(seed)) / 255.0
    x[2, :, 14:] = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)  # pure red: hue exactly 0
    return x


@pytest.mark.parametrize("factor", [-0.5, -1 / 3, -0.2, -1e-7, 0.0, 0.1, 1 / 6, 0.37, 0.5])
def test_shift_hue_matches_its_previous_formula(factor):
    x = hue_test_image()
    torch.testing.assert_close(shift_hue(x, factor), previous_shift_hue(x, factor), atol=2e-6, rtol=0)
    torch.testing.assert_close(shift_hue(x, factor), F.adjust_hue(x, factor), atol=1e-5, rtol=0)


def test_shift_hue_keeps_the_memory_layout_and_leaves_its_input_alone():
    x = hue_test_image().permute(1, 0, 2, 3).contiguous().permute(1, 0, 2, 3)  # (T, 3) view of (3, T)
    before = x.clone()
    out = shift_hue(x, 0.2)
    assert out.stride() == x.stride() and torch.equal(x, before)
    torch.testing.assert_close(out, shift_hue(before.contiguous(), 0.2), atol=0, rtol=0)


@pytest.mark.parametrize(
    "ours, theirs",
    [(adjust_brightness_, F.adjust_brightness), (adjust_contrast_, F.adjust_contrast),
     (adjust_saturation_, F.adjust_saturation)],
)
@pytest.mark.parametrize("factor", [0.0, 0.6, 1.0, 1.4])
@pytest.mark.parametrize("layout", ["tchw", "cthw"])
def test_in_place_jitter_equals_torchvision_exactly(ours, theirs, factor, layout):
    x = torch.randint(0, 256, (4, 3, 13, 11), generator=torch.Generator().manual_seed(3)) / 255.0
    if layout == "cthw":  # the layout VideoTrainTransform jitters in
        x = x.permute(1, 0, 2, 3).contiguous().permute(1, 0, 2, 3)
    expected = theirs(x, factor)
    got = ours(x.clone(), factor)
    assert torch.equal(got, expected)
