"""Augmented views of one image for the image SSL methods: a uint8 (3, H, W) image → a list of
normalised float32 (3, size, size) crops, one per crop of each `ViewSpec`, in spec order.

Each crop draws its own parameters from the sample's generator (seeded by (seed, epoch, item) in
the datasets), so a sample is the same in any DataLoader worker and a resumed run sees exactly the
augmentations it would have seen. Every draw is made whatever the probabilities, so changing one
probability never shifts the other draws.

Per crop, in the order the papers apply them: random resized crop and resize (on uint8, ~10x cheaper
than on float), horizontal flip, colour jitter in a random order, greyscale, Gaussian blur,
solarisation (x ≥ 0.5 → 1 − x), normalisation. Crop, flip, jitter and greyscale are those of
`VideoTrainTransform` (a one-frame clip), so image and video views share one implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from torch import nn
from torchvision.transforms.v2 import functional as F

from avssl.data.video_transforms import IMAGENET_MEAN, IMAGENET_STD, ClipAugmentation, VideoTrainTransform

__all__ = ["VIEW_RECIPES", "MultiViewTransform", "ViewAugmentation", "ViewSpec", "blur_kernel_size"]

CROP_RATIO = (3 / 4, 4 / 3)  # RandomResizedCrop's aspect range, used by every recipe below


def _pair(values: Sequence[float], name: str) -> tuple[float, float]:
    pair = tuple(float(v) for v in values)
    if len(pair) != 2:
        raise ValueError(f"ViewSpec.{name} must be (low, high), got {tuple(values)}")
    return pair  # type: ignore[return-value]


@dataclass(frozen=True)
class ViewSpec:
    """`count` crops of `size` px covering `scale` of the image area, and their augmentation.

    `color_jitter` is (brightness, contrast, saturation, hue) with torchvision's meaning, applied with
    probability `color_jitter_prob`; `blur_sigma` bounds the uniform σ of the Gaussian blur, whose
    kernel is `blur_kernel_size(size)`. Lists are accepted (config values) and stored as tuples.
    Defaults (the common SimCLR/BYOL view) equal `data_config.ViewConfig`'s.
    """

    size: int = 224
    scale: tuple[float, float] = (0.08, 1.0)
    count: int = 1
    flip_prob: float = 0.5
    color_jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.2, 0.1)
    color_jitter_prob: float = 0.8
    grayscale_prob: float = 0.2
    blur_prob: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    solarize_prob: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _pair(self.scale, "scale"))
        object.__setattr__(self, "blur_sigma", _pair(self.blur_sigma, "blur_sigma"))
        object.__setattr__(self, "color_jitter", tuple(float(v) for v in self.color_jitter))
        if len(self.color_jitter) != 4:
            raise ValueError(f"ViewSpec.color_jitter must be (brightness, contrast, saturation, hue), "
                             f"got {self.color_jitter}")
        if self.size <= 0 or self.count <= 0:
            raise ValueError(f"ViewSpec needs size > 0 and count > 0, got size={self.size}, count={self.count}")
        if not 0 < self.blur_sigma[0] <= self.blur_sigma[1]:
            raise ValueError(f"ViewSpec.blur_sigma must be (low, high) with 0 < low <= high, got {self.blur_sigma}")
        for name in ("blur_prob", "solarize_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"ViewSpec.{name} must lie in [0, 1], got {getattr(self, name)}")


def blur_kernel_size(size: int) -> int:
    """Odd kernel of about 10 % of the view (23 for 224, 17 for 160, 9 for 96; at least 3), as
    SimCLR (App. A) and BYOL (Table 6: 23×23 at 224) specify it."""
    return max(3, int(size * 0.1) // 2 * 2 + 1)


# Published recipes: values from the papers and the official repositories' configuration (no code
# copied). SwAV's and SEER's colour distortion is SimCLR's at strength 1 (jitter (0.8, 0.8, 0.8, 0.2)
# with p 0.8, then greyscale with p 0.2), followed by a Gaussian blur with p 0.5, σ in [0.1, 2].
_SWAV_LARGE = ViewSpec(size=224, scale=(0.14, 1.0), count=2, flip_prob=0.5, color_jitter=(0.8, 0.8, 0.8, 0.2),
                       color_jitter_prob=0.8, grayscale_prob=0.2, blur_prob=0.5, blur_sigma=(0.1, 2.0),
                       solarize_prob=0.0)
_SWAV_SMALL = replace(_SWAV_LARGE, size=96, scale=(0.05, 0.14), count=6)
# BYOL (Grill et al. 2020, App. B, Table 6); Barlow Twins uses the same pair (Zbontar et al. 2021,
# implementation details, "Image augmentations"; official main.py `Transform`): identical except
# that view 1 is always blurred and never solarised, view 2 blurred with p 0.1, solarised with p 0.2.
_BYOL_1 = ViewSpec(size=224, scale=(0.08, 1.0), count=1, flip_prob=0.5, color_jitter=(0.4, 0.4, 0.2, 0.1),
                   color_jitter_prob=0.8, grayscale_prob=0.2, blur_prob=1.0, blur_sigma=(0.1, 2.0),
                   solarize_prob=0.0)
_BYOL_2 = replace(_BYOL_1, blur_prob=0.1, solarize_prob=0.2)

VIEW_RECIPES: dict[str, tuple[ViewSpec, ...]] = {
    # SwAV (Caron et al. 2020, Sec. 3.2 multi-crop, App. A): 2 × 224 + 6 × 96; scales from the
    # official README's multi-crop commands (main_swav.py --min_scale_crops 0.14 0.05
    # --max_scale_crops 1. 0.14); colour and blur from src/multicropdataset.py.
    "swav": (_SWAV_LARGE, _SWAV_SMALL),
    # SEER (Goyal et al. 2021): SwAV with 6 crops, 2 × 160 + 4 × 96. Scales as in VISSL's SEER configs
    # (configs/config/pretrain/seer/models/regnet10B.yaml, pretrain/swav/transforms/
    # multicrop_6crop_2x160_4x96.yaml): crop_scales [[0.14, 1], [0.05, 0.14]], i.e. SwAV's, not (0.08, 1).
    "seer": (replace(_SWAV_LARGE, size=160), replace(_SWAV_SMALL, count=4)),
    "byol": (_BYOL_1, _BYOL_2),
    "barlow_twins": (_BYOL_1, _BYOL_2),
    # SimSiam (Chen & He 2021, Sec. 4 / App. A; official main_simsiam.py): two views of one recipe.
    "simsiam": (ViewSpec(size=224, scale=(0.2, 1.0), count=2, flip_prob=0.5, color_jitter=(0.4, 0.4, 0.4, 0.1),
                         color_jitter_prob=0.8, grayscale_prob=0.2, blur_prob=0.5, blur_sigma=(0.1, 2.0),
                         solarize_prob=0.0),),
}


@dataclass(frozen=True)
class ViewAugmentation:
    """The random choices for one crop: `base` (crop, flip, jitter, greyscale), the blur σ (None: no
    blur) and whether to solarise. `spec` is the index of its ViewSpec."""

    spec: int
    base: ClipAugmentation
    blur_sigma: float | None
    solarize: bool


def _uniform(low: float, high: float, generator: torch.Generator) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


class MultiViewTransform(nn.Module):
    """uint8 (3, H, W) → [float32 (3, size, size)]: spec 1's `count` crops, then spec 2's, ...

    Args:
        specs: the views (e.g. `VIEW_RECIPES["swav"]`).
        mean, std: per-channel normalisation of [0, 1] values (ImageNet's by default).
    """

    def __init__(self, specs: Sequence[ViewSpec], mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        if not specs:
            raise ValueError("MultiViewTransform needs at least one ViewSpec")
        self.specs = tuple(specs)
        self.mean = [float(v) for v in mean]
        self.std = [float(v) for v in std]
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError(f"mean and std need 3 values each (std > 0), got mean={mean}, std={std}")
        # Identity normalisation: blur and solarisation act on [0, 1] values, before `mean`/`std`.
        self.crops = nn.ModuleList(
            VideoTrainTransform(crop_size=s.size, scale=s.scale, ratio=CROP_RATIO, flip_prob=s.flip_prob,
                                color_jitter=s.color_jitter, color_jitter_prob=s.color_jitter_prob,
                                grayscale_prob=s.grayscale_prob, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
            for s in self.specs)

    @property
    def num_views(self) -> int:
        return sum(s.count for s in self.specs)

    def extra_repr(self) -> str:
        sizes = [f"{s.count}x{s.size}" for s in self.specs]
        return f"views={'+'.join(sizes)}, mean={self.mean}, std={self.std}"

    def sample(self, height: int, width: int, generator: torch.Generator) -> list[ViewAugmentation]:
        """Draw every crop's parameters for an image of `height` × `width`."""
        params = []
        for index, (spec, crop) in enumerate(zip(self.specs, self.crops)):
            for _ in range(spec.count):
                base = crop.sample(height, width, generator)
                blur = _uniform(0.0, 1.0, generator) < spec.blur_prob
                sigma = _uniform(*spec.blur_sigma, generator)
                solarize = _uniform(0.0, 1.0, generator) < spec.solarize_prob
                params.append(ViewAugmentation(index, base, sigma if blur else None, solarize))
        return params

    def apply(self, image: torch.Tensor, params: Sequence[ViewAugmentation]) -> list[torch.Tensor]:
        """Apply drawn parameters to uint8 (3, H, W); deterministic."""
        clip = _as_clip(image)
        views = []
        for p in params:
            x = self.crops[p.spec].apply(clip, p.base).squeeze(1)  # (3, size, size) in [0, 1]
            if p.blur_sigma is not None:
                k = blur_kernel_size(self.specs[p.spec].size)
                x = F.gaussian_blur(x, [k, k], [p.blur_sigma, p.blur_sigma])
            if p.solarize:
                x = F.solarize(x, threshold=0.5)
            views.append(F.normalize(x, self.mean, self.std, inplace=True))
        return views

    def forward(self, image: torch.Tensor, generator: torch.Generator) -> list[torch.Tensor]:
        clip = _as_clip(image)
        return self.apply(image, self.sample(clip.shape[1], clip.shape[2], generator))


def _as_clip(image: torch.Tensor) -> torch.Tensor:
    """uint8 (3, H, W) → a (1, H, W, 3) view: the one-frame clip `VideoTrainTransform` takes."""
    if image.ndim != 3 or image.shape[0] != 3 or image.dtype != torch.uint8:
        raise ValueError(f"expected a uint8 RGB image (3, H, W), got {image.dtype} {tuple(image.shape)}")
    return image.permute(1, 2, 0).unsqueeze(0)
