"""Cut an exact audio window out of decoded chunks, down-mix and resample it.

Shared by every back-end so that they agree to the sample. Chunks are placed on the sample grid
by their own timestamps (a gap becomes zeros, an overlap is overwritten by the later chunk), so
streams with timestamp jumps stay in sync with the video; timestamps that only jitter by the
container's rounding (Matroska's 1 ms) are read as the continuous sound they are.
"""

from __future__ import annotations

import functools
import math
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
# A chunk whose timestamp is within this of where the sound before it ends continues that sound.
# Matroska/WebM and FLV store 1 ms timestamps: a 1024-sample frame at 44.1 kHz lasts 23.22 ms but
# is stamped 0, 23, 46, 70 ms, and placing each chunk at its rounded time cut gaps and overlaps
# of up to 22 samples into every frame (the decoded sine was garbage). Real gaps are whole frames.
CONTINUITY_TOLERANCE_S = 0.002


@functools.lru_cache(maxsize=16)
def _resampler(native_rate: int, rate: int) -> AT.Resample:
    """Cached so the sinc kernel is built once per rate pair, not once per clip."""
    return AT.Resample(native_rate, rate)


def _chunk_starts(chunks: Sequence[tuple[float, np.ndarray]], native_rate: int) -> list[float]:
    """Start time of each chunk, with runs of back-to-back chunks laid end to end.

    A run is anchored midway between the earliest and latest start its chunks' timestamps imply:
    with timestamps rounded to the nearest tick, the true start lies within half a tick of both.
    """
    starts: list[float] = []
    run: list[tuple[float, int]] = []  # (timestamp, samples in the run before this chunk)
    run_samples = 0

    def close_run() -> None:
        implied = [t - before / native_rate for t, before in run]
        anchor = (min(implied) + max(implied)) / 2
        starts.extend(anchor + before / native_rate for _, before in run)

    for t, array in chunks:
        if run and abs(t - (run[0][0] + run_samples / native_rate)) > CONTINUITY_TOLERANCE_S:
            close_run()
            run, run_samples = [], 0
        run.append((t, run_samples))
        run_samples += array.shape[1]
    if run:
        close_run()
    return starts


def _channel_mean(samples: np.ndarray, out: np.ndarray) -> None:
    """`out[:] = samples.mean(axis=0)` for float32 (channels, n), computed as numpy's mean does
    (a float32 sum, then division by the count), without its Python-level overhead: ~7 µs per
    call, and a 2-s window holds ~90 AAC frames."""
    np.add.reduce(samples, axis=0, out=out)
    np.true_divide(out, np.intp(samples.shape[0]), out=out, casting="unsafe")


def cut_audio_window(
    chunks: Sequence[tuple[float, np.ndarray]],
    native_rate: int,
    start: float,
    duration: float,
    rate: int,
    path: str,
) -> torch.Tensor:
    """Mono float32 tensor of exactly round(duration × rate) samples starting at `start`.

    Sample n is the sound at (round(start × rate) + n) / rate, at every rate: windows lie on one
    grid, so overlapping windows agree sample for sample and a window is never more than half a
    sample off `start`. `chunks` are (start time in s, (channels, samples) float array) in
    decode order.
    """
    if not chunks:
        raise DecodeError(path, "no audio decoded in the requested span")
    starts = _chunk_starts(chunks, native_rate)
    first_time = starts[0]
    data_end = max(s + a.shape[1] / native_rate for s, (_, a) in zip(starts, chunks))
    if start < first_time - END_TOLERANCE_S:
        raise DecodeError(path, f"audio window starts at {start:.3f} s, before the audio data ({first_time:.3f} s)")
    if start + duration > data_end + END_TOLERANCE_S:
        raise DecodeError(
            path, f"audio window ends at {start + duration:.3f} s, past the end of the audio data ({data_end:.3f} s)"
        )
    context = RESAMPLE_CONTEXT_S if native_rate != rate else 0.0
    # Begin the native buffer on a sample that is also on the output grid (every native_rate/g
    # samples, g = gcd), so the resampled samples land on the grid k / rate. Before the data it
    # holds zeros, as the resampler would assume anyway.
    g = math.gcd(native_rate, rate)
    period = native_rate // g
    first_out = round(start * rate)
    wanted = round(duration * rate)
    periods = math.floor(min(first_out / rate - context, start - context) * native_rate / period)
    first_sample = periods * period
    # The end follows from the samples wanted, not from round(start + duration): round(a + b) can
    # be round(a) + round(b) - 1, which zero-padded the last sample of a window inside the data.
    num_native = math.ceil(((first_out + wanted) / rate + context) * native_rate) - first_sample
    buffer = np.zeros(num_native, dtype=np.float32)
    for s, (_, array) in zip(starts, chunks):
        offset = round(s * native_rate) - first_sample
        lo, hi = max(0, offset), min(num_native, offset + array.shape[1])
        if hi > lo:
            # Mean of the channels, per chunk, so a mid-stream layout change cannot break it.
            _channel_mean(array[:, lo - offset : hi - offset], buffer[lo:hi])
    mono = torch.from_numpy(buffer)
    if native_rate != rate:
        mono = _resampler(native_rate, rate)(mono)
    skip = first_out - periods * (rate // g)
    window = mono[skip : skip + wanted]
    if window.numel() < wanted:
        window = torch.nn.functional.pad(window, (0, wanted - window.numel()))
    return window.contiguous()
