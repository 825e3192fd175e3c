"""Which span of a video one sample reads: exact fractional times, drawn from a seeded generator.

AVID samples the audio window first and places the (shorter) video clip inside it, with a
random offset of up to ±max_misalignment seconds between their centres as augmentation; evaluation
uses evenly spaced windows and no offset.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ClipSpan:
    """A window [start, start + duration) in absolute stream seconds; clip_index counts clips of
    one video (the j-th of N for uniform sampling)."""

    start: float
    duration: float
    clip_index: int = 0


@dataclass(frozen=True)
class AVClipSpan:
    """What to read for one audio-visual sample."""

    audio: ClipSpan
    video_times: tuple[float, ...]


def _uniform(generator: torch.Generator | None) -> float:
    return float(torch.rand((), generator=generator, dtype=torch.float64))


class ClipSampler(abc.ABC):
    """Chooses a window of `clip_duration` inside [start, start + duration)."""

    def __init__(self, clip_duration: float) -> None:
        self.clip_duration = clip_duration

    @abc.abstractmethod
    def __call__(self, start: float, duration: float, clip_index: int, generator: torch.Generator | None) -> ClipSpan:
        ...

    def _slack(self, duration: float) -> float:
        return max(0.0, duration - self.clip_duration)


class RandomClipSampler(ClipSampler):
    """Uniformly random start (training)."""

    def __call__(self, start, duration, clip_index, generator=None) -> ClipSpan:
        return ClipSpan(start + _uniform(generator) * self._slack(duration), self.clip_duration, clip_index)


class UniformClipSampler(ClipSampler):
    """Clip j of N evenly spaced from the first to the last possible start (evaluation);
    one clip is centred."""

    def __init__(self, clip_duration: float, clips_per_video: int) -> None:
        super().__init__(clip_duration)
        self.clips_per_video = clips_per_video

    def __call__(self, start, duration, clip_index, generator=None) -> ClipSpan:
        if self.clips_per_video == 1:
            fraction = 0.5
        else:
            fraction = (clip_index % self.clips_per_video) / (self.clips_per_video - 1)
        return ClipSpan(start + fraction * self._slack(duration), self.clip_duration, clip_index)


class AVClipSampler:
    """An audio window from `window_sampler`, then `video_frames` frame times at `video_fps`
    inside it, centred with a uniform offset in [-max_misalignment, max_misalignment] (clamped so
    the video stays inside both the audio window and the video's data)."""

    def __init__(self, window_sampler: ClipSampler, video_fps: float, video_frames: int,
                 max_misalignment: float = 0.0) -> None:
        self.window_sampler = window_sampler
        self.video_fps = video_fps
        self.video_frames = video_frames
        self.max_misalignment = max_misalignment

    @property
    def video_duration(self) -> float:
        return self.video_frames / self.video_fps

    def __call__(self, start: float, duration: float, clip_index: int = 0,
                 generator: torch.Generator | None = None) -> AVClipSpan:
        window = self.window_sampler(start, duration, clip_index, generator)
        offset = (2.0 * _uniform(generator) - 1.0) * self.max_misalignment if self.max_misalignment else 0.0
        video_start = window.start + (window.duration - self.video_duration) / 2.0 + offset
        lowest = max(window.start, start)
        highest = min(window.start + window.duration, start + duration) - self.video_duration
        video_start = min(max(video_start, lowest), max(lowest, highest))
        times = tuple(video_start + k / self.video_fps for k in range(self.video_frames))
        return AVClipSpan(window, times)
