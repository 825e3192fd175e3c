"""decord back-end: video frames from decord, everything else from PyAV.

decord is used for what it is good at, random access to a few resized frames. Frames are chosen
by timestamp with the shared `frame_indices_at`, not by decord's own index arithmetic, which is
one frame late on files with timestamp gaps. Three decord facts shape this file:

- `get_frame_timestamp` gives float32 seconds *relative to the stream's start_time*
  ((pts − start_time) × time_base). They are snapped back to whole time-base ticks, the
  start_time is added, and seconds are computed as PyAV does, so frame times are the same
  absolute stream seconds, bit for bit, as PyAV's (MediaInfo) while float32's error
  (≤ t × 6e-8 s) stays under half a tick: t < ~90 s for a 1/90000 time base, ~2 h for 1/1000.
  Past that a time can be off by a tick, still far inside TIMESTAMP_EPSILON for t < ~2 h.
- Its AudioReader leaks (~1 MB per 10 s read) and returns corrupt stereo (dmlc/decord #189,
  #242, #279), so `read_audio` is PyAV's.
- `probe` is PyAV's too: probing happens once per file in `prepare`, and one implementation
  keeps manifests identical whichever back-end later trains on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import av
import numpy as np
import torch

from avssl.data.decoders.base import DecodeError, frame_indices_at
from avssl.data.decoders.pyav_decoder import PyAVBackedDecoder, _as_decode_error, _open

INSTALL_HINT = "decord is not installed: pip install 'avssl[decord]'"


def _import_decord():
    """decord is optional; import it only when this back-end is used."""
    try:
        import decord
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return decord


def _video_clock(path: str) -> tuple[int, Fraction] | None:
    """The video stream's start_time (decord's time zero) in ticks and its time base, from the
    header only; None when the container does not say."""
    with _open(path) as container:
        return _clock_of(container, path)


def _clock_of(container: av.container.InputContainer, path: str) -> tuple[int, Fraction] | None:
    if not container.streams.video:
        raise DecodeError(path, "no video stream")
    stream = container.streams.video[0]
    if stream.start_time is None or not stream.time_base:
        return None
    return int(stream.start_time), Fraction(stream.time_base)


def _absolute_times(relative: np.ndarray, start_ticks: int, time_base: Fraction) -> list[float]:
    """decord's float32 seconds since start_time -> absolute seconds, rounded like PyAV's
    float(pts × time_base) (numerator and denominator are exact in float64, one division)."""
    ticks = np.rint(relative.astype(np.float64) / float(time_base)).astype(np.int64) + start_ticks
    return ((ticks * time_base.numerator).astype(np.float64) / float(time_base.denominator)).tolist()


class DecordDecoder(PyAVBackedDecoder):
    """Decodes video with decord (CPU); audio and probing go through PyAV (see module doc)."""

    name = "decord"

    def _require(self) -> None:
        _import_decord()

    def read_video(self, path: str, times: Sequence[float], size: tuple[int, int] | None = None) -> torch.Tensor:
        return self._read_video(path, times, size, _video_clock(str(path)))

    def read_clip(self, path: str, times: Sequence[float], size: tuple[int, int] | None, audio_start: float,
                  audio_duration: float, rate: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One PyAV container gives the video clock (header only) and then the audio: opening it
        costs ~4 ms here, as much as decoding the audio. It is still unread when the audio is
        read, so windows at the very start need no second, fresh container."""
        with _open(str(path)) as container, _as_decode_error(str(path)):
            clock = _clock_of(container, str(path))
            audio = self._pyav._read_audio_from(container, str(path), audio_start, audio_duration, rate)
        return self._read_video(path, times, size, clock), audio

    def _read_video(self, path: str, times: Sequence[float], size: tuple[int, int] | None,
                    clock: tuple[int, Fraction] | None) -> torch.Tensor:
        decord = _import_decord()
        times = [float(t) for t in times]
        if clock is None:
            # decord would subtract AV_NOPTS_VALUE from every pts: its times are meaningless.
            return self._pyav.read_video(path, times, size)
        height, width = size if size is not None else (-1, -1)
        try:
            reader = decord.VideoReader(
                str(path), ctx=decord.cpu(0), num_threads=self.threads, width=width, height=height
            )
            count = len(reader)
            starts = reader.get_frame_timestamp(range(count))[:, 0] if count else np.zeros(0, np.float32)
            frame_times = _absolute_times(starts, *clock)
            indices = frame_indices_at(frame_times, times, str(path))
            unique = sorted(set(indices))
            batch = reader.get_batch(unique).asnumpy()
        except DecodeError:
            raise
        except (decord.DECORDError, RuntimeError, IndexError, av.error.FFmpegError) as error:
            raise DecodeError(str(path), f"decord cannot decode it: {str(error).splitlines()[0]}") from error
        position = {index: k for k, index in enumerate(unique)}
        return torch.from_numpy(np.ascontiguousarray(batch[[position[i] for i in indices]]))
