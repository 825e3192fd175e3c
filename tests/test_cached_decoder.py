"""CachedDecoder: clips cut from memory equal clips decoded by PyAV."""

from __future__ import annotations

import pytest
import torch
from media_factory import write_video

from avssl.data.decoders import DecodeError, create_decoder
from avssl.data.decoders.cached_decoder import CachedDecoder


@pytest.mark.parametrize("workers", [0, 1])
def test_cached_clips_equal_decoded_clips(tmp_path, workers):
    path = str(write_video(tmp_path / "v.mp4", seconds=4.0, noise_seed=3))
    cached = CachedDecoder()
    cached.preload([path], lambda _: (40, 50), 24000, workers=workers, progress=False)
    assert path in cached.cache
    pyav = create_decoder("pyav")
    for start in (0.0, 0.33, 1.71):
        times = [start + 0.6 + k / 16 for k in range(8)]
        assert torch.equal(cached.read_video(path, times, (40, 50)), pyav.read_video(path, times, (40, 50)))
        # Same sample grid; only the resampler's edge context differs (whole track vs window).
        torch.testing.assert_close(cached.read_audio(path, start, 2.0, 24000), pyav.read_audio(path, start, 2.0, 24000),
                                   rtol=0, atol=1e-5)


def test_uncached_requests_fall_through_and_bad_spans_raise(tmp_path):
    path = str(write_video(tmp_path / "v.mp4", seconds=3.0))
    cached = CachedDecoder()
    cached.preload([path], lambda _: (40, 50), 24000, workers=0, progress=False)
    other_size = cached.read_video(path, [1.0], (20, 25))  # not the cached size: decoded
    assert other_size.shape == (1, 20, 25, 3)
    with pytest.raises(DecodeError):
        cached.read_audio(path, 2.5, 2.0, 24000)
    with pytest.raises(DecodeError):
        cached.read_video(path, [5.0], (40, 50))
