"""The built-in demo dataset: layout, decodability, the DTMF soundtrack and its timing, determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from avssl.data.demo_data import (
    DEMO_CLASSES,
    DTMF_FREQUENCIES,
    MAX_BOUNCE_GAP_S,
    demo_video_spec,
    digit_image_pool,
    digit_trajectory,
    make_demo_dataset,
    spec_trajectory,
)

SECONDS, SIZE, FPS, RATE = 2.5, 48, 16, 24000


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("demo")
    return make_demo_dataset(root, 1, 1, seconds=SECONDS, size=SIZE, fps=FPS, seed=0, progress=False)


def record_of(summary: dict, split: str, label: str) -> dict:
    return next(r for r in summary["videos"] if r["split"] == split and r["label"] == label)


def decode(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    with av.open(str(path)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    with av.open(str(path)) as container:
        audio = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    return frames, audio


def file_hashes(root: str | Path) -> dict[str, str]:
    root = Path(root)
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.mp4"))}


def test_writes_one_folder_per_class_in_each_split_with_the_requested_counts(demo):
    root = Path(demo["root"])
    assert DEMO_CLASSES == tuple(f"digit_{d}" for d in range(10))
    assert demo["counts"] == {"train": 10, "test": 10}
    for split in ("train", "test"):
        assert sorted(p.name for p in (root / split).iterdir()) == sorted(DEMO_CLASSES)
        for label in DEMO_CLASSES:
            assert len(list((root / split / label).glob("*.mp4"))) == 1
    assert sorted(r["path"] for r in demo["videos"]) == sorted(str(p) for p in root.rglob("*.mp4"))
    assert not list(root.rglob("*.tmp*")), "atomic writes leave no temporary files behind"


def test_video_decodes_to_the_requested_size_rate_and_duration(demo):
    path = record_of(demo, "test", "digit_7")["path"]
    with av.open(path) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.average_rate) == ("h264", FPS)
        assert (audio.codec_context.name, audio.rate, audio.channels) == ("aac", RATE, 1)
        assert container.duration / 1e6 == pytest.approx(SECONDS, abs=0.05)
    frames, samples = decode(path)
    assert frames.shape == (round(SECONDS * FPS), SIZE, SIZE, 3)
    assert samples.shape[1] / RATE == pytest.approx(SECONDS, abs=0.05)


@pytest.mark.parametrize("label", ["digit_1", "digit_5", "digit_0", "digit_9"])
def test_audio_spectrum_peaks_at_the_class_dtmf_pair(demo, label):
    _, samples = decode(record_of(demo, "train", label)["path"])
    wave = samples[0] * np.hanning(samples.shape[1])
    spectrum = np.abs(np.fft.rfft(wave))
    freqs = np.fft.rfftfreq(len(wave), 1 / RATE)
    first = freqs[np.argmax(spectrum)]
    spectrum[np.abs(freqs - first) < 0.05 * first] = 0
    second = freqs[np.argmax(spectrum)]
    expected = DTMF_FREQUENCIES[int(label.removeprefix("digit_"))]
    for found, want in zip(sorted([first, second]), expected):
        assert abs(found - want) <= 0.03 * want, f"{label}: peaks {first:.0f}, {second:.0f} Hz vs {expected}"


def rms_envelope(samples: np.ndarray, window_s: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    hop = round(window_s * RATE)
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    return np.arange(len(frames)) * window_s, np.sqrt((frames**2).mean(axis=1))


@pytest.mark.parametrize("label", ["digit_2", "digit_8"])
def test_tone_bursts_start_at_the_bounces(demo, label):
    record = record_of(demo, "test", label)
    spec = demo_video_spec(0, "test", int(label.removeprefix("digit_")), 0, SIZE)
    bounces = spec_trajectory(spec, SECONDS, SIZE, FPS).bounce_times
    np.testing.assert_allclose(bounces, record["bounce_times"])
    assert len(bounces) >= 1
    times, envelope = rms_envelope(decode(record["path"])[1][0])
    loud = np.percentile(envelope, 99)
    for bounce in bounces[bounces < SECONDS - 0.05]:
        after = envelope[(times >= bounce) & (times < bounce + 0.05)]
        assert after.max() > 0.5 * loud, f"no burst within 50 ms after the bounce at {bounce:.3f} s"
    # Away from every burst only the quiet hum and noise remain.
    burst_end = spec.burst_seconds + 0.03
    quiet = np.all((times[:, None] < bounces - 0.03) | (times[:, None] > bounces + burst_end), axis=1)
    assert quiet.any()
    assert envelope[quiet].max() < 0.35 * loud


def test_every_two_second_window_starts_a_burst():
    for size in (48, 64):
        for index in range(40):
            spec = demo_video_spec(3, "train", index % 10, index, size)
            bounces = spec_trajectory(spec, 4.0, size, FPS).bounce_times
            gaps = np.diff(np.concatenate([[0.0], bounces, [4.0]]))
            assert gaps.max() <= MAX_BOUNCE_GAP_S + 1e-9, (size, index, bounces)


def test_digit_trajectory_reflects_off_the_walls():
    trajectory = digit_trajectory(start=(0.0, 5.0), velocity=(10.0, 0.0), room=(10.0, 10.0), n_frames=30, fps=10)
    expected_y = np.concatenate([np.arange(0, 11), np.arange(9, -1, -1), np.arange(1, 10)])
    np.testing.assert_allclose(trajectory.positions[:, 0], expected_y, atol=1e-9)
    np.testing.assert_allclose(trajectory.positions[:, 1], 5.0)
    np.testing.assert_allclose(trajectory.bounce_times, [1.0, 2.0])


def test_digit_trajectory_stays_inside_the_room_and_bounces_on_both_axes():
    trajectory = digit_trajectory(start=(3.0, 7.0), velocity=(-13.0, 29.0), room=(20.0, 30.0), n_frames=64, fps=16)
    assert (trajectory.positions >= 0).all()
    assert (trajectory.positions <= [20.0, 30.0]).all()
    # Over 4 s: y hits a wall every 20/13 s from 3/13 s, x every 30/29 s from 23/29 s.
    y_bounces = [(3 + 20 * k) / 13 for k in range(3)]
    x_bounces = [(23 + 30 * k) / 29 for k in range(4)]
    np.testing.assert_allclose(trajectory.bounce_times, sorted(y_bounces + x_bounces))


def test_train_and_test_use_disjoint_digit_images(demo):
    for digit in range(10):
        train, test = set(digit_image_pool(digit, "train")), set(digit_image_pool(digit, "test"))
        assert train and test and not train & test
    by_split = {r["split"]: r["image_index"] for r in demo["videos"] if r["label"] == "digit_3"}
    assert by_split["train"] in digit_image_pool(3, "train")
    assert by_split["test"] in digit_image_pool(3, "test")
    spec_images = {demo_video_spec(0, "train", 3, i).image_index for i in range(20)}
    assert len(spec_images) == 20, "videos of one class use different images"


def test_same_seed_writes_identical_files_in_worker_processes(demo, tmp_path):
    # x264 output is only reproducible with mbtree off (see X264_OPTIONS); this pins that choice.
    again = make_demo_dataset(tmp_path / "again", 1, 1, seconds=SECONDS, size=SIZE, fps=FPS, seed=0,
                              workers=2, progress=False)
    assert [r["bounce_times"] for r in again["videos"]] == [r["bounce_times"] for r in demo["videos"]]
    assert file_hashes(again["root"]) == file_hashes(demo["root"])


def test_different_seed_changes_pictures_and_sound(demo, tmp_path):
    other = make_demo_dataset(tmp_path / "other", 1, 0, seconds=SECONDS, size=SIZE, fps=FPS, seed=1,
                              progress=False)
    ours_frames, ours_audio = decode(record_of(demo, "train", "digit_4")["path"])
    theirs_frames, theirs_audio = decode(record_of(other, "train", "digit_4")["path"])
    assert np.abs(ours_frames.astype(int) - theirs_frames).mean() > 5
    n = min(ours_audio.shape[1], theirs_audio.shape[1])
    assert not np.allclose(ours_audio[:, :n], theirs_audio[:, :n], atol=1e-3)
