"""AVID's audio input: a standardised log power spectrogram of a 2 s, 24 kHz mono clip.

Morgado et al., CVPR 2021 (AVID+CMA), as the official code computes it: STFT with n_fft 1024,
hop 240 (100 frames/s) and a periodic Hann window; power |X|²; the 513 bins reduced to 257 by
keeping bin 0 (DC) and averaging bins (1,2), (3,4), ..., (511,512); the first 200 frames;
`power_to_db` (ref 1.0, amin 1e-10, top_db 100); then `(x - mean[f]) / (std[f] + std_eps)`.

Framing. The official code used `librosa.stft` with its defaults of the time (librosa 0.8,
Oct. 2020): `center=True` with *reflect* padding of n_fft // 2 samples at each end (librosa
0.9+ pads with zeros by default instead). Frame t is then centred on sample 240·t, so 48 000
samples give 1 + 48000 // 240 = 201 frames; the official code keeps the first 200
(`int(duration · 100)`) *before* `power_to_db`, so the top_db floor is taken over those 200
frames. We do the same, so outputs match the released checkpoints' inputs.

`std_eps` (default 1e-5) is the official code's guard in the denominator; it also keeps a bin
with zero variance in user-computed stats finite. Output layout is time first, (1, T, F), as
DESIGN.md's batch dict `audio (B, 1, T, F)`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from avssl.data.audio_stats import default_audio_stats


class LogSpectrogram(nn.Module):
    """Waveform (S,) or (B, S) → standardised log spectrogram (1, T, F) or (B, 1, T, F).

    Runs on any device (window and stats are buffers, moved with `.to()`), batched, and in one
    `torch.stft` call. With `mean`/`std` left as None the shipped default stats are used
    (`avssl.data.audio_stats.default_audio_stats`).
    """

    def __init__(
        self,
        n_fft: int = 1024,
        hop_length: int = 240,
        num_frames: int | None = 200,
        pad_mode: str = "reflect",
        amin: float = 1e-10,
        ref: float = 1.0,
        top_db: float | None = 100.0,
        mean: torch.Tensor | None = None,
        std: torch.Tensor | None = None,
        std_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if n_fft % 4 != 0:
            raise ValueError(f"n_fft must be a multiple of 4 to pair-average its bins, got {n_fft}")
        if amin <= 0 or ref <= 0:
            raise ValueError(f"amin and ref must be positive, got amin={amin}, ref={ref}")
        if top_db is not None and top_db < 0:
            raise ValueError(f"top_db must be non-negative or None, got {top_db}")
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.num_frames = num_frames
        self.pad_mode = pad_mode
        self.amin = amin
        self.ref = ref
        self.top_db = top_db
        self.std_eps = std_eps
        self.num_freqs = n_fft // 4 + 1
        if mean is None and std is None:
            defaults = default_audio_stats()
            if defaults.num_freqs != self.num_freqs:
                raise ValueError(
                    f"the default stats have {defaults.num_freqs} bins but n_fft={n_fft} gives "
                    f"{self.num_freqs}; pass mean and std computed with compute_audio_stats"
                )
            mean, std = defaults.mean, defaults.std
        elif mean is None or std is None:
            raise ValueError("pass both mean and std, or neither (to use the default stats)")
        mean = torch.as_tensor(mean, dtype=torch.float32)
        std = torch.as_tensor(std, dtype=torch.float32)
        if mean.shape != (self.num_freqs,) or std.shape != (self.num_freqs,):
            raise ValueError(
                f"mean and std must have shape ({self.num_freqs},) for n_fft={n_fft}, got "
                f"{tuple(mean.shape)} and {tuple(std.shape)}"
            )
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True, dtype=torch.float64).float())
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())

    def power(self, waveform: torch.Tensor) -> torch.Tensor:
        """(..., S) → power spectrogram with paired bins, (..., T, F), first `num_frames` frames."""
        lead = waveform.shape[:-1]
        flat = waveform.reshape(-1, waveform.shape[-1]).to(self.window.dtype)
        spec = torch.stft(
            flat,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            pad_mode=self.pad_mode,
            onesided=True,
            return_complex=True,
        )
        if self.num_frames is not None:
            if spec.shape[-1] < self.num_frames:
                raise ValueError(
                    f"{waveform.shape[-1]} samples give {spec.shape[-1]} frames at hop {self.hop_length}, "
                    f"fewer than num_frames={self.num_frames}; pad the clip first"
                )
            spec = spec[..., : self.num_frames]
        power = (spec.real.square() + spec.imag.square()).transpose(-1, -2)
        pairs = power[..., 1:].unflatten(-1, (self.num_freqs - 1, 2)).mean(-1)
        power = torch.cat([power[..., :1], pairs], dim=-1)
        return power.reshape(*lead, *power.shape[-2:])

    def power_to_db(self, power: torch.Tensor) -> torch.Tensor:
        """librosa.power_to_db on (..., T, F); the top_db floor is per example (max over T, F)."""
        db = 10.0 * torch.log10(power.clamp_min(self.amin))
        db = db - 10.0 * math.log10(max(self.amin, self.ref))
        if self.top_db is not None:
            peak = db.amax(dim=(-2, -1), keepdim=True)
            db = torch.maximum(db, peak - self.top_db)
        return db

    def log_power_db(self, waveform: torch.Tensor) -> torch.Tensor:
        """Un-standardised dB spectrogram (..., T, F): what `compute_audio_stats` consumes."""
        return self.power_to_db(self.power(waveform))

    def standardize(self, db: torch.Tensor) -> torch.Tensor:
        return (db - self.mean) / (self.std + self.std_eps)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if waveform.ndim not in (1, 2):
            raise ValueError(
                f"expected a mono waveform (S,) or a batch (B, S), got shape {tuple(waveform.shape)}"
            )
        return self.standardize(self.log_power_db(waveform)).unsqueeze(-3)

    def extra_repr(self) -> str:
        return (
            f"n_fft={self.n_fft}, hop_length={self.hop_length}, num_frames={self.num_frames}, "
            f"pad_mode={self.pad_mode!r}, amin={self.amin}, ref={self.ref}, top_db={self.top_db}"
        )
