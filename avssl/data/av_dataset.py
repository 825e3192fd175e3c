"""`AVClipDataset`: a manifest → AVID training samples {video, audio, index, label?}.

Map-style, so DataLoader samplers, DDP sharding and exact resume work: item i is clip
i % clips_per_video of video i // clips_per_video, and its randomness comes from a generator
seeded by (seed, epoch, i), the same whichever worker draws it. A file that fails to decode is
replaced by another video (bounded retries), logged once, and counted in the sample's
`decode_failures`; the replacement carries its own instance index, so a memory bank never
receives one video's embedding under another's index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from avssl.data.clip_sampling import AVClipSampler, AVClipSpan
from avssl.data.decode_retry import DecodeRetry
from avssl.data.decoders import Decoder, create_decoder
from avssl.data.manifest import Manifest

_SEED_MIX = 1_000_003  # a prime: (seed, epoch, item) → distinct generator seeds


@dataclass(frozen=True)
class DecodeSize:
    """Decode frames with the short side at `short_side` (aspect kept); None = native size."""

    short_side: int | None = 128

    def for_frame(self, width: int, height: int) -> tuple[int, int] | None:
        if not self.short_side or not width or not height:
            return None
        scale = self.short_side / min(width, height)
        return max(1, round(height * scale)), max(1, round(width * scale))


class AVClipDataset(Dataset):
    """Samples of `manifest`: video (3, T, H, W) float, audio (1, 200, 257) float, index, label.

    `video_transform(uint8 (T,H,W,3), generator)` and `audio_transform(waveform, generator)` do
    the augmentation; `audio_features(waveform)` is the front-end (e.g. LogSpectrogram).
    Set `with_audio=False` / `with_video=False` for single-modality use.
    """

    def __init__(
        self,
        manifest: Manifest,
        clip_sampler: AVClipSampler,
        clips_per_video: int = 1,
        audio_duration: float = 2.0,
        audio_rate: int = 24000,
        video_transform: Callable | None = None,
        audio_transform: Callable | None = None,
        audio_features: Callable | None = None,
        decode_size: DecodeSize = DecodeSize(),
        decoder: str | Decoder = "pyav",
        with_video: bool = True,
        with_audio: bool = True,
        max_retries: int = 10,
        seed: int = 0,
    ) -> None:
        if len(manifest) == 0:
            raise ValueError(f"manifest in {manifest.manifest_dir} has no rows: nothing to train on")
        self.manifest = manifest
        self.clip_sampler = clip_sampler
        self.clips_per_video = clips_per_video
        self.audio_duration = audio_duration
        self.audio_rate = audio_rate
        self.video_transform = video_transform
        self.audio_transform = audio_transform
        self.audio_features = audio_features
        self.decode_size = decode_size
        self.decoder_name = decoder if isinstance(decoder, str) else decoder.name
        self.with_video = with_video
        self.with_audio = with_audio
        self.max_retries = max_retries
        self.seed = seed
        self.epoch = 0
        self._decoder = None if isinstance(decoder, str) else decoder
        self._retry = DecodeRetry(len(manifest), manifest.file_for, max_retries,
                                  "check the manifest with 'avssl inspect' or re-run 'avssl prepare'")

    def __len__(self) -> int:
        return len(self.manifest) * self.clips_per_video

    def set_epoch(self, epoch: int) -> None:
        """New augmentations each epoch; call before creating the epoch's DataLoader iterator."""
        self.epoch = epoch

    @property
    def decoder(self):
        if self._decoder is None:  # created lazily, inside each worker
            self._decoder = create_decoder(self.decoder_name)
        return self._decoder

    def generator_for(self, item: int, epoch: int | None = None) -> torch.Generator:
        epoch = self.epoch if epoch is None else epoch
        return torch.Generator().manual_seed((self.seed * _SEED_MIX + epoch) * _SEED_MIX + item)

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        """`dataset[item]` uses the epoch set by `set_epoch`; `dataset[(epoch, item)]` names the
        epoch itself, so a sampler can carry it into DataLoader workers (which hold a copy of the
        dataset made when the epoch's iterator started)."""
        epoch, item = key if isinstance(key, tuple) else (self.epoch, key)
        if not 0 <= item < len(self):
            raise IndexError(f"item {item} out of range for {len(self)} samples")
        generator = self.generator_for(item, epoch)
        first, clip_index = divmod(item, self.clips_per_video)

        def decode(video_index: int):
            return self._decode(video_index, self.span_for(video_index, clip_index, generator))

        video_index, (frames, waveform), failures = self._retry(first, decode, generator)
        sample = self._finish(video_index, frames, waveform, generator)
        sample["decode_failures"] = failures
        return sample

    def span_for(self, video_index: int, clip_index: int, generator: torch.Generator | None) -> AVClipSpan:
        row = self.manifest.rows[video_index]
        return self.clip_sampler(row.start, row.duration, clip_index, generator)

    def _decode(self, video_index: int, span: AVClipSpan) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        row = self.manifest.rows[video_index]
        path = self.manifest.file_for(video_index)
        size = self.decode_size.for_frame(row.width, row.height)
        if self.with_video and self.with_audio:
            return self.decoder.read_clip(path, span.video_times, size, span.audio.start, self.audio_duration,
                                          self.audio_rate)
        frames = self.decoder.read_video(path, span.video_times, size) if self.with_video else None
        waveform = (self.decoder.read_audio(path, span.audio.start, self.audio_duration, self.audio_rate)
                    if self.with_audio else None)
        return frames, waveform

    def _finish(self, video_index: int, frames: torch.Tensor | None, waveform: torch.Tensor | None,
                generator: torch.Generator) -> dict:
        """Augment and featurise; errors here are bugs, not bad files, so they propagate."""
        sample: dict = {"index": video_index}
        if frames is not None:
            sample["video"] = self.video_transform(frames, generator) if self.video_transform else frames
        if waveform is not None:
            if self.audio_transform is not None:
                waveform = self.audio_transform(waveform, generator)
            sample["audio"] = self.audio_features(waveform) if self.audio_features else waveform
        if self.manifest.class_names:
            sample["label"] = self.manifest.label_index(video_index)
        return sample
