"""One decoder interface, several back-ends (PyAV default, decord, torchcodec).

Every back-end returns the same thing for the same request, so a dataset never knows which one
ran: frames chosen by timestamp, resized inside the decoder, as uint8 (T, H, W, 3) RGB; audio
resampled to the requested rate and down-mixed to mono by the mean of the channels (as AVID
does; FFmpeg's own down-mix is 0.707·(L+R), 1.41× louder).
"""

from __future__ import annotations

import abc
import bisect
from collections.abc import Sequence

import torch

from avssl.data.media_info import MediaInfo

# Absorbs float rounding of pts × time_base (and Matroska's millisecond timestamps) without
# picking a neighbouring frame of any real video. Deliberately not a round number: 0.5 ms is
# exactly the gap between some 30000/1001-fps frame times and 16-fps sample times (t = 0.5 s vs
# frame 15 at 0.5005 s), and an exact tie makes the choice depend on the last bit of rounding.
TIMESTAMP_EPSILON = 4.87e-4


class DecodeError(RuntimeError):
    """A file could not give what was asked of it (unreadable, truncated, no such stream, the
    requested span lies past the data). Carries the path so a job can report and skip it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class Decoder(abc.ABC):
    """Reads clips from media files. Instances are cheap and hold no open files, so they can be
    pickled into DataLoader workers."""

    name: str = "abstract"

    @abc.abstractmethod
    def probe(self, path: str) -> MediaInfo:
        """Stream facts for `path`, measured by decoding (not trusted from headers)."""

    @abc.abstractmethod
    def read_video(self, path: str, times: Sequence[float], size: tuple[int, int] | None = None) -> torch.Tensor:
        """Frames shown at each absolute time in `times` (seconds), as uint8 (T, H, W, 3).

        The frame shown at t is the last one whose pts ≤ t + TIMESTAMP_EPSILON, which also handles
        variable frame rate and frame-rate conversion. `size` = (height, width) resizes inside the
        decoder. Raises DecodeError when a requested time lies outside the decoded frames.
        """

    @abc.abstractmethod
    def read_audio(self, path: str, start: float, duration: float, rate: int) -> torch.Tensor:
        """Mono float32 samples in [start, start + duration) at `rate` Hz: exactly
        round(duration × rate) of them. Raises DecodeError if the stream ends before."""


    def read_clip(self, path: str, times: Sequence[float], size: tuple[int, int] | None, audio_start: float,
                  audio_duration: float, rate: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`read_video` and `read_audio` of one sample; back-ends override it to open the file once."""
        return self.read_video(path, times, size), self.read_audio(path, audio_start, audio_duration, rate)


def frame_indices_at(frame_times: Sequence[float], times: Sequence[float], path: str) -> list[int]:
    """Index of the frame shown at each requested time, given sorted frame start times.

    Shared by every back-end so they all pick the same frames. A time before the first frame or
    more than one frame interval past the last one is an error: PyAV stops silently at the end
    of data, and a clip silently made of repeated last frames would poison training.
    """
    if not frame_times:
        raise DecodeError(path, "no video frames decoded in the requested span")
    last_interval = frame_times[-1] - frame_times[-2] if len(frame_times) > 1 else 1.0
    indices = []
    for t in times:
        i = bisect.bisect_right(frame_times, t + TIMESTAMP_EPSILON) - 1
        if i < 0:
            raise DecodeError(path, f"no frame at {t:.3f} s: first decoded frame is at {frame_times[0]:.3f} s")
        if t > frame_times[-1] + last_interval + TIMESTAMP_EPSILON:
            raise DecodeError(path, f"no frame at {t:.3f} s: video data ends at {frame_times[-1] + last_interval:.3f} s")
        indices.append(i)
    return indices
