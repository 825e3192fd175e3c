"""Per-frequency statistics of log power spectrograms, for AVID's input standardisation.

AVID (Morgado et al., CVPR 2021) feeds its audio network `(x - mean[f]) / std[f]`, where `x` is
the dB spectrogram. The official code loads precomputed per-frequency `mean` and `std` arrays of
shape (257,) (float32) from `.npz` files in its repo (`datasets/assets/
audio-spectDB-24k-*-norm-stats.npz`): dataset statistics whose means fall from about -0.1 dB
(lowest bins) to about -54 dB (highest), with stds of 17-21 dB. Those arrays are CC BY-NC, so we
do not ship them; `AudioStats.load` reads them unchanged (same field names, `count` optional)
for users who need inputs identical to the released checkpoints.

Default stats (`default_audio_stats`), and why. A researcher expects the default to put real
audio on roughly unit scale *with* the high-frequency roll-off taken out, as dataset stats do;
one global mean/std would leave low and high bins more than a std apart. No real dataset can
ship here, so the default is computed by `synthetic_audio_stats` from a fixed-seed synthetic
corpus mimicking broad features of natural sound: coloured noise with power ∝ 1/f^α over
20 Hz-12 kHz (nothing below: recordings are high-passed), α uniform in [1, 2] (pink to brown);
half the clips add a harmonic tone (f0 log-uniform in 100-1000 Hz, up to 20 harmonics of
amplitude 1/k, 10 dB below to 20 dB above the noise); loudness uniform in [-50, -15] dBFS RMS.
Its means run from about +8 dB (lowest bins) to about -29 dB (highest), stds 12-15 dB: the scale
and tilt of dataset stats, not their values (real audio rolls off more steeply). For serious
runs compute your own with `compute_audio_stats` and keep them with the checkpoint.
`python -m avssl.data.audio_stats` rewrites the shipped file; a test checks it is reproducible.

Statistics are accumulated in float64 with the parallel merge of Chan, Golub & LeVeque (1979),
so they are stable over millions of frames and mergeable across workers; `std` is the
population standard deviation (ddof = 0) over all frames of all spectrograms.
"""

from __future__ import annotations

import itertools
import math
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from avssl.atomic_io import atomic_path

DEFAULT_STATS_FILE = "audio-logspec-24k-257-synthetic-stats.npz"
SYNTHETIC_SEED = 0
SYNTHETIC_NUM_CLIPS = 256


class AudioStatsFileError(ValueError):
    """A stats file is unreadable or holds missing / wrong-shaped fields."""


@dataclass(frozen=True)
class AudioStats:
    """Per-frequency mean and std (float64 tensors of shape (F,)) over `count` frames."""

    mean: torch.Tensor
    std: torch.Tensor
    count: int

    def __post_init__(self) -> None:
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(
                f"AudioStats needs mean and std of the same shape (F,), got {tuple(self.mean.shape)} "
                f"and {tuple(self.std.shape)}"
            )

    @property
    def num_freqs(self) -> int:
        return int(self.mean.shape[0])

    def save(self, path: str | os.PathLike) -> None:
        """Write `mean`, `std` (float64) and `count` to an `.npz`, atomically."""
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(
                handle,
                mean=self.mean.detach().cpu().double().numpy(),
                std=self.std.detach().cpu().double().numpy(),
                count=np.asarray(self.count, dtype=np.int64),
            )

    @classmethod
    def load(cls, path: str | os.PathLike, num_freqs: int | None = None) -> AudioStats:
        """Read stats written by `save` or the official AVID-CMA `.npz` (no `count`: 0).

        Raises `FileNotFoundError` for a missing file and `AudioStatsFileError` (naming the file
        and field) for an unreadable file, a missing field, or a wrong shape / non-finite value.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"audio stats file {path} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                fields = {key: np.asarray(data[key]) for key in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            raise AudioStatsFileError(f"audio stats file {path} is not a readable .npz: {err}") from err
        for key in ("mean", "std"):
            if key not in fields:
                raise AudioStatsFileError(
                    f"audio stats file {path} has no field {key!r} (fields: {sorted(fields)}); "
                    "write it with AudioStats.save or compute_audio_stats"
                )
        mean, std = fields["mean"], fields["std"]
        for key, value in (("mean", mean), ("std", std)):
            expected = (num_freqs if num_freqs is not None else mean.shape[0] if mean.ndim == 1 else -1,)
            if value.ndim != 1 or value.shape != expected or not np.issubdtype(value.dtype, np.floating):
                raise AudioStatsFileError(
                    f"audio stats file {path}: field {key!r} has shape {value.shape} and dtype "
                    f"{value.dtype}, expected floats of shape {expected}"
                )
            if not np.all(np.isfinite(value)):
                raise AudioStatsFileError(f"audio stats file {path}: field {key!r} holds non-finite values")
        if np.any(std < 0):
            raise AudioStatsFileError(f"audio stats file {path}: field 'std' holds negative values")
        count = fields.get("count", np.asarray(0))
        if count.shape != () or not np.issubdtype(count.dtype, np.integer) or int(count) < 0:
            raise AudioStatsFileError(
                f"audio stats file {path}: field 'count' must be a non-negative integer scalar, "
                f"got shape {count.shape} and dtype {count.dtype}"
            )
        return cls(
            mean=torch.from_numpy(mean.astype(np.float64)),
            std=torch.from_numpy(std.astype(np.float64)),
            count=int(count),
        )


class AudioStatsAccumulator:
    """Streaming per-frequency mean / M2 in float64; `merge` combines per-worker partial results.

    Chan et al. (1979): for parts a, b with counts n, means μ, sums of squared deviations M2,
    δ = μ_b - μ_a, μ = μ_a + δ·n_b/n, M2 = M2_a + M2_b + δ²·n_a·n_b/n.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean: torch.Tensor | None = None
        self.m2: torch.Tensor | None = None

    def update(self, spectrogram: torch.Tensor) -> None:
        """Add every frame of `spectrogram` (..., F), frequency last; un-standardised dB values."""
        frames = torch.as_tensor(spectrogram).detach().to("cpu", torch.float64)
        if frames.ndim == 0:
            raise ValueError("a spectrogram needs a frequency axis (last), got a scalar")
        frames = frames.reshape(-1, frames.shape[-1])
        if frames.shape[0] == 0:
            return
        if not torch.isfinite(frames).all():
            raise ValueError("spectrogram holds non-finite values (NaN or inf); stats would be poisoned")
        batch_mean = frames.mean(0)
        batch_m2 = ((frames - batch_mean) ** 2).sum(0)
        self._merge_parts(frames.shape[0], batch_mean, batch_m2)

    def merge(self, other: AudioStatsAccumulator) -> None:
        """Fold another accumulator's frames into this one (e.g. one per DataLoader worker)."""
        if other.count:
            assert other.mean is not None and other.m2 is not None
            self._merge_parts(other.count, other.mean, other.m2)

    def _merge_parts(self, n_b: int, mean_b: torch.Tensor, m2_b: torch.Tensor) -> None:
        if self.mean is None or self.m2 is None:
            self.count, self.mean, self.m2 = n_b, mean_b.clone(), m2_b.clone()
            return
        if mean_b.shape != self.mean.shape:
            raise ValueError(
                f"spectrogram has {mean_b.shape[0]} frequency bins, earlier ones had {self.mean.shape[0]}"
            )
        n_a, n = self.count, self.count + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta**2 * (n_a * n_b / n)
        self.count = n

    def result(self) -> AudioStats:
        if self.mean is None or self.m2 is None:
            raise ValueError("no frames were accumulated; cannot compute audio stats of nothing")
        return AudioStats(mean=self.mean.clone(), std=(self.m2 / self.count).sqrt(), count=self.count)


def compute_audio_stats(spectrograms: Iterable[torch.Tensor]) -> AudioStats:
    """Per-frequency mean / std over all frames of un-standardised log spectrograms (..., T, F).

    Feed it `LogSpectrogram.log_power_db(waveform)` outputs; memory use is O(F), not O(frames).
    """
    accumulator = AudioStatsAccumulator()
    for i, spectrogram in enumerate(spectrograms):
        try:
            accumulator.update(spectrogram)
        except ValueError as err:
            raise ValueError(f"spectrogram #{i}: {err}") from err
    return accumulator.result()


def synthetic_reference_clips(
    num_clips: int = SYNTHETIC_NUM_CLIPS,
    seed: int = SYNTHETIC_SEED,
    sample_rate: int = 24_000,
    num_samples: int = 48_000,
) -> Iterable[torch.Tensor]:
    """Yield the fixed synthetic corpus behind the default stats (see module docstring)."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=generator, dtype=torch.float64))

    freqs = torch.fft.rfftfreq(num_samples, d=1.0 / sample_rate, dtype=torch.float64)
    audible = freqs >= 20.0
    time = torch.arange(num_samples, dtype=torch.float64) / sample_rate
    for _ in range(num_clips):
        alpha = uniform(1.0, 2.0)
        white = torch.randn(num_samples, generator=generator, dtype=torch.float64)
        shaping = torch.where(audible, freqs.clamp_min(20.0).pow(-alpha / 2), 0.0)
        clip = torch.fft.irfft(torch.fft.rfft(white) * shaping, n=num_samples)
        clip = clip / clip.pow(2).mean().sqrt()
        if uniform(0.0, 1.0) < 0.5:
            f0 = math.exp(uniform(math.log(100.0), math.log(1000.0)))
            harmonics = torch.arange(1, min(20, int(sample_rate / 2 // f0)) + 1, dtype=torch.float64)
            phases = 2 * math.pi * torch.rand(harmonics.shape, generator=generator, dtype=torch.float64)
            tone = (
                torch.sin(2 * math.pi * f0 * harmonics[:, None] * time + phases[:, None]) / harmonics[:, None]
            )
            tone = tone.sum(0)
            tone = tone / tone.pow(2).mean().sqrt()
            clip = clip + tone * 10 ** (uniform(-10.0, 20.0) / 20)
            clip = clip / clip.pow(2).mean().sqrt()
        yield (clip * 10 ** (uniform(-50.0, -15.0) / 20)).float()


def synthetic_audio_stats(num_clips: int = SYNTHETIC_NUM_CLIPS, seed: int = SYNTHETIC_SEED) -> AudioStats:
    """Stats of `synthetic_reference_clips` under the default AVID front-end (the shipped default)."""
    from avssl.data.audio_frontend import LogSpectrogram  # lazy: the front-end imports this module

    frontend = LogSpectrogram(mean=torch.zeros(257), std=torch.ones(257))
    clips = iter(synthetic_reference_clips(num_clips, seed))
    accumulator = AudioStatsAccumulator()
    with torch.no_grad():
        while chunk := list(itertools.islice(clips, 32)):
            accumulator.update(frontend.log_power_db(torch.stack(chunk)))
    return accumulator.result()


def default_stats_path() -> Path:
    """Location of the shipped default stats (package data: `avssl/data/assets/`)."""
    return Path(str(resources.files("avssl.data").joinpath("assets", DEFAULT_STATS_FILE)))


def default_audio_stats() -> AudioStats:
    """The shipped synthetic default stats, shape (257,); see the module docstring for why."""
    return AudioStats.load(default_stats_path(), num_freqs=257)


if __name__ == "__main__":
    stats = synthetic_audio_stats()
    stats.save(default_stats_path())
    print(f"wrote {default_stats_path()} from {stats.count} frames")
