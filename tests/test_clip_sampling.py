"""Clip sampling: exact fractional times, AVID's video-inside-audio placement, misalignment."""

from __future__ import annotations

import pytest
import torch

from avssl.data.clip_sampling import AVClipSampler, RandomClipSampler, UniformClipSampler


def test_uniform_clips_span_first_to_last_start_exactly():
    sampler = UniformClipSampler(2.0, clips_per_video=5)
    starts = [sampler(1.0, 10.0, j).start for j in range(5)]
    assert starts == pytest.approx([1.0, 3.0, 5.0, 7.0, 9.0], abs=1e-12)
    assert UniformClipSampler(2.0, 1)(0.0, 10.0, 0).start == pytest.approx(4.0)


def test_random_clips_stay_inside_and_cover_the_range():
    sampler = RandomClipSampler(2.0)
    generator = torch.Generator().manual_seed(0)
    starts = torch.tensor([sampler(0.5, 5.0, 0, generator).start for _ in range(2000)])
    assert starts.min() >= 0.5 and starts.max() <= 3.5
    assert starts.min() < 0.6 and starts.max() > 3.4  # uniform over [0.5, 3.5]
    assert abs(float(starts.mean()) - 2.0) < 0.05


def test_video_times_are_exact_frames_at_the_requested_fps():
    sampler = AVClipSampler(UniformClipSampler(2.0, 1), video_fps=16.0, video_frames=8)
    span = sampler(0.0, 2.0)
    assert span.audio.start == 0.0 and span.audio.duration == 2.0
    assert span.video_times == pytest.approx([0.75 + k / 16 for k in range(8)], abs=1e-12)  # centred


def test_misalignment_is_uniform_within_bounds_and_video_stays_in_the_audio_window():
    sampler = AVClipSampler(RandomClipSampler(2.0), video_fps=16.0, video_frames=8, max_misalignment=0.5)
    generator = torch.Generator().manual_seed(1)
    offsets = []
    for _ in range(3000):
        span = sampler(0.0, 10.0, 0, generator)
        audio_centre = span.audio.start + 1.0
        video_centre = span.video_times[0] + 0.25
        offsets.append(video_centre - audio_centre)
        assert span.audio.start <= span.video_times[0] and span.video_times[0] + 0.5 <= span.audio.start + 2.0 + 1e-9
    offsets = torch.tensor(offsets)
    assert offsets.abs().max() <= 0.5 + 1e-9 and offsets.min() < -0.45 and offsets.max() > 0.45
    assert abs(float(offsets.mean())) < 0.02


def test_video_is_clamped_inside_the_data_when_the_window_touches_an_edge():
    sampler = AVClipSampler(UniformClipSampler(2.0, 1), video_fps=16.0, video_frames=8, max_misalignment=0.5)
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        span = sampler(3.0, 2.0, 0, generator)  # window == whole video
        assert 3.0 <= span.video_times[0] and span.video_times[-1] + 1 / 16 <= 5.0 + 1e-9


def test_seeded_generator_reproduces_spans():
    sampler = AVClipSampler(RandomClipSampler(2.0), 16.0, 8, 0.5)
    a = sampler(0.0, 9.0, 0, torch.Generator().manual_seed(5))
    b = sampler(0.0, 9.0, 0, torch.Generator().manual_seed(5))
    assert a == b
