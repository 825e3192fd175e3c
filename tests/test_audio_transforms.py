"""Volume jitter: AVID's waveform gain augmentation, uniform in [1 - volume, 1 + volume]."""

from __future__ import annotations

import pytest
import torch

from avssl.data.audio_transforms import VolumeJitter


def gains(jitter: VolumeJitter, draws: int) -> torch.Tensor:
    return torch.stack([jitter(torch.ones(8))[0] for _ in range(draws)])


def test_gains_stay_in_range_and_cover_it():
    drawn = gains(VolumeJitter(volume=0.1, generator=torch.Generator().manual_seed(0)), 2000)
    assert drawn.min() >= 0.9 and drawn.max() <= 1.1
    assert drawn.min() < 0.905 and drawn.max() > 1.095
    assert abs(float(drawn.mean()) - 1.0) < 0.01


def test_the_range_is_a_constructor_argument():
    drawn = gains(VolumeJitter(volume=0.5, generator=torch.Generator().manual_seed(1)), 2000)
    assert drawn.min() >= 0.5 and drawn.max() <= 1.5
    assert drawn.min() < 0.55 and drawn.max() > 1.45


def test_same_seed_gives_the_same_gains_and_another_seed_does_not():
    first = gains(VolumeJitter(generator=torch.Generator().manual_seed(7)), 20)
    again = gains(VolumeJitter(generator=torch.Generator().manual_seed(7)), 20)
    other = gains(VolumeJitter(generator=torch.Generator().manual_seed(8)), 20)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_a_per_call_generator_overrides_the_constructor_one():
    jitter = VolumeJitter(generator=torch.Generator().manual_seed(0))
    a = jitter(torch.ones(4), generator=torch.Generator().manual_seed(3))
    b = VolumeJitter()(torch.ones(4), generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_one_gain_per_call_scales_every_sample_and_leaves_the_input_alone():
    waveform = torch.randn(2, 48_000)
    original = waveform.clone()
    out = VolumeJitter(volume=0.3, generator=torch.Generator().manual_seed(4))(waveform)
    ratio = out / waveform
    torch.testing.assert_close(ratio, ratio.flatten()[0].expand_as(ratio))
    assert float(ratio.flatten()[0]) != 1.0
    assert torch.equal(waveform, original)


def test_zero_volume_is_the_identity():
    waveform = torch.randn(48_000)
    assert torch.equal(VolumeJitter(volume=0.0)(waveform), waveform)


@pytest.mark.parametrize("volume", [-0.1, 1.5])
def test_volume_outside_zero_one_is_rejected(volume):
    with pytest.raises(ValueError, match="volume must lie in"):
        VolumeJitter(volume=volume)
