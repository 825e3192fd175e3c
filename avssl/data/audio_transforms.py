"""Waveform augmentation for AVID: random volume (gain) jitter.

The official AVID-CMA training pipeline multiplies the mono, trimmed/padded 2 s waveform by one
gain drawn uniformly from [1 - 0.1, 1 + 0.1] ("volume ±10 %"), on training clips only and before
the spectrogram. `volume` sets the half-width of that range.

Reproducibility: pass a seeded CPU `torch.Generator` (to the constructor or per call). Without one
the global torch RNG is used, which DataLoader seeds differently in every worker; a generator
given to the constructor is copied into each worker as-is, so workers would draw the same gains
unless you reseed it per worker (e.g. in `worker_init_fn`).
"""

from __future__ import annotations

import torch
from torch import nn


def random_gain(volume: float, generator: torch.Generator | None = None) -> float:
    """One gain drawn uniformly from [1 - volume, 1 + volume]."""
    u = float(torch.rand((), generator=generator, dtype=torch.float64))
    return 1.0 - volume + 2.0 * volume * u


class VolumeJitter(nn.Module):
    """Multiply a waveform (any shape, time last) by one random gain in [1 - volume, 1 + volume].

    One gain per call: apply it per clip (in the dataset), as the official code does, so that
    the channels of a clip keep their balance. Returns a new tensor; the input is not modified.
    """

    def __init__(self, volume: float = 0.1, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= volume <= 1.0:
            raise ValueError(f"volume must lie in [0, 1] so the gain stays non-negative, got {volume}")
        self.volume = volume
        self.generator = generator

    def forward(self, waveform: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        gain = random_gain(self.volume, generator if generator is not None else self.generator)
        return waveform * gain

    def extra_repr(self) -> str:
        return f"volume={self.volume}"
