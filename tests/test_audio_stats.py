"""Per-frequency spectrogram stats: streaming merge, file round trip, bad files, shipped default."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avssl.data.audio_frontend import LogSpectrogram
from avssl.data.audio_stats import (
    AudioStats,
    AudioStatsAccumulator,
    AudioStatsFileError,
    compute_audio_stats,
    default_audio_stats,
    default_stats_path,
    synthetic_audio_stats,
)


def random_spectrograms(offset: float = -40.0, seed: int = 0) -> list[torch.Tensor]:
    """Spectrograms of varying length and leading shape, frequency last, with a per-bin tilt."""
    rng = np.random.default_rng(seed)
    tilt = np.linspace(0.0, -50.0, 257)
    shapes = [(200, 257), (1, 37, 257), (3, 200, 257), (1, 257), (2, 1, 90, 257)]
    return [torch.from_numpy(offset + tilt + rng.normal(0, 15, shape)) for shape in shapes]


def all_frames(spectrograms: list[torch.Tensor]) -> np.ndarray:
    return np.concatenate([s.numpy().reshape(-1, 257) for s in spectrograms])


def test_streaming_stats_equal_numpy_over_all_frames_concatenated():
    spectrograms = random_spectrograms()
    stats = compute_audio_stats(iter(spectrograms))
    frames = all_frames(spectrograms)
    assert stats.count == frames.shape[0]
    np.testing.assert_allclose(stats.mean.numpy(), frames.mean(0), rtol=0, atol=1e-10)
    np.testing.assert_allclose(stats.std.numpy(), frames.std(0), rtol=1e-12, atol=0)


def test_streaming_stats_stay_exact_with_a_large_offset():
    # Naive sum / sum-of-squares in float64 loses every digit of a std of 15 at an offset of 1e9.
    spectrograms = random_spectrograms(offset=1e9)
    frames = all_frames(spectrograms)
    stats = compute_audio_stats(spectrograms)
    np.testing.assert_allclose(stats.std.numpy(), frames.std(0), rtol=1e-6)


def test_merging_partial_accumulators_equals_one_pass():
    spectrograms = random_spectrograms(seed=1)
    worker_a, worker_b = AudioStatsAccumulator(), AudioStatsAccumulator()
    for s in spectrograms[:2]:
        worker_a.update(s)
    for s in spectrograms[2:]:
        worker_b.update(s)
    worker_a.merge(worker_b)
    merged, single = worker_a.result(), compute_audio_stats(spectrograms)
    assert merged.count == single.count
    torch.testing.assert_close(merged.mean, single.mean, rtol=0, atol=1e-10)
    torch.testing.assert_close(merged.std, single.std, rtol=1e-12, atol=0)


def test_float32_and_gpu_style_inputs_are_accumulated_in_float64():
    spectrograms = [s.float() for s in random_spectrograms(seed=2)]
    stats = compute_audio_stats(spectrograms)
    assert stats.mean.dtype == torch.float64
    np.testing.assert_allclose(
        stats.mean.numpy(), all_frames(spectrograms).astype(np.float64).mean(0), atol=1e-9
    )


def test_no_spectrograms_is_an_error():
    with pytest.raises(ValueError, match="no frames"):
        compute_audio_stats([])


def test_inconsistent_frequency_bins_are_an_error():
    with pytest.raises(ValueError, match="spectrogram #1: .*129 frequency bins.*257"):
        compute_audio_stats([torch.zeros(10, 257), torch.zeros(10, 129)])


def test_non_finite_values_are_an_error_naming_the_spectrogram():
    bad = torch.zeros(10, 257)
    bad[3, 7] = float("nan")
    with pytest.raises(ValueError, match="spectrogram #2: .*non-finite"):
        compute_audio_stats([torch.zeros(10, 257), torch.zeros(4, 257), bad])


def test_save_load_round_trip_is_exact_and_leaves_no_temporary_file(tmp_path):
    stats = compute_audio_stats(random_spectrograms(seed=3))
    path = tmp_path / "stats" / "kinetics.npz"
    stats.save(path)
    loaded = AudioStats.load(path, num_freqs=257)
    assert loaded.count == stats.count
    assert torch.equal(loaded.mean, stats.mean) and torch.equal(loaded.std, stats.std)
    assert [p.name for p in path.parent.iterdir()] == ["kinetics.npz"]


def test_official_format_without_count_loads_with_count_zero(tmp_path):
    path = tmp_path / "official.npz"
    np.savez(path, mean=np.full(257, -30.0, np.float32), std=np.full(257, 20.0, np.float32))
    loaded = AudioStats.load(path)
    assert loaded.count == 0 and loaded.mean.dtype == torch.float64
    assert float(loaded.std[0]) == 20.0


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        AudioStats.load(tmp_path / "nowhere.npz")


def test_unreadable_file_names_the_file(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(AudioStatsFileError, match="garbage.npz.*not a readable .npz"):
        AudioStats.load(path)


def test_missing_field_names_the_file_and_field(tmp_path):
    path = tmp_path / "nostd.npz"
    np.savez(path, mean=np.zeros(257))
    with pytest.raises(AudioStatsFileError, match="nostd.npz has no field 'std'"):
        AudioStats.load(path)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mean": np.zeros((257, 1)), "std": np.ones(257)}, r"field 'mean' has shape \(257, 1\)"),
        ({"mean": np.zeros(257), "std": np.ones(256)}, r"field 'std' has shape \(256,\)"),
        ({"mean": np.zeros(257), "std": np.array(["a"] * 257)}, r"field 'std' .*dtype <U1"),
        ({"mean": np.full(257, np.nan), "std": np.ones(257)}, r"field 'mean' holds non-finite"),
        ({"mean": np.zeros(257), "std": -np.ones(257)}, r"field 'std' holds negative"),
        ({"mean": np.zeros(257), "std": np.ones(257), "count": np.ones(2)}, r"field 'count'"),
    ],
)
def test_wrong_fields_name_the_file_and_field(tmp_path, fields, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **fields)
    with pytest.raises(AudioStatsFileError, match=r"bad.npz: " + message):
        AudioStats.load(path)


def test_wrong_number_of_bins_for_the_caller_is_an_error(tmp_path):
    path = tmp_path / "513.npz"
    AudioStats(
        mean=torch.zeros(513, dtype=torch.float64), std=torch.ones(513, dtype=torch.float64), count=1
    ).save(path)
    with pytest.raises(AudioStatsFileError, match=r"513.npz: field 'mean' has shape \(513,\).*\(257,\)"):
        AudioStats.load(path, num_freqs=257)


def test_default_stats_ship_as_package_data_with_plausible_values():
    stats = default_audio_stats()
    assert default_stats_path().parent.name == "assets"
    assert stats.num_freqs == 257 and stats.count == 256 * 200
    assert torch.isfinite(stats.mean).all() and (stats.std > 5).all() and (stats.std < 30).all()
    assert (stats.mean > -80).all() and (stats.mean < 20).all()
    assert stats.mean[1:10].mean() > stats.mean[-10:].mean() + 15  # the spectral tilt is there


@pytest.fixture
def one_torch_thread():
    # Many tiny FFTs: on a shared, busy CI box intra-op threads only contend (measured 27 s vs 3 s).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_default_stats_are_reproducible_from_their_documented_synthetic_source(one_torch_thread):
    regenerated = synthetic_audio_stats()
    shipped = default_audio_stats()
    assert regenerated.count == shipped.count
    torch.testing.assert_close(regenerated.mean, shipped.mean, rtol=0, atol=1e-3)
    torch.testing.assert_close(regenerated.std, shipped.std, rtol=0, atol=1e-3)


def test_stats_from_the_frontend_standardise_its_output():
    frontend = LogSpectrogram(mean=torch.zeros(257), std=torch.ones(257), std_eps=0.0)
    rng = np.random.default_rng(4)
    clips = torch.from_numpy(rng.normal(0, 1, (4, 48_000)) * np.logspace(-3, 0, 4)[:, None]).float()
    stats = compute_audio_stats([frontend.log_power_db(clip) for clip in clips])
    standardised = LogSpectrogram(mean=stats.mean, std=stats.std, std_eps=0.0)(clips)
    frames = standardised.reshape(-1, 257).double()
    torch.testing.assert_close(frames.mean(0), torch.zeros(257, dtype=torch.float64), atol=1e-4, rtol=0)
    torch.testing.assert_close(
        frames.std(0, unbiased=False), torch.ones(257, dtype=torch.float64), atol=1e-4, rtol=0
    )
