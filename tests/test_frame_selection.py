"""The shared frame-selection rule, against a brute-force statement of it (property-based)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avssl.data.decoders.base import TIMESTAMP_EPSILON, DecodeError, frame_indices_at


def _brute_force(frame_times: list[float], t: float) -> int:
    """The frame on screen at t: the last one that started at or before t (within tolerance)."""
    return max(i for i, start in enumerate(frame_times) if start <= t + TIMESTAMP_EPSILON)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.floats(min_value=0.005, max_value=0.2), min_size=2, max_size=40),
    start=st.floats(min_value=0.0, max_value=5.0),
    fractions=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=16),
)
def test_picks_the_frame_on_screen_for_variable_frame_rates(steps, start, fractions):
    frame_times = [start]
    for step in steps:
        frame_times.append(frame_times[-1] + step)
    span = frame_times[-1] - frame_times[0]
    times = sorted(frame_times[0] + f * span for f in fractions)
    assert frame_indices_at(frame_times, times, "x.mp4") == [_brute_force(frame_times, t) for t in times]


def test_a_time_before_the_first_frame_or_past_the_data_is_an_error():
    frame_times = [1.0, 1.04, 1.08]
    with pytest.raises(DecodeError, match="first decoded frame is at 1.000"):
        frame_indices_at(frame_times, [0.9], "x.mp4")
    assert frame_indices_at(frame_times, [1.11], "x.mp4") == [2]  # inside the last frame's interval
    with pytest.raises(DecodeError, match="video data ends at 1.120"):
        frame_indices_at(frame_times, [1.2], "x.mp4")
