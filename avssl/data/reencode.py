"""Re-encode a source video into the training format (`avssl prepare --reencode`).

Why: decoding a clip costs the frames since the previous keyframe, and full-size frames cost
more than the 128–320 px short side training uses; a 1-s GOP made clips 2.4–2.8× faster here.
Frame-rate conversion picks, for each output time, the frame shown then (the decoders' rule),
and audio is down-mixed by the channel mean and resampled exactly as at training time, so
training on the copy sees what training on the source would have seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avssl.data.decoders.audio_window import cut_audio_window
from avssl.data.decoders.base import TIMESTAMP_EPSILON
from avssl.data.decoders.pyav_frames import (
    DecodeTally,
    audio_frame_to_float,
    frame_time,
    iter_frames,
    open_container,
)
from avssl.data.media_info import MediaInfo
from avssl.data.media_writer import AudioEncoding, VideoEncoding, open_media_writer


@dataclass(frozen=True)
class ReencodeSpec:
    """The training format. `short_side` 128–320 covers the 112 and 224 crops."""

    short_side: int = 160
    fps: float = 16.0
    gop_seconds: float = 1.0
    crf: int = 23
    audio_rate: int = 24000
    audio_codec: str = "aac"  # or "flac" (lossless, larger)

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """(height, width) with the short side scaled to `short_side`, both even (yuv420p)."""
        scale = self.short_side / min(width, height)
        return _even(height * scale), _even(width * scale)


def _even(x: float) -> int:
    return max(2, round(x / 2.0) * 2)


def reencode(source: str, target: str | Path, info: MediaInfo, spec: ReencodeSpec) -> None:
    """Write `target` (atomically) holding [info.av_start, info.av_end) of `source` in `spec`'s format;
    output time 0 is source time av_start for both streams, so A/V sync is kept."""
    start, end = info.av_start, info.av_end
    size = spec.output_size(info.width, info.height)
    video = VideoEncoding(fps=spec.fps, gop_seconds=spec.gop_seconds,
                          options={"crf": str(spec.crf), "preset": "veryfast"})
    audio = AudioEncoding(codec=spec.audio_codec, rate=spec.audio_rate, layout="mono") if info.has_audio else None
    with open_media_writer(target, size, video, audio, container_format="mp4" if spec.audio_codec != "flac" else "matroska") as writer:
        _copy_video(source, writer, start, end, spec.fps, size)
        if audio is not None:
            writer.write_audio(_mono_audio(source, start, end - start, spec.audio_rate)[None, :])


def _copy_video(source: str, writer, start: float, end: float, fps: float, size: tuple[int, int]) -> None:
    height, width = size
    step = 0
    held = None  # the frame on screen at the next output time
    with open_container(source) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in iter_frames(container, stream, DecodeTally()):
            t = frame_time(frame)
            if t is None:
                continue
            while held is not None and t > start + step / fps + TIMESTAMP_EPSILON and start + step / fps < end:
                writer.write_frame(held.to_ndarray(format="rgb24", width=width, height=height))
                step += 1
            held = frame
            if start + step / fps >= end:
                break
        while held is not None and start + step / fps < end - TIMESTAMP_EPSILON:
            writer.write_frame(held.to_ndarray(format="rgb24", width=width, height=height))
            step += 1


def _mono_audio(source: str, start: float, duration: float, rate: int) -> np.ndarray:
    with open_container(source) as container:
        stream = container.streams.audio[0]
        chunks = []
        native_rate = stream.codec_context.sample_rate
        for frame in iter_frames(container, stream, DecodeTally()):
            t = frame_time(frame)
            if t is not None:
                native_rate = frame.sample_rate
                chunks.append((t, audio_frame_to_float(frame)))
    return cut_audio_window(chunks, native_rate, start, duration, rate, source).numpy()
