"""Image files: which files under a folder are images (in a stable order), and reading one as RGB.

torchvision.io decodes JPEG, PNG and WebP (grey, grey+alpha, RGBA and palette images come out RGB,
16-bit PNGs are scaled to 8 bits); it has no BMP decoder, so BMP goes through Pillow (a torchvision
dependency). Any failure is a `DecodeError` naming the file, which datasets count and skip.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.io import ImageReadMode, decode_image
from torchvision.transforms.v2 import functional as F

from avssl.data.decoders import DecodeError

__all__ = ["IMAGE_EXTENSIONS", "list_images", "read_image"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
_PILLOW_ONLY = (".bmp",)
_TORCHVISION_WHERE = re.compile(r"^[\w:]+, \S+:\d+, ")  # "decode_jpeg, /…/decode_jpeg.cpp:171, " prefixes


def list_images(root: str | os.PathLike) -> list[str]:
    """Paths (relative to `root`, '/'-separated) of the image files under it, sorted: the instance
    order, never the file system's. Hidden files and folders (".name") are skipped."""
    root = Path(root)
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        hidden = any(part.startswith(".") for part in relative.parts)
        if path.suffix.lower() in IMAGE_EXTENSIONS and not hidden and path.is_file():
            found.append(relative.as_posix())
    return sorted(found)


def read_image(path: str | os.PathLike) -> torch.Tensor:
    """uint8 (3, H, W) RGB pixels of the image at `path`; DecodeError if it cannot be read."""
    path = str(path)
    try:
        if path.lower().endswith(_PILLOW_ONLY):
            with Image.open(path) as image:
                pixels = np.array(image.convert("RGB"))
            return torch.from_numpy(pixels).permute(2, 0, 1).contiguous()
        image = decode_image(path, mode=ImageReadMode.RGB)
    except (RuntimeError, OSError, ValueError) as error:
        reason = _TORCHVISION_WHERE.sub("", str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise DecodeError(path, f"unreadable image: {reason}") from error
    if image.dtype != torch.uint8:
        image = F.to_dtype(image, torch.uint8, scale=True)
    return image
