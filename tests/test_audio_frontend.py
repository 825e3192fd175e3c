"""LogSpectrogram against a librosa reference written here, in float64 (AVID's audio input)."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from avssl.data.audio_frontend import LogSpectrogram
from avssl.data.audio_stats import default_audio_stats

SR = 24_000
N = 48_000
# The module computes in float32. Its STFT rounding is ~1e-7 of a frame's peak power, so a bin
# 60 dB below the peak (the chirp's noise floor here) is off by ~1e-3 relative, ~0.005 dB; the
# measured worst case is 0.006 dB. Float64 runs of the same module must match to 1e-9 dB.
FLOAT32_DB_ATOL = 0.02
FLOAT64_DB_ATOL = 1e-9


def reference_db(y: np.ndarray, pad_mode: str = "reflect") -> np.ndarray:
    """AVID's spectrogram with librosa in float64: (200, 257) dB, time first, un-standardised."""
    spec = librosa.stft(
        y.astype(np.float64), n_fft=1024, hop_length=240, window="hann", center=True, pad_mode=pad_mode
    )
    power = np.abs(spec) ** 2
    paired = np.concatenate([power[:1], 0.5 * (power[1::2] + power[2::2])], axis=0)
    assert paired.shape[0] == 257
    return librosa.power_to_db(paired[:, :200], ref=1.0, amin=1e-10, top_db=100.0).T


def chirp_plus_noise(seed: int = 0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(N) / SR
    rng = np.random.default_rng(seed)
    chirp = np.sin(2 * np.pi * (100 * t + (10_000 - 100) / (2 * 2.0) * t**2))
    return amplitude * chirp + 1e-3 * rng.standard_normal(N)


def unit_stats_frontend(**kwargs) -> LogSpectrogram:
    return LogSpectrogram(mean=torch.zeros(257), std=torch.ones(257), std_eps=0.0, **kwargs)


def float64_frontend(**kwargs) -> LogSpectrogram:
    """The module in float64, with the window computed in float64 (the buffer is float32-rounded)."""
    frontend = unit_stats_frontend(**kwargs).double()
    frontend.window.copy_(torch.hann_window(1024, periodic=True, dtype=torch.float64))
    return frontend


def test_output_shape_is_one_by_200_by_257():
    out = LogSpectrogram()(torch.zeros(N))
    assert out.shape == (1, 200, 257)
    assert out.dtype == torch.float32


def test_batched_output_shape_is_b_by_one_by_200_by_257():
    assert LogSpectrogram()(torch.zeros(3, N)).shape == (3, 1, 200, 257)


def test_matches_librosa_in_float64_on_chirp_plus_noise():
    y = chirp_plus_noise()
    out = float64_frontend().log_power_db(torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(out, reference_db(y), rtol=0, atol=FLOAT64_DB_ATOL)


def test_matches_librosa_within_float32_tolerance_on_chirp_plus_noise():
    y = chirp_plus_noise()
    out = unit_stats_frontend()(torch.from_numpy(y).float())[0].numpy()
    np.testing.assert_allclose(out, reference_db(y), rtol=0, atol=FLOAT32_DB_ATOL)


def test_silent_input_is_the_amin_floor_everywhere():
    out = unit_stats_frontend()(torch.zeros(N))[0].numpy()
    expected = reference_db(np.zeros(N))
    np.testing.assert_array_equal(expected, -100.0)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-4)


def test_batch_equals_each_example_and_top_db_floor_is_per_example():
    loud = chirp_plus_noise(seed=1, amplitude=0.9)
    quiet = chirp_plus_noise(seed=2, amplitude=1e-3) * 1e-3
    silent = np.zeros(N)
    batch = np.stack([loud, quiet, silent])
    frontend = float64_frontend()
    out = frontend.log_power_db(torch.from_numpy(batch)).numpy()
    for i, y in enumerate(batch):
        np.testing.assert_allclose(out[i], reference_db(y), rtol=0, atol=FLOAT64_DB_ATOL)
    # The quiet clip lies wholly below the loud clip's floor: a batch-wide floor would flatten it.
    assert out[1].max() < out[0].max() - 100.0
    assert out[1].max() - out[1].min() > 10.0


def test_standardisation_is_per_frequency_with_official_eps():
    rng = np.random.default_rng(3)
    mean = torch.from_numpy(rng.uniform(-60, 0, 257)).float()
    std = torch.from_numpy(rng.uniform(5, 25, 257)).float()
    y = chirp_plus_noise(seed=4)
    out = LogSpectrogram(mean=mean, std=std)(torch.from_numpy(y).float())[0].numpy()
    expected = (reference_db(y) - mean.numpy()) / (std.numpy() + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=0, atol=FLOAT32_DB_ATOL / 5)


def test_zero_std_is_guarded_by_the_official_eps():
    out = LogSpectrogram(mean=torch.full((257,), -90.0), std=torch.zeros(257))(torch.zeros(N))
    torch.testing.assert_close(out, torch.full_like(out, -10.0 / 1e-5))


def test_default_stats_are_the_shipped_defaults():
    frontend = LogSpectrogram()
    stats = default_audio_stats()
    torch.testing.assert_close(frontend.mean, stats.mean.float())
    torch.testing.assert_close(frontend.std, stats.std.float())


def test_window_is_periodic_hann_and_window_and_stats_are_buffers():
    frontend = LogSpectrogram()
    expected = scipy.signal.get_window("hann", 1024, fftbins=True)
    np.testing.assert_allclose(frontend.window.numpy(), expected, atol=1e-7)
    assert {"window", "mean", "std"} <= set(frontend.state_dict())


def test_centred_framing_gives_201_frames_of_which_200_are_kept():
    y = torch.from_numpy(chirp_plus_noise()).float()
    all_frames = unit_stats_frontend(num_frames=None)(y)
    assert all_frames.shape == (1, 201, 257)
    torch.testing.assert_close(unit_stats_frontend()(y)[:, :200], all_frames[:, :200], atol=1e-4, rtol=0)


def test_impulse_lands_in_the_frame_centred_on_it():
    y = torch.zeros(N)
    y[240 * 57] = 1.0
    db = unit_stats_frontend().log_power_db(y)
    frame_energy = db.mean(-1)
    assert int(frame_energy.argmax()) == 57
    # Hann-weighted: frames 56 and 58 see it at 240 samples from their centre, equally.
    assert float(frame_energy[56]) == pytest.approx(float(frame_energy[58]), abs=1e-3)


def test_constant_pad_mode_matches_librosa_zero_padding():
    y = chirp_plus_noise(seed=5)
    out = float64_frontend(pad_mode="constant").log_power_db(torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(out, reference_db(y, pad_mode="constant"), rtol=0, atol=FLOAT64_DB_ATOL)


def test_too_short_clip_is_rejected_with_a_reason():
    with pytest.raises(ValueError, match="fewer than num_frames=200"):
        LogSpectrogram()(torch.zeros(N - 480))


def test_wrong_stats_shape_is_rejected():
    with pytest.raises(ValueError, match=r"shape \(257,\)"):
        LogSpectrogram(mean=torch.zeros(513), std=torch.ones(513))


def test_gradients_flow_to_the_waveform():
    y = torch.from_numpy(chirp_plus_noise()).float().requires_grad_()
    LogSpectrogram()(y).sum().backward()
    assert y.grad is not None and torch.isfinite(y.grad).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    y = torch.from_numpy(np.stack([chirp_plus_noise(seed=6), np.zeros(N)])).float()
    frontend = LogSpectrogram()
    cpu = frontend(y)
    gpu = frontend.to("cuda")(y.to("cuda")).cpu()
    torch.testing.assert_close(gpu, cpu, atol=FLOAT32_DB_ATOL / 5, rtol=0)
