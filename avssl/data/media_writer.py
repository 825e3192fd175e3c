"""Write video files with PyAV: re-encoding in `avssl prepare`, test fixtures, the demo data.

One writer for all three so that "h264 with a keyframe every second, 24 kHz mono audio" means
the same thing everywhere. Output goes through `atomic_path`: a killed job never leaves a
half-written video under the final name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from avssl.atomic_io import atomic_path


@dataclass(frozen=True)
class VideoEncoding:
    """How to encode the video stream. `gop_seconds` sets the keyframe interval: decoding a clip
    costs the frames since the previous keyframe, so ~1 s keeps random access cheap."""

    codec: str = "libx264"
    fps: float = 16.0
    gop_seconds: float = 1.0
    pix_fmt: str = "yuv420p"
    options: dict[str, str] = field(default_factory=lambda: {"crf": "23", "preset": "veryfast"})
    # Clock of the frame timestamps; None = one tick per frame (1/fps). A finer clock, e.g.
    # Fraction(1, 1000), lets `write_frame(time=...)` place frames freely (variable frame rate).
    time_base: Fraction | None = None


@dataclass(frozen=True)
class AudioEncoding:
    """How to encode the audio stream (`layout` "mono" or e.g. "stereo", "5.1")."""

    codec: str = "aac"
    rate: int = 24000
    layout: str = "mono"
    sample_format: str | None = None  # codec default when None (e.g. fltp for AAC, s16 for pcm_s16le)
    options: dict[str, str] = field(default_factory=dict)


class MediaWriter:
    """Streams frames and audio into one container. Use as a context manager."""

    def __init__(
        self,
        container: av.container.OutputContainer,
        size: tuple[int, int] | None,
        video: VideoEncoding | None,
        audio: AudioEncoding | None,
    ) -> None:
        self._container = container
        self._video_stream = None
        self._audio_stream = None
        self._audio_samples_written = 0
        self._frames_written = 0
        if video is not None and size is not None:
            rate = Fraction(video.fps).limit_denominator(1001)
            stream = container.add_stream(video.codec, rate=rate)
            stream.height, stream.width = size
            stream.pix_fmt = video.pix_fmt
            stream.codec_context.gop_size = max(1, round(video.gop_seconds * video.fps))
            self._time_base = video.time_base or 1 / rate
            stream.codec_context.time_base = self._time_base
            stream.options = dict(video.options)
            self._video_stream = stream
        if audio is not None:
            stream = container.add_stream(audio.codec, rate=audio.rate, layout=audio.layout)
            if audio.sample_format:
                stream.format = audio.sample_format
            stream.options = dict(audio.options)
            self._audio_stream = stream

    def write_frame(self, rgb: np.ndarray, time: float | None = None) -> None:
        """Append one (H, W, 3) uint8 RGB frame, shown from `time` seconds (default: the next
        tick of the stream's clock, i.e. constant frame rate)."""
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self._frames_written if time is None else round(time / self._time_base)
        frame.time_base = self._time_base
        self._frames_written = frame.pts + 1
        self._container.mux(self._video_stream.encode(frame))

    def write_audio(self, samples: np.ndarray, start: float | None = None) -> None:
        """Append (channels, samples) float audio in [-1, 1] at the stream's rate, from `start`
        seconds (default: right after what was written before, from 0)."""
        stream = self._audio_stream
        if start is not None:
            self._audio_samples_written = round(start * stream.rate)
        samples = np.ascontiguousarray(np.clip(samples, -1.0, 1.0).astype(np.float32))
        frame_size = stream.codec_context.frame_size or 1024
        for offset in range(0, samples.shape[1], frame_size):
            chunk = np.ascontiguousarray(samples[:, offset : offset + frame_size])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=stream.layout.name)
            frame.sample_rate = stream.rate
            frame.pts, frame.time_base = self._audio_samples_written, Fraction(1, stream.rate)
            self._audio_samples_written += chunk.shape[1]
            for resampled in self._resample(frame):
                self._container.mux(stream.encode(resampled))

    def _resample(self, frame: av.AudioFrame) -> list[av.AudioFrame]:
        if not hasattr(self, "_resampler"):
            stream = self._audio_stream
            self._resampler = av.AudioResampler(
                format=stream.format.name, layout=stream.layout.name, rate=stream.rate,
                frame_size=stream.codec_context.frame_size or None,
            )
        return self._resampler.resample(frame)

    def close(self) -> None:
        if self._video_stream is not None:
            self._container.mux(self._video_stream.encode(None))
        if self._audio_stream is not None:
            if hasattr(self, "_resampler"):
                for resampled in self._resampler.resample(None):
                    self._container.mux(self._audio_stream.encode(resampled))
            self._container.mux(self._audio_stream.encode(None))
        self._container.close()


@contextlib.contextmanager
def open_media_writer(
    path: str | Path,
    size: tuple[int, int] | None,
    video: VideoEncoding | None = VideoEncoding(),
    audio: AudioEncoding | None = AudioEncoding(),
    container_format: str | None = None,
) -> Iterator[MediaWriter]:
    """Write a media file atomically: frames and audio go to a temporary file that is renamed
    onto `path` only when the writer closes without error. `size` is (height, width)."""
    with atomic_path(path) as tmp:
        container = av.open(str(tmp), mode="w", format=container_format)
        writer = MediaWriter(container, size, video, audio)
        try:
            yield writer
        except BaseException:
            container.close()
            raise
        writer.close()
