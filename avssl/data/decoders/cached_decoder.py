"""Decode each video once, serve every later clip from memory.

For small datasets trained for many epochs (the demo, quick experiments) decoding dominates: a
tiny net trains on hundreds of clips per second while a core decodes ~20. `CachedDecoder.preload`
decodes whole files (in worker processes) at the training frame size and audio rate; clips are
then cut with the same timestamp rule and sample grid as the PyAV back-end, so a cached clip
equals a decoded one. Memory: frames × H × W × 3 bytes + seconds × rate × 4 bytes per video.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from avssl.data.decoders.audio_window import cut_audio_window
from avssl.data.decoders.base import DecodeError, Decoder, frame_indices_at
from avssl.data.decoders.pyav_decoder import PyAVDecoder
from avssl.data.decoders.pyav_frames import (
    DecodeTally,
    audio_frame_to_float,
    frame_time,
    frame_to_rgb,
    iter_frames,
    open_container,
)
from avssl.data.media_info import MediaInfo


@dataclass
class CachedMedia:
    frame_times: list[float]
    frames: torch.Tensor  # uint8 (N, H, W, 3) at `size`
    size: tuple[int, int] | None
    audio_first_sample: int  # round(audio start × rate): index of audio[0] on the global sample grid
    audio: torch.Tensor  # float32 (S,) mono at `rate`
    rate: int


def decode_whole(path: str, size: tuple[int, int] | None, rate: int) -> CachedMedia:
    """Every frame (resized) with its time, and the whole audio track on the rate's sample grid."""
    frames, times = [], []
    with open_container(path) as container:
        if container.streams.video:
            for frame in iter_frames(container, container.streams.video[0], DecodeTally()):
                t = frame_time(frame)
                if t is not None:
                    times.append(t)
                    frames.append(frame_to_rgb(frame, size))
    order = np.argsort(times, kind="stable")
    chunks, native_rate = [], rate
    with open_container(path) as container:
        if container.streams.audio:
            for frame in iter_frames(container, container.streams.audio[0], DecodeTally()):
                t = frame_time(frame)
                if t is not None:
                    native_rate = frame.sample_rate
                    chunks.append((t, audio_frame_to_float(frame)))
    audio, first = torch.zeros(0), 0
    if chunks:
        start = min(t for t, _ in chunks)
        end = max(t + a.shape[1] / native_rate for t, a in chunks)
        audio = cut_audio_window(chunks, native_rate, start, end - start, rate, path)
        first = round(start * rate)
    video = torch.from_numpy(np.stack([frames[i] for i in order])) if frames else torch.zeros(0, dtype=torch.uint8)
    return CachedMedia([times[i] for i in order], video, size, first, audio, rate)


class CachedDecoder(Decoder):
    """Serves clips of preloaded files from memory; anything not preloaded (or asked at another
    size or rate) falls through to `fallback`."""

    name = "cached"

    def __init__(self, fallback: Decoder | None = None) -> None:
        self.fallback = fallback or PyAVDecoder()
        self.cache: dict[str, CachedMedia] = {}

    def preload(self, paths: Iterable[str], size_for: Callable[[str], tuple[int, int] | None], rate: int,
                workers: int = 2, progress: bool = True) -> None:
        paths = [p for p in paths if p not in self.cache]
        jobs = [(p, size_for(p), rate) for p in paths]
        bar = tqdm(total=len(jobs), desc="decoding once", unit="video", disable=not progress)
        if workers <= 0:
            results = (decode_whole(*job) for job in jobs)
        else:
            pool = ProcessPoolExecutor(max_workers=workers)
            results = pool.map(_decode_job, jobs, chunksize=4)
        for path, media in zip(paths, results):
            self.cache[path] = media
            bar.update()
        bar.close()
        if workers > 0:
            pool.shutdown()

    def probe(self, path: str) -> MediaInfo:
        return self.fallback.probe(path)

    def read_video(self, path: str, times: Sequence[float], size: tuple[int, int] | None = None) -> torch.Tensor:
        media = self.cache.get(path)
        if media is None or media.size != size or not media.frame_times:
            return self.fallback.read_video(path, times, size)
        return media.frames[frame_indices_at(media.frame_times, list(times), path)]

    def read_audio(self, path: str, start: float, duration: float, rate: int) -> torch.Tensor:
        media = self.cache.get(path)
        if media is None or media.rate != rate or media.audio.numel() == 0:
            return self.fallback.read_audio(path, start, duration, rate)
        offset = round(start * rate) - media.audio_first_sample
        wanted = round(duration * rate)
        if offset < 0 or offset + wanted > media.audio.numel() + round(0.01 * rate):
            raise DecodeError(path, f"audio window {start:.3f}+{duration:.3f} s lies outside the cached audio")
        window = media.audio[offset : offset + wanted]
        return torch.nn.functional.pad(window, (0, wanted - window.numel())) if window.numel() < wanted else window


def _decode_job(job: tuple) -> CachedMedia:
    torch.set_num_threads(1)
    return decode_whole(*job)
