"""Config → image-method dataset: the one place `data.images` is turned into objects."""

from __future__ import annotations

from dataclasses import fields

from avssl.data.data_config import DataConfig
from avssl.data.decoders import Decoder
from avssl.data.image_dataset import ImageFolderDataset, VideoFrameDataset
from avssl.data.image_views import VIEW_RECIPES, MultiViewTransform, ViewSpec
from avssl.data.manifest import Manifest, read_manifest

IMAGE_SOURCES = ("video_frames", "folder")


def build_view_specs(cfg: DataConfig) -> tuple[ViewSpec, ...]:
    """`data.images.views` when given, else the recipe `data.images.recipe`."""
    images = cfg.images
    if images.views:
        return tuple(ViewSpec(**{f.name: getattr(view, f.name) for f in fields(ViewSpec)}) for view in images.views)
    if images.recipe is None or images.recipe not in VIEW_RECIPES:
        given = "not set" if images.recipe is None else f"{images.recipe!r} is not a recipe"
        raise ValueError(f"data.images.recipe {given} and data.images.views is empty: set data.images.recipe to one "
                         f"of {', '.join(VIEW_RECIPES)}, or list explicit views, e.g. "
                         "data.images.views='[{size: 32, count: 2}]'")
    return VIEW_RECIPES[images.recipe]


def build_image_dataset(cfg: DataConfig, seed: int = 0, decoder: Decoder | None = None,
                        manifest: Manifest | None = None) -> ImageFolderDataset | VideoFrameDataset:
    """The training dataset of an image method for `cfg.images.source`: `folder` (images under
    `cfg.images.root`) or `video_frames` (frames of `manifest`, else of `cfg.manifest`)."""
    images = cfg.images
    transform = MultiViewTransform(build_view_specs(cfg), mean=cfg.video.mean, std=cfg.video.std)
    if images.source == "folder":
        if not images.root:
            raise ValueError("data.images.source is 'folder' but data.images.root is not set: "
                             "pass data.images.root=/path/to/images")
        return ImageFolderDataset(images.root, transform, seed=seed, max_retries=cfg.max_retries)
    if images.source == "video_frames":
        manifest = manifest if manifest is not None else read_manifest(cfg.manifest, cfg.source_root)
        return VideoFrameDataset(manifest, transform, frames_per_video=images.frames_per_video,
                                 decoder=decoder or cfg.decoder, decode_short_side=cfg.video.decode_short_side,
                                 seed=seed, max_retries=cfg.max_retries)
    raise ValueError(f"data.images.source={images.source!r} is not a source: choose one of {', '.join(IMAGE_SOURCES)}")
