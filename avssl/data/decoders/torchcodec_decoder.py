"""torchcodec back-end: video and audio through torchcodec (the system's FFmpeg libraries).

Facts about torchcodec 0.17 this file relies on (checked against its source and the tests):

- With seek_mode="exact" it scans every packet when a file is opened and sorts frames by pts;
  `get_frames_played_at(t)` returns the frame with pts ≤ t < next pts, i.e. the last frame whose
  pts ≤ t, in absolute stream seconds (a video that starts at 0.5 s has its first frame at 0.5).
  It differs from our rule only at the edges: no tolerance (so TIMESTAMP_EPSILON is added
  here), and t must lie in [first pts, end) where end = max(pts + packet duration). A last
  packet of duration 0 (mp4 edit lists) makes the last frame unreachable by time, so times at
  or past that end are served by index and checked against the last two frames' pts, exactly
  like `frame_indices_at`.
- `transforms=[Resize((h, w))]` resizes inside the decoder (bilinear, antialiased), on the
  frames it returns only.
- `AudioDecoder` without sample_rate / num_channels keeps the native rate and channels, so
  FFmpeg never down-mixes; the shared `cut_audio_window` does, as for PyAV. It returns one
  contiguous block per request with one timestamp, that of the first decoded frame. Where the
  container stamps audio more coarsely than one sample (Matroska/WebM/FLV: 1 ms), that stamp
  can be 0.5 ms (22 samples at 44.1 kHz) off and only per-frame timestamps can place the sound,
  so such files are read through PyAV. A stream with timestamp gaps is not zero-filled as
  PyAV's per-frame placement does.
- `probe` is PyAV's: probing happens once per file in `prepare`, and one implementation keeps
  manifests identical whichever back-end later trains on them.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from avssl.data.decoders.audio_window import cut_audio_window
from avssl.data.decoders.base import TIMESTAMP_EPSILON, DecodeError
from avssl.data.decoders.pyav_decoder import PyAVBackedDecoder, _open

INSTALL_HINT = "torchcodec is not installed: pip install 'avssl[torchcodec]'"
FFMPEG_HINT = (
    "torchcodec needs the FFmpeg shared libraries: apt-get install ffmpeg (Debian/Ubuntu) "
    "or conda install ffmpeg"
)
# Audio decoded on each side of the window: the shared cutter needs 20 ms of resampling context.
AUDIO_MARGIN_S = 0.05
# Two pts in seconds this close are the same (pts × time_base computed two ways in double).
PTS_TOLERANCE_S = 1e-9


def _import_torchcodec():
    """torchcodec is optional and imports even without FFmpeg; check both here."""
    try:
        import torchcodec
        import torchcodec.decoders
        import torchcodec.transforms
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    if torchcodec.ffmpeg_major_version is None:
        raise ImportError(FFMPEG_HINT)
    return torchcodec


def _decode_error(path: str, error: Exception) -> DecodeError:
    if not Path(path).exists():
        return DecodeError(path, "file not found")
    return DecodeError(path, f"torchcodec cannot decode it: {str(error).splitlines()[0] if str(error) else error!r}")


def _audio_stamps_resolve_samples(path: str) -> bool:
    """Whether the first audio stream's time base is at least as fine as one sample (mp4, mov,
    mpegts), from the header only. Raises DecodeError when there is no audio stream.

    Remembered per file version (path, size, mtime): opening the file with PyAV for this one
    fact cost ~4 ms per clip here, a fifth of a 1-s-GOP clip's decoding."""
    try:
        stat = os.stat(path)
    except OSError:
        return _read_audio_stamps_resolve_samples(path, None)  # reports the error
    return _read_audio_stamps_resolve_samples(path, (stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=65536)  # ~150 bytes per file
def _read_audio_stamps_resolve_samples(path: str, version: tuple[int, int] | None) -> bool:
    with _open(path) as container:
        if not container.streams.audio:
            raise DecodeError(path, "no audio stream")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        return bool(stream.time_base and rate and Fraction(stream.time_base) <= Fraction(1, rate))


class TorchCodecDecoder(PyAVBackedDecoder):
    """Decodes with torchcodec on CPU; `threads` is FFmpeg's thread count per decoder."""

    name = "torchcodec"

    def _require(self) -> None:
        _import_torchcodec()

    # --- video ----------------------------------------------------------------------------
    def read_video(self, path: str, times: Sequence[float], size: tuple[int, int] | None = None) -> torch.Tensor:
        torchcodec = _import_torchcodec()
        path = str(path)
        times = [float(t) for t in times]
        transforms = [torchcodec.transforms.Resize(size)] if size is not None else None
        try:
            decoder = torchcodec.decoders.VideoDecoder(
                path,
                dimension_order="NHWC",
                num_ffmpeg_threads=self.threads,
                seek_mode="exact",
                transforms=transforms,
            )
            return self._frames_at(decoder, times, path)
        except DecodeError:
            raise
        except (RuntimeError, ValueError, IndexError) as error:
            raise _decode_error(path, error) from error

    def _frames_at(self, decoder, times: list[float], path: str) -> torch.Tensor:
        metadata = decoder.metadata
        count = metadata.num_frames or 0
        if count == 0:
            raise DecodeError(path, "no video frames decoded in the requested span")
        begin, end = metadata.begin_stream_seconds, metadata.end_stream_seconds
        for t in times:
            if t + TIMESTAMP_EPSILON < begin:
                raise DecodeError(path, f"no frame at {t:.3f} s: first decoded frame is at {begin:.3f} s")
        # Assembled with numpy: torch.stack on these frames took 60 ms instead of 0.1 ms with two
        # intra-op threads after a fresh torchcodec decoder (measured; thread contention).
        frames: list[np.ndarray | None] = [None] * len(times)
        inside = [k for k, t in enumerate(times) if t + TIMESTAMP_EPSILON < end]
        near_end = len(inside) < len(times)
        if inside:
            batch = decoder.get_frames_played_at(seconds=[times[k] + TIMESTAMP_EPSILON for k in inside])
            for j, k in enumerate(inside):
                frames[k] = batch.data[j].numpy()
            # The frame ending the stream may be the last one: its end is checked below.
            near_end |= bool(((batch.pts_seconds + batch.duration_seconds) >= end - PTS_TOLERANCE_S).any())
        if near_end:
            tail = decoder.get_frames_at([max(0, count - 2), count - 1])
            last = float(tail.pts_seconds[-1])
            interval = last - float(tail.pts_seconds[0]) if count > 1 else 1.0
            for k, t in enumerate(times):
                if t > last + interval + TIMESTAMP_EPSILON:
                    raise DecodeError(path, f"no frame at {t:.3f} s: video data ends at {last + interval:.3f} s")
                if frames[k] is None:
                    frames[k] = tail.data[-1].numpy()
        return torch.from_numpy(np.stack(frames))

    # --- audio ----------------------------------------------------------------------------
    def read_audio(self, path: str, start: float, duration: float, rate: int) -> torch.Tensor:
        torchcodec = _import_torchcodec()
        path = str(path)
        if not _audio_stamps_resolve_samples(path):
            return self._pyav.read_audio(path, start, duration, rate)
        try:
            decoder = torchcodec.decoders.AudioDecoder(path)
            native_rate = decoder.metadata.sample_rate
            # Ask from a whole native sample so torchcodec's crop and its reported pts land on
            # the sample grid: the chunk is then placed exactly where PyAV's frames would be.
            first = math.floor((start - AUDIO_MARGIN_S) * native_rate) / native_rate
            samples = decoder.get_samples_played_in_range(first, start + duration + AUDIO_MARGIN_S)
        except (RuntimeError, ValueError, IndexError) as error:
            raise _decode_error(path, error) from error
        data = samples.data.numpy()
        chunks = [(float(samples.pts_seconds), data)] if data.shape[1] else []
        return cut_audio_window(chunks, samples.sample_rate, start, duration, rate, path)
