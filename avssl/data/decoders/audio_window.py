"""Cut an exact audio window out of decoded chunks, down-mix and resample it.

Shared by every back-end so that they agree to the sample. Chunks are placed on the sample grid
by their own timestamps (a gap becomes zeros, an overlap is overwritten by the later chunk), so
streams with timestamp jumps stay in sync with the video.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
import torchaudio.transforms as AT

from avssl.data.decoders.base import DecodeError

# Extra native-rate context on both sides of the window so the resampling filter has real
# signal, not zeros, at the edges (torchaudio's default sinc filter spans ~6 zero crossings).
RESAMPLE_CONTEXT_S = 0.02
# A window may end this far past the last sample (rounding of the stream's end) and be padded.
END_TOLERANCE_S = 0.01


@functools.lru_cache(maxsize=16)
def _resampler(native_rate: int, rate: int) -> AT.Resample:
    """Cached so the sinc kernel is built once per rate pair, not once per clip."""
    return AT.Resample(native_rate, rate)


def cut_audio_window(
    chunks: Sequence[tuple[float, np.ndarray]],
    native_rate: int,
    start: float,
    duration: float,
    rate: int,
    path: str,
) -> torch.Tensor:
    """Mono float32 tensor of exactly round(duration × rate) samples starting at `start`.

    `chunks` are (start time in s, (channels, samples) float array) in decode order.
    """
    if not chunks:
        raise DecodeError(path, "no audio decoded in the requested span")
    first_time = chunks[0][0]
    data_end = max(t + a.shape[1] / native_rate for t, a in chunks)
    if start < first_time - END_TOLERANCE_S:
        raise DecodeError(path, f"audio window starts at {start:.3f} s, before the audio data ({first_time:.3f} s)")
    if start + duration > data_end + END_TOLERANCE_S:
        raise DecodeError(
            path, f"audio window ends at {start + duration:.3f} s, past the end of the audio data ({data_end:.3f} s)"
        )
    context = RESAMPLE_CONTEXT_S if native_rate != rate else 0.0
    left = max(first_time, start - context)
    first_sample = int(round(left * native_rate))
    num_native = int(round((start + duration + context) * native_rate)) - first_sample
    buffer = np.zeros(num_native, dtype=np.float32)
    for t, array in chunks:
        offset = int(round(t * native_rate)) - first_sample
        lo, hi = max(0, offset), min(num_native, offset + array.shape[1])
        if hi > lo:
            # Mean of the channels, per chunk, so a mid-stream layout change cannot break it.
            buffer[lo:hi] = array[:, lo - offset : hi - offset].mean(axis=0)
    mono = torch.from_numpy(buffer)
    if native_rate != rate:
        mono = _resampler(native_rate, rate)(mono)
    skip = int(round((start - left) * rate))
    wanted = int(round(duration * rate))
    window = mono[skip : skip + wanted]
    if window.numel() < wanted:
        window = torch.nn.functional.pad(window, (0, wanted - window.numel()))
    return window.contiguous()
