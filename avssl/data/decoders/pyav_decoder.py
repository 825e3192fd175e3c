"""PyAV back-end: the default, and the reference the other back-ends are tested against."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

import av
import numpy as np
import torch

from avssl.data.decoders.audio_window import cut_audio_window
from avssl.data.decoders.base import TIMESTAMP_EPSILON, DecodeError, Decoder, frame_indices_at
from avssl.data.decoders.pyav_frames import (
    DecodeTally,
    audio_frame_to_float,
    frame_time,
    frame_to_rgb,
    iter_frames,
    open_container,
)
from avssl.data.media_info import MediaInfo

# Seek this far before the first wanted time: container indexes can round a keyframe's time.
SEEK_MARGIN_S = 0.1


def _open(path: str) -> av.container.InputContainer:
    try:
        return open_container(path)
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise DecodeError(path, _describe_open_error(path, error)) from error


def _describe_open_error(path: str, error: Exception) -> str:
    """A short reason a person can act on; FFmpeg's own message is often only "invalid data"."""
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        return "empty file (0 bytes)"
    if isinstance(error, av.error.InvalidDataError):
        if _looks_like_iso_media(path):
            # An MP4/MOV whose index (written last by most muxers) never made it to disk.
            return "truncated: moov atom not found"
        return "not a media file: invalid data found when processing input"
    return f"cannot open: {error}"


def _looks_like_iso_media(path: str) -> bool:
    with contextlib.suppress(OSError), open(path, "rb") as handle:
        return handle.read(12)[4:8] == b"ftyp"
    return False


@contextlib.contextmanager
def _as_decode_error(path: str):
    """Any FFmpeg failure while reading a clip is a property of the file: report it as one."""
    try:
        yield
    except av.error.FFmpegError as error:
        raise DecodeError(path, f"decoding failed: {error}") from error


def _seek_target(stream: av.stream.Stream, t: float) -> int | None:
    """Where to seek (stream ticks) to read from shortly before `t`; None = read a freshly
    opened container from its first packet instead."""
    if stream.time_base is None or stream.start_time is None:
        # No start time means a stream without timestamps (raw .h264): its frame times are
        # counted from the first frame, so it must be read from there.
        return None
    target = t - SEEK_MARGIN_S
    if target <= float(stream.start_time * stream.time_base):
        # Near the start, read from the first packet instead of seeking to it: a seek to the
        # start time lands past packets with earlier pts (AAC priming at -1024 samples in
        # Matroska), the decoder then warms up on the first real packet and its samples are lost,
        # so a window starting in the first AAC frame (21 ms at 48 kHz) failed as "before the
        # audio data".
        return None
    return int(target / stream.time_base)


def _seek(container: av.container.InputContainer, stream: av.stream.Stream, t: float) -> None:
    """Position a freshly opened container shortly before `t`."""
    target = _seek_target(stream, t)
    if target is not None:
        container.seek(target, stream=stream, backward=True, any_frame=False)


class PyAVDecoder(Decoder):
    """Decodes with PyAV (FFmpeg). `threads` is per decoder: with one decoder per DataLoader
    worker, 1 thread per worker gave the most clips per CPU-second here."""

    name = "pyav"

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    # --- probing --------------------------------------------------------------------------
    def probe(self, path: str) -> MediaInfo:
        fields: dict = {"path": str(path)}
        tally = DecodeTally()
        # A demuxer error mid-stream (an Ogg page the Opus parser rejects) escaped as a raw
        # av.error while read_video/read_audio reported it as a DecodeError: report it the same.
        with _open(path) as container, _as_decode_error(path):
            if container.streams.video:
                fields.update(self._probe_video(container, container.streams.video[0], tally, path))
        with _open(path) as container, _as_decode_error(path):
            if container.streams.audio:
                fields.update(self._probe_audio(container, container.streams.audio[0], tally, path))
        fields["corrupt_packets"] = tally.corrupt_packets
        return MediaInfo(**fields)

    def _probe_video(self, container, stream, tally: DecodeTally, path: str) -> dict:
        stream.thread_type = "AUTO"
        times = []
        width = height = None
        for frame in iter_frames(container, stream, tally):
            t = frame_time(frame)
            if t is not None:
                times.append(t)
            width, height = frame.width, frame.height
        if not times:
            return {"video_codec": stream.codec_context.name}
        times.sort()
        interval = _mean_interval(times, stream)
        return {
            "video_start": times[0],
            "video_end": times[-1] + interval,
            "video_fps": 1.0 / interval if interval > 0 else None,
            "video_frames": len(times),
            "width": width,
            "height": height,
            "video_codec": stream.codec_context.name,
        }

    def _probe_audio(self, container, stream, tally: DecodeTally, path: str) -> dict:
        start = end = None
        peak = 0.0
        rate = channels = None
        for frame in iter_frames(container, stream, tally):
            t = frame_time(frame)
            if t is None:
                continue
            samples = audio_frame_to_float(frame)
            rate, channels = frame.sample_rate, samples.shape[0]
            start = t if start is None else min(start, t)
            frame_end = t + samples.shape[1] / frame.sample_rate
            end = frame_end if end is None else max(end, frame_end)
            if samples.size:
                peak = max(peak, float(np.abs(samples).max()))
        if start is None:
            return {"audio_codec": stream.codec_context.name}
        return {
            "audio_start": start,
            "audio_end": end,
            "audio_rate": rate,
            "audio_channels": channels,
            "audio_codec": stream.codec_context.name,
            "audio_peak": peak,
        }

    # --- clips ----------------------------------------------------------------------------
    def read_video(self, path: str, times: Sequence[float], size: tuple[int, int] | None = None) -> torch.Tensor:
        with _open(path) as container, _as_decode_error(path):
            return self._read_video_from(container, path, list(times), size)

    def read_audio(self, path: str, start: float, duration: float, rate: int) -> torch.Tensor:
        with _open(path) as container, _as_decode_error(path):
            return self._read_audio_from(container, path, start, duration, rate)

    def read_clip(self, path: str, times: Sequence[float], size: tuple[int, int] | None, audio_start: float,
                  audio_duration: float, rate: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Both streams from one opened container (opening costs ~5 ms per file here), unless the
        audio must be read from the first packet, which only a fresh container gives."""
        with _open(path) as container, _as_decode_error(path):
            frames = self._read_video_from(container, path, list(times), size)
            audio = container.streams.audio[0] if container.streams.audio else None
            if audio is not None and _seek_target(audio, audio_start) is not None:
                return frames, self._read_audio_from(container, path, audio_start, audio_duration, rate)
        return frames, self.read_audio(path, audio_start, audio_duration, rate)

    def _read_video_from(self, container, path: str, times: list[float], size: tuple[int, int] | None) -> torch.Tensor:
        if not container.streams.video:
            raise DecodeError(path, "no video stream")
        stream = container.streams.video[0]
        stream.thread_count = self.threads
        frames, frame_times = self._frames_around(container, stream, times, path)
        if frame_times and frame_times[0] > times[0] + TIMESTAMP_EPSILON:
            # The index pointed past the wanted time (bad index, open GOP): decode from the start.
            container.seek(0)
            frames, frame_times = self._frames_around(container, stream, times, path, from_start=True)
        indices = frame_indices_at(frame_times, times, path)
        converted = {i: frame_to_rgb(frames[i], size, self.threads) for i in set(indices)}
        return torch.from_numpy(np.stack([converted[i] for i in indices]))

    def _frames_around(self, container, stream, times: list[float], path: str, from_start: bool = False):
        """Frames from the last one shown at times[0] through the first one after times[-1]."""
        if not from_start:
            _seek(container, stream, times[0])
        tally = DecodeTally()
        frames: list = []
        frame_times: list[float] = []
        for frame in iter_frames(container, stream, tally):
            t = frame_time(frame)
            if t is None:
                continue
            if t <= times[0] + TIMESTAMP_EPSILON:
                frames, frame_times = [frame], [t]
            else:
                frames.append(frame)
                frame_times.append(t)
            if t > times[-1] + TIMESTAMP_EPSILON:
                break
        order = np.argsort(frame_times, kind="stable")  # decode order may differ from pts order
        return [frames[i] for i in order], [frame_times[i] for i in order]

    def _read_audio_from(self, container, path: str, start: float, duration: float, rate: int) -> torch.Tensor:
        if not container.streams.audio:
            raise DecodeError(path, "no audio stream")
        stream = container.streams.audio[0]
        _seek(container, stream, start)
        tally = DecodeTally()
        chunks: list[tuple[float, np.ndarray]] = []
        native_rate = stream.codec_context.sample_rate or stream.rate
        for frame in iter_frames(container, stream, tally):
            t = frame_time(frame)
            if t is None:
                continue
            native_rate = frame.sample_rate
            samples = audio_frame_to_float(frame)
            if t + samples.shape[1] / native_rate < start - 0.05:
                continue
            chunks.append((t, samples))
            if t > start + duration + 0.05:
                break
        return cut_audio_window(chunks, native_rate, start, duration, rate, path)


def _mean_interval(times: list[float], stream) -> float:
    """Average frame duration over the stream: right for variable frame rate and for containers
    that round timestamps to milliseconds (Matroska: 33, 33, 34 ms for 29.97 fps)."""
    if len(times) > 1 and times[-1] > times[0]:
        return (times[-1] - times[0]) / (len(times) - 1)
    rate = stream.average_rate or stream.guessed_rate
    return float(1.0 / rate) if rate else 0.0


class PyAVBackedDecoder(Decoder):
    """Base of the optional back-ends: they decode video themselves but probe (and by default read
    audio) with PyAV, so the manifest facts are the same whichever back-end is chosen."""

    def __init__(self, threads: int = 1) -> None:
        self._require()  # fail at construction, where the config names the back-end
        self.threads = threads
        self._pyav = PyAVDecoder(threads=threads)

    def _require(self) -> None:
        """Import the optional library, raising ImportError with the install command."""

    def probe(self, path: str) -> MediaInfo:
        return self._pyav.probe(path)

    def read_audio(self, path: str, start: float, duration: float, rate: int) -> torch.Tensor:
        return self._pyav.read_audio(path, start, duration, rate)
