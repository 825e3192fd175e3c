"""Clip-consistent video transforms: decoded uint8 (T, H, W, 3) → normalised float32 (3, T, H', W').

Every random choice (crop window, flip, colour-jitter factors and their order, greyscale) is drawn
once per clip and applied to all frames, so motion is never confused with augmentation. The
frames are handled as one (T, 3, H, W) batch by `torchvision.transforms.v2.functional`, which
treats leading dimensions as a batch: one call, one set of parameters, no per-frame Python loop.

The official AVID-CMA recipe (facebookresearch/AVID-CMA: `datasets/preprocessing.py`
`VideoPrep_MSC_CJ`, selected by `transforms: "msc+color"` in the Kinetics and AudioSet
pretraining configs and the UCF/HMDB fine-tuning configs), which the defaults below follow:

- train: random resized crop, scale (0.08, 1), ratio (3/4, 4/3), bilinear (PIL, so antialiased),
  one window per clip; horizontal flip with p 0.5; colour jitter (0.4, 0.4, 0.4, 0.2) applied to
  *every* clip (no RandomApply, p = 1) with one set of factors per clip in a random order; no
  greyscale (a per-frame `RandomGray` exists in its code but no recipe uses it);
- eval: resize the short side to int(crop / 0.875) (128 for 112, 256 for 224; PIL bilinear, as
  its resize helper maps the default name 'nearest' to bilinear), centre crop;
- both: ImageNet mean/std normalisation of [0, 1] values.

We differ in two deliberate ways: the crop is taken on uint8 and only the small crop is converted
to float (resizing uint8 is ~10x cheaper than float on CPU), and jitter runs in float rather than
on uint8 PIL images, so there is no rounding between jitter steps.

Randomness. Parameters are drawn from `generator` when one is given, else from torch's global
RNG. In DataLoader workers the global RNG is what you want: DataLoader seeds it in each worker as
`base_seed + worker_id` with `base_seed` drawn from the main process, so workers differ from each
other and from epoch to epoch, and `torch.manual_seed` in the main process makes a run
repeatable (for a fixed `num_workers`). A `torch.Generator` stored on the transform is *copied*
into every worker with the same state, so all workers would repeat the same augmentations:
reseed it in `worker_init_fn` (e.g. `transform.generator.manual_seed(torch.initial_seed())`), or
pass a per-sample generator to `forward`, seeded from (seed, epoch, index), which is repeatable
whatever the number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torchvision.transforms.v2 import functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ClipAugmentation:
    """The random choices for one clip: drawn once, applied to every frame.

    `crop` is (top, left, height, width) in input pixels; `jitter` lists (operation, factor) in
    the order they are applied, empty when jitter is skipped for this clip.
    """

    crop: tuple[int, int, int, int]
    flip: bool
    jitter: tuple[tuple[str, float], ...]
    grayscale: bool


def _frames(clip: torch.Tensor) -> torch.Tensor:
    """(T, H, W, 3) uint8 → (T, 3, H, W) view (channels-last memory, the fast uint8 resize path)."""
    if clip.ndim != 4 or clip.shape[-1] != 3:
        raise ValueError(f"expected a clip of shape (T, H, W, 3) as decoders return it, got {tuple(clip.shape)}")
    if clip.dtype != torch.uint8:
        raise ValueError(f"expected a uint8 clip (0..255), got {clip.dtype}")
    if clip.shape[0] == 0:
        raise ValueError("expected at least one frame, got an empty clip")
    return clip.permute(0, 3, 1, 2)


def _channel_stats(values: Sequence[float], name: str) -> torch.Tensor:
    stats = torch.as_tensor(values, dtype=torch.float32).reshape(-1)
    if stats.numel() != 3:
        raise ValueError(f"{name} needs one value per RGB channel, got {tuple(values)}")
    if name == "std" and not bool((stats > 0).all()):
        raise ValueError(f"std must be positive, got {tuple(values)}")
    return stats.view(3, 1, 1)


def _uniform(low: float, high: float, generator: torch.Generator | None) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def _unit_float(frames: torch.Tensor) -> torch.Tensor:
    """uint8 (T, 3, H, W), any strides → float32 in [0, 1], a (T, 3, H, W) view of new contiguous
    (3, T, H, W) memory: the layout the output needs, so normalising it needs no further copy,
    while each channel plane stays contiguous for the jitter (as fast as contiguous (T, 3, H, W))."""
    cthw = frames.permute(1, 0, 2, 3).to(torch.float32, memory_format=torch.contiguous_format)
    return cthw.div_(255.0).permute(1, 0, 2, 3)


def _normalize_cthw(frames: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Float (T, 3, H, W) in [0, 1] → normalised, contiguous (3, T, H, W) float32. Works in place
    (no copy) when `frames` already lies in (3, T, H, W) memory, as `_unit_float` returns it."""
    out = frames.permute(1, 0, 2, 3).contiguous()
    return out.sub_(mean.view(3, 1, 1, 1)).div_(std.view(3, 1, 1, 1))


def sample_resized_crop(
    height: int,
    width: int,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    generator: torch.Generator | None = None,
) -> tuple[int, int, int, int]:
    """A random (top, left, h, w) window covering `scale` of the area with aspect (w/h) in `ratio`.

    The Inception-style sampler: up to 10 tries with the area uniform and the aspect log-uniform;
    if none fits, the largest centred window whose aspect lies in `ratio`.
    """
    area = height * width
    log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target_area = area * _uniform(scale[0], scale[1], generator)
        aspect = math.exp(_uniform(log_low, log_high, generator))
        w = round(math.sqrt(target_area * aspect))
        h = round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, (), generator=generator))
            left = int(torch.randint(0, width - w + 1, (), generator=generator))
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif in_ratio > ratio[1]:
        w, h = round(height * ratio[1]), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def shift_hue(frames: torch.Tensor, factor: float) -> torch.Tensor:
    """Rotate the HSV hue of float RGB (..., 3, H, W) in [0, 1] by `factor` turns (in [-0.5, 0.5]).

    Same result as `torchvision.transforms.v2.functional.adjust_hue` (to ~1e-6) but 3x faster on
    CPU, measured on (8, 3, 112, 112) with one thread. No round trip through an HSV tensor: each
    output channel is max − chroma·w, with w the HSV→RGB weight of the shifted hue h (sixths of a
    turn, in [0, 6)) written as clamp(||h − centre| − 3| − 1, 0, 1) for centres 3, 5, 1 (R, G, B).
    Only one (…, 3, H, W) tensor is allocated, the output: fresh full-size temporaries cost more
    in page faults than in arithmetic.
    """
    maxc = frames.amax(dim=-3, keepdim=True)
    chroma = frames.amin(dim=-3, keepdim=True).neg_().add_(maxc)
    inv_chroma = chroma.reciprocal().nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)  # grey: hue 0
    r, g, b = frames.split(1, dim=-3)
    # Hue × chroma: g − b, b − r + 2C or r − g + 4C where r, g or b is the max (r before g before
    # b on ties, as torchvision does), selected exactly by 0/1 float masks: sign(max − c) is 0
    # where channel c is the max, else 1 (arithmetic; `==` and `torch.where` were 4x slower).
    not_r, not_g = torch.sub(maxc, r).sign_(), torch.sub(maxc, g).sign_()
    hue6 = torch.sub(r, g).add_(chroma, alpha=4.0).mul_(not_g)
    hue6.addcmul_(torch.sub(b, r).add_(chroma, alpha=2.0), not_g.neg_().add_(1.0))
    hue6.mul_(not_r).addcmul_(torch.sub(g, b), not_r.neg_().add_(1.0))
    hue6.mul_(inv_chroma).add_(6.0 * factor)
    hue6.sub_(torch.floor(hue6 * (1.0 / 6.0)).mul_(6.0))
    out = torch.empty_like(frames)
    for channel, centre in enumerate((3.0, 5.0, 1.0)):
        weight = out.narrow(-3, channel, 1)
        torch.sub(hue6, centre, out=weight)
        weight.abs_().sub_(3.0).abs_().sub_(1.0).clamp_(0.0, 1.0)
        weight.mul_(chroma).neg_().add_(maxc)
    return out


# In-place twins of torchvision's float kernels (v2 `adjust_brightness/contrast/saturation`, same
# operations in the same order, so the same values): each new (T, 3, H, W) float tensor a kernel
# returns is ~1 MB of fresh pages, and page faults, not arithmetic, were much of the jitter's cost.


def _grayscale(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma (..., 1, H, W) of float RGB (..., 3, H, W), as torchvision computes it."""
    r, g, b = x.unbind(dim=-3)
    return r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(dim=-3)


def _blend_(x: torch.Tensor, other: torch.Tensor, ratio: float) -> torch.Tensor:
    return x.mul_(ratio).add_(other, alpha=1.0 - ratio).clamp_(0.0, 1.0)


def adjust_brightness_(x: torch.Tensor, factor: float) -> torch.Tensor:
    """`F.adjust_brightness` on float RGB in [0, 1], in place."""
    return x.mul_(factor).clamp_(0.0, 1.0)


def adjust_contrast_(x: torch.Tensor, factor: float) -> torch.Tensor:
    """`F.adjust_contrast` on float RGB in [0, 1], in place (blend with each frame's mean luma)."""
    return _blend_(x, _grayscale(x).mean(dim=(-3, -2, -1), keepdim=True), factor)


def adjust_saturation_(x: torch.Tensor, factor: float) -> torch.Tensor:
    """`F.adjust_saturation` on float RGB in [0, 1], in place (blend with the luma image)."""
    return _blend_(x, _grayscale(x), factor)


_JITTER_OPS = {
    "brightness": adjust_brightness_,
    "contrast": adjust_contrast_,
    "saturation": adjust_saturation_,
    "hue": shift_hue,
}


class VideoTrainTransform(nn.Module):
    """Training augmentation for one clip: random resized crop, flip, colour jitter, greyscale.

    uint8 (T, H, W, 3) → float32 (3, T, crop_size, crop_size). Defaults are the official AVID-CMA
    recipe (module docstring); `color_jitter` is (brightness, contrast, saturation, hue) with the
    torchvision meaning, a 0 turning that operation off.
    """

    def __init__(
        self,
        crop_size: int = 112,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        flip_prob: float = 0.5,
        color_jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.2),
        color_jitter_prob: float = 1.0,
        grayscale_prob: float = 0.0,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if crop_size <= 0:
            raise ValueError(f"crop_size must be positive, got {crop_size}")
        if not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be (min, max) with 0 < min <= max, got {scale}")
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"ratio must be (min, max) with 0 < min <= max, got {ratio}")
        for name, p in (("flip_prob", flip_prob), ("color_jitter_prob", color_jitter_prob),
                        ("grayscale_prob", grayscale_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {p}")
        if len(color_jitter) != 4 or min(color_jitter) < 0 or color_jitter[3] > 0.5:
            raise ValueError(
                "color_jitter must be (brightness, contrast, saturation, hue), all >= 0 and hue <= 0.5, "
                f"got {color_jitter}"
            )
        self.crop_size = crop_size
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))
        self.flip_prob = flip_prob
        self.color_jitter = tuple(float(v) for v in color_jitter)
        self.color_jitter_prob = color_jitter_prob
        self.grayscale_prob = grayscale_prob
        self.generator = generator
        self.register_buffer("mean", _channel_stats(mean, "mean"), persistent=False)
        self.register_buffer("std", _channel_stats(std, "std"), persistent=False)

    def extra_repr(self) -> str:
        return (
            f"crop_size={self.crop_size}, scale={self.scale}, ratio={self.ratio}, flip_prob={self.flip_prob}, "
            f"color_jitter={self.color_jitter}, color_jitter_prob={self.color_jitter_prob}, "
            f"grayscale_prob={self.grayscale_prob}"
        )

    def sample(self, height: int, width: int, generator: torch.Generator | None = None) -> ClipAugmentation:
        """Draw one clip's parameters. Every draw is made whatever the probabilities, so a seed
        gives the same crop and factors when only a probability changes."""
        g = generator if generator is not None else self.generator
        crop = sample_resized_crop(height, width, self.scale, self.ratio, g)
        flip = _uniform(0.0, 1.0, g) < self.flip_prob
        apply_jitter = _uniform(0.0, 1.0, g) < self.color_jitter_prob
        b, c, s, h = self.color_jitter
        factors = {
            "brightness": _uniform(max(0.0, 1.0 - b), 1.0 + b, g),
            "contrast": _uniform(max(0.0, 1.0 - c), 1.0 + c, g),
            "saturation": _uniform(max(0.0, 1.0 - s), 1.0 + s, g),
            "hue": _uniform(-h, h, g),
        }
        enabled = {"brightness": b > 0, "contrast": c > 0, "saturation": s > 0, "hue": h > 0}
        names = list(factors)
        order = [names[i] for i in torch.randperm(len(names), generator=g).tolist()]
        jitter = tuple((n, factors[n]) for n in order if enabled[n]) if apply_jitter else ()
        grayscale = _uniform(0.0, 1.0, g) < self.grayscale_prob
        return ClipAugmentation(crop=crop, flip=flip, jitter=jitter, grayscale=grayscale)

    def apply(self, clip: torch.Tensor, params: ClipAugmentation) -> torch.Tensor:
        """Apply given parameters to uint8 (T, H, W, 3); deterministic."""
        frames = _frames(clip)
        top, left, h, w = params.crop
        if (h, w) == (self.crop_size, self.crop_size):
            frames = frames[..., top : top + h, left : left + w]
        else:
            frames = F.resized_crop(
                frames, top, left, h, w, [self.crop_size, self.crop_size],
                interpolation=F.InterpolationMode.BILINEAR, antialias=True,
            )
        if params.flip:
            frames = F.horizontal_flip(frames)
        # The crop comes out channels-last (the layout of decoded frames); jitter on planar float
        # is 3-7x faster per operation on CPU than on channels-last, measured at 8x112x112.
        x = _unit_float(frames)
        for name, factor in params.jitter:
            x = _JITTER_OPS[name](x, factor)
        if params.grayscale:
            x = F.rgb_to_grayscale(x, num_output_channels=3)
        return _normalize_cthw(x, self.mean, self.std)

    def forward(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """uint8 (T, H, W, 3) → float32 (3, T, crop_size, crop_size); `generator` overrides the
        transform's own for this call."""
        frames = _frames(clip)
        return self.apply(clip, self.sample(frames.shape[-2], frames.shape[-1], generator))


class VideoEvalTransform(nn.Module):
    """Deterministic evaluation view: resize the short side, centre crop, normalise.

    uint8 (T, H, W, 3) → float32 (3, T, crop_size, crop_size). AVID-CMA resized the short side
    to int(crop / 0.875), i.e. 128 for a 112 crop; the centre offset rounds half to even, as
    torchvision and the official code do.
    """

    def __init__(
        self,
        resize_short_side: int = 128,
        crop_size: int = 112,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        if crop_size <= 0 or resize_short_side < crop_size:
            raise ValueError(
                f"need 0 < crop_size <= resize_short_side, got crop_size={crop_size}, "
                f"resize_short_side={resize_short_side}"
            )
        self.resize_short_side = resize_short_side
        self.crop_size = crop_size
        self.register_buffer("mean", _channel_stats(mean, "mean"), persistent=False)
        self.register_buffer("std", _channel_stats(std, "std"), persistent=False)

    def extra_repr(self) -> str:
        return f"resize_short_side={self.resize_short_side}, crop_size={self.crop_size}"

    def forward(self, clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """uint8 (T, H, W, 3) → float32 (3, T, crop_size, crop_size). `generator` is accepted and
        unused, so train and eval transforms are called the same way by the dataset."""
        frames = _frames(clip)
        if min(frames.shape[-2:]) != self.resize_short_side:
            frames = F.resize(
                frames, [self.resize_short_side],
                interpolation=F.InterpolationMode.BILINEAR, antialias=True,
            )
        frames = F.center_crop(frames, [self.crop_size, self.crop_size])
        return _normalize_cthw(_unit_float(frames), self.mean, self.std)
