"""Specification of the image views: the published recipes, each operation against a direct
computation, probabilities that hold over many draws, and determinism per generator."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import pytest
import torch
import torch.nn.functional as nnf

from avssl.data.data_config import ViewConfig
from avssl.data.image_views import VIEW_RECIPES, MultiViewTransform, ViewSpec, blur_kernel_size
from avssl.data.video_transforms import IMAGENET_MEAN, IMAGENET_STD

# One crop covering the whole image, nothing else: each test switches on the operation it checks.
PLAIN = ViewSpec(size=32, scale=(1.0, 1.0), count=1, flip_prob=0.0, color_jitter=(0.0, 0.0, 0.0, 0.0),
                 color_jitter_prob=0.0, grayscale_prob=0.0, blur_prob=0.0, solarize_prob=0.0)


def random_image(h: int = 32, w: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def unnormalise(view: torch.Tensor) -> torch.Tensor:
    """Back to [0, 1] values in float64: view · std + mean."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float64).view(3, 1, 1)
    return view.to(torch.float64) * std + mean


def one_view(spec: ViewSpec, image: torch.Tensor, seed: int = 0) -> torch.Tensor:
    (view,) = MultiViewTransform([spec])(image, torch.Generator().manual_seed(seed))
    return view


def test_same_generator_gives_identical_views_and_another_seed_different_ones():
    transform = MultiViewTransform(VIEW_RECIPES["swav"])
    image = random_image(256, 320)
    a = transform(image, torch.Generator().manual_seed(7))
    b = transform(image, torch.Generator().manual_seed(7))
    c = transform(image, torch.Generator().manual_seed(8))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert all(not torch.equal(x, z) for x, z in zip(a, c))


def test_views_of_one_sample_differ_from_each_other():
    views = MultiViewTransform(VIEW_RECIPES["simsiam"])(random_image(256, 256), torch.Generator().manual_seed(0))
    assert not torch.equal(views[0], views[1])


@pytest.mark.parametrize(("recipe", "sizes"), [
    ("swav", [224] * 2 + [96] * 6),
    ("seer", [160] * 2 + [96] * 4),
    ("byol", [224, 224]),
    ("barlow_twins", [224, 224]),
    ("simsiam", [224, 224]),
])
def test_recipe_gives_its_views_in_spec_order(recipe, sizes):
    transform = MultiViewTransform(VIEW_RECIPES[recipe])
    views = transform(random_image(240, 300), torch.Generator().manual_seed(0))
    assert [tuple(v.shape) for v in views] == [(3, s, s) for s in sizes]
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in views)
    assert transform.num_views == len(sizes)


def test_recipes_hold_the_published_values():
    swav_large, swav_small = VIEW_RECIPES["swav"]
    assert (swav_large.scale, swav_small.scale) == ((0.14, 1.0), (0.05, 0.14))
    assert swav_large.color_jitter == (0.8, 0.8, 0.8, 0.2) and swav_large.blur_prob == 0.5
    assert swav_large.solarize_prob == swav_small.solarize_prob == 0.0
    byol_1, byol_2 = VIEW_RECIPES["byol"]
    assert (byol_1.blur_prob, byol_1.solarize_prob, byol_2.blur_prob, byol_2.solarize_prob) == (1.0, 0.0, 0.1, 0.2)
    assert byol_1.color_jitter == (0.4, 0.4, 0.2, 0.1) and byol_1.scale == (0.08, 1.0)
    assert VIEW_RECIPES["barlow_twins"] == VIEW_RECIPES["byol"]
    (simsiam,) = VIEW_RECIPES["simsiam"]
    assert (simsiam.count, simsiam.scale, simsiam.color_jitter) == (2, (0.2, 1.0), (0.4, 0.4, 0.4, 0.1))
    for specs in VIEW_RECIPES.values():
        assert all(s.grayscale_prob == 0.2 and s.color_jitter_prob == 0.8 and s.flip_prob == 0.5 for s in specs)
        assert all(s.blur_sigma == (0.1, 2.0) for s in specs)


def test_blur_kernel_is_odd_and_about_a_tenth_of_the_view():
    assert [blur_kernel_size(s) for s in (224, 160, 96, 32, 8)] == [23, 17, 9, 3, 3]


def test_plain_view_is_the_normalised_image():
    image = random_image()
    expected = image.to(torch.float64) / 255.0
    torch.testing.assert_close(unnormalise(one_view(PLAIN, image)), expected, rtol=0, atol=1e-6)


def test_solarize_maps_values_at_or_above_half_to_one_minus_value():
    image = random_image()
    x = image.to(torch.float64) / 255.0
    expected = torch.where(x >= 0.5, 1.0 - x, x)
    out = unnormalise(one_view(replace(PLAIN, solarize_prob=1.0), image))
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_grayscale_gives_three_equal_luma_channels():
    image = random_image()
    r, g, b = (image.to(torch.float64) / 255.0).unbind(0)
    luma = 0.2989 * r + 0.587 * g + 0.114 * b  # ITU-R 601, torchvision's weights
    out = unnormalise(one_view(replace(PLAIN, grayscale_prob=1.0), image))
    for channel in out:
        torch.testing.assert_close(channel, luma, rtol=0, atol=1e-5)


def test_flip_mirrors_the_same_random_crop():
    image = random_image(64, 80)
    spec = replace(PLAIN, scale=(0.2, 0.5))
    for seed in range(3):
        plain = one_view(spec, image, seed)
        flipped = one_view(replace(spec, flip_prob=1.0), image, seed)
        assert torch.equal(flipped, plain.flip(-1))


def test_crop_covers_the_requested_share_of_the_image():
    transform = MultiViewTransform([replace(PLAIN, scale=(0.05, 0.14), count=50)])
    for p in transform.sample(200, 300, torch.Generator().manual_seed(0)):
        _, _, h, w = p.base.crop
        assert 0.04 <= h * w / (200 * 300) <= 0.15  # rounding of h and w moves the area slightly


def gaussian_blur_reference(x: torch.Tensor, kernel: int, sigma: float) -> torch.Tensor:
    """Separable convolution with the normalised sampled Gaussian exp(−t² / 2σ²), t = −(k−1)/2 .. (k−1)/2,
    reflect padding, in float64."""
    t = torch.arange(kernel, dtype=torch.float64) - (kernel - 1) / 2
    weights = torch.exp(-(t**2) / (2 * sigma**2))
    weights /= weights.sum()
    padded = nnf.pad(x.unsqueeze(1), [kernel // 2] * 4, mode="reflect")  # (3, 1, H + k - 1, W + k - 1)
    rows = nnf.conv2d(padded, weights.view(1, 1, kernel, 1))
    return nnf.conv2d(rows, weights.view(1, 1, 1, kernel)).squeeze(1)


def test_blur_equals_a_gaussian_convolution_with_the_drawn_sigma():
    image = random_image(64, 64)
    spec = replace(PLAIN, size=64, blur_prob=1.0, blur_sigma=(1.3, 1.3))
    expected = gaussian_blur_reference(image.to(torch.float64) / 255.0, kernel=7, sigma=1.3)
    torch.testing.assert_close(unnormalise(one_view(spec, image)), expected, rtol=0, atol=1e-5)


def test_brightness_jitter_scales_by_the_drawn_factor():
    image = random_image()
    transform = MultiViewTransform([replace(PLAIN, color_jitter=(0.5, 0.0, 0.0, 0.0), color_jitter_prob=1.0)])
    (params,) = transform.sample(32, 32, torch.Generator().manual_seed(3))
    ((name, factor),) = params.base.jitter
    assert name == "brightness" and 0.5 <= factor <= 1.5
    expected = (image.to(torch.float64) / 255.0 * factor).clamp(0.0, 1.0)
    (out,) = transform.apply(image, [params])
    torch.testing.assert_close(unnormalise(out), expected, rtol=0, atol=1e-5)
    (again,) = transform(image, torch.Generator().manual_seed(3))
    assert torch.equal(again, out)  # forward = apply(sample(...)) with the same draws


def within_binomial_bound(hits: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(hits - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def test_blur_and_solarize_happen_as_often_as_their_probabilities():
    n = 2000
    spec = replace(PLAIN, size=8, count=n, blur_prob=VIEW_RECIPES["byol"][1].blur_prob,
                   solarize_prob=VIEW_RECIPES["byol"][1].solarize_prob)
    transform = MultiViewTransform([spec])
    image = torch.full((3, 8, 8), 200, dtype=torch.uint8)  # solarised: 55, else 200 (blur keeps a constant)
    views = transform(image, torch.Generator().manual_seed(0))
    solarised = sum(bool((unnormalise(v) < 0.5).all()) for v in views)
    assert within_binomial_bound(solarised, n, 0.2), solarised
    params = transform.sample(8, 8, torch.Generator().manual_seed(0))  # the draws forward used
    assert sum(p.solarize for p in params) == solarised
    blurred = sum(p.blur_sigma is not None for p in params)
    assert within_binomial_bound(blurred, n, 0.1), blurred
    assert all(0.1 <= p.blur_sigma <= 2.0 for p in params if p.blur_sigma is not None)


def test_view_spec_takes_config_lists_and_rejects_bad_values():
    spec = ViewSpec(scale=[0.2, 1.0], color_jitter=[0.4, 0.4, 0.4, 0.1], blur_sigma=[0.1, 2.0])
    assert spec.scale == (0.2, 1.0) and isinstance(spec.color_jitter, tuple)
    with pytest.raises(ValueError, match="scale"):
        ViewSpec(scale=[0.2])
    with pytest.raises(ValueError, match="solarize_prob"):
        ViewSpec(solarize_prob=1.5)
    with pytest.raises(ValueError, match="count"):
        ViewSpec(count=0)


def test_view_spec_and_view_config_have_the_same_fields_and_defaults():
    config = ViewConfig()
    assert [f.name for f in fields(ViewSpec)] == [f.name for f in fields(ViewConfig)]
    assert ViewSpec(**{f.name: getattr(config, f.name) for f in fields(ViewConfig)}) == ViewSpec()


def test_input_must_be_a_uint8_rgb_image():
    transform = MultiViewTransform([PLAIN])
    with pytest.raises(ValueError, match=r"uint8 RGB image \(3, H, W\)"):
        transform(torch.zeros(32, 32, 3, dtype=torch.uint8), torch.Generator())
    with pytest.raises(ValueError, match="uint8"):
        transform(torch.zeros(3, 32, 32), torch.Generator())
