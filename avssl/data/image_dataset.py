"""Datasets of the image methods: samples {"views": [float (3, s, s), ...], "index", "label"?,
"decode_failures"} from a folder of images or from frames of a prepared video manifest.

Both follow `AVClipDataset`'s contract (avssl/data/av_dataset.py): map-style, `dataset[item]` or
`dataset[(epoch, item)]`, all randomness from a generator seeded by (seed, epoch, item) so a sample
is the same in any DataLoader worker and an interrupted run resumes exactly; a file that fails to
decode is replaced by another instance (bounded retries), logged once, counted in `decode_failures`,
and the sample carries the replacement's index, so a method never files one image under another's.
`instance_paths[i]` names instance i (the path relative to the folder / the manifest's `path`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import Dataset

from avssl.data.av_dataset import _SEED_MIX, AVClipDataset, DecodeSize
from avssl.data.clip_sampling import AVClipSampler, RandomClipSampler
from avssl.data.decode_retry import DecodeRetry
from avssl.data.decoders import Decoder
from avssl.data.image_files import IMAGE_EXTENSIONS, list_images, read_image
from avssl.data.manifest import Manifest

__all__ = ["ImageFolderDataset", "VideoFrameDataset"]

#: transform(uint8 (3, H, W), generator) -> list of views, e.g. avssl.data.image_views.MultiViewTransform
ViewsTransform = Callable[[torch.Tensor, torch.Generator], list[torch.Tensor]]


class ImageFolderDataset(Dataset):
    """The images under `root` (recursively): `root/class/.../x.jpg` gives class labels (sorted class
    names; -1 for images directly under `root` when others have classes), a flat folder none.

    Instance i is the i-th image in sorted relative-path order; one item per image per epoch.
    """

    def __init__(self, root: str | os.PathLike, transform: ViewsTransform, seed: int = 0,
                 max_retries: int = 10) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"{self.root}: no such folder; set data.images.root to a folder of images")
        self.instance_paths = list_images(self.root)
        if not self.instance_paths:
            raise ValueError(f"{self.root}: no images ({', '.join(IMAGE_EXTENSIONS)}) under this folder; "
                             "point data.images.root at a folder of images (class/x.jpg or flat)")
        classes = [p.split("/", 1)[0] if "/" in p else None for p in self.instance_paths]
        self.class_names = sorted({c for c in classes if c is not None})
        index_of = {name: i for i, name in enumerate(self.class_names)}
        self.labels = [index_of.get(c, -1) for c in classes]
        self.transform = transform
        self.seed = seed
        self.max_retries = max_retries
        self.epoch = 0
        self._retry = DecodeRetry(len(self.instance_paths), self.file_for, max_retries,
                                  f"remove or repair the broken files under {self.root}", noun="images")

    def __len__(self) -> int:
        return len(self.instance_paths)

    def set_epoch(self, epoch: int) -> None:
        """New augmentations each epoch; call before creating the epoch's DataLoader iterator."""
        self.epoch = epoch

    def generator_for(self, item: int, epoch: int | None = None) -> torch.Generator:
        """The sample's generator: the same (seed, epoch, item) mixing as AVClipDataset's."""
        epoch = self.epoch if epoch is None else epoch
        return torch.Generator().manual_seed((self.seed * _SEED_MIX + epoch) * _SEED_MIX + item)

    def file_for(self, index: int) -> str:
        return str(self.root / self.instance_paths[index])

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        epoch, item = key if isinstance(key, tuple) else (self.epoch, key)
        if not 0 <= item < len(self):
            raise IndexError(f"item {item} out of range for {len(self)} images")
        generator = self.generator_for(item, epoch)
        index, image, failures = self._retry(item, lambda i: read_image(self.file_for(i)), generator)
        sample = {"views": self.transform(image, generator), "index": index}
        if self.class_names:
            sample["label"] = self.labels[index]
        sample["decode_failures"] = failures
        return sample


class VideoFrameDataset(AVClipDataset):
    """Single frames of a manifest's videos, so image methods train on AVID's data with AVID's
    instance indices (instance = manifest row; labels are the manifest's).

    Item i is the (i % frames_per_video)-th frame of video i // frames_per_video this epoch: one
    frame at a uniformly random time in [row.start, row.start + row.duration), decoded with its short
    side at `decode_short_side` (None: native size). The decode/retry/seeding machinery is
    `AVClipDataset`'s, with one-frame clips and no audio.
    """

    def __init__(self, manifest: Manifest, transform: ViewsTransform, frames_per_video: int = 1,
                 decoder: str | Decoder = "pyav", decode_short_side: int | None = None, seed: int = 0,
                 max_retries: int = 10) -> None:
        if frames_per_video < 1:
            raise ValueError(f"frames_per_video must be >= 1 (data.images.frames_per_video), got {frames_per_video}")
        # A zero-length window at a uniform time in the video; the one-frame clip sits at its start
        # (the clip sampler clamps the clip into the window), so the frame time is that time.
        frame_time = AVClipSampler(RandomClipSampler(0.0), video_fps=1.0, video_frames=1)
        super().__init__(manifest, frame_time, clips_per_video=frames_per_video,
                         decode_size=DecodeSize(decode_short_side), decoder=decoder, with_video=True,
                         with_audio=False, max_retries=max_retries, seed=seed)
        self.transform = transform

    @property
    def instance_paths(self) -> list[str]:
        return [row.path for row in self.manifest.rows]

    @property
    def class_names(self) -> list[str]:
        return self.manifest.class_names

    def _finish(self, video_index: int, frames: torch.Tensor | None, waveform: torch.Tensor | None,
                generator: torch.Generator) -> dict:
        image = frames[0].permute(2, 0, 1)  # (1, H, W, 3) → (3, H, W)
        sample: dict = {"views": self.transform(image, generator), "index": video_index}
        if self.manifest.class_names:
            sample["label"] = self.manifest.label_index(video_index)
        return sample
