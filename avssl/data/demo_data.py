"""A built-in demo dataset: bouncing handwritten digits that beep their telephone key.

`make_demo_dataset` writes `out_dir/{train,test}/digit_<d>/<name>.mp4`, small h264 + AAC files
(64×64 at 16 fps, 24 kHz mono by default) that run through the whole pipeline in minutes on a
laptop, with no download: the digit images are scikit-learn's bundled `load_digits` (1797 8×8
greyscale scans, ~180 per digit).

Why AVID can learn from it. AVID (and CMA) ask a video clip and an audio clip to recognise each
other among other clips. Here the two modalities share two things a network can pick up:

* the class: a video of digit d only ever contains the tone pair of d's telephone key (DTMF,
  e.g. 5 = 770 + 1336 Hz), so the audio network must learn to tell the ten tone pairs apart and
  the video network to tell the ten digit shapes apart, which is what a linear probe then tests;
* the timing: a short tone burst starts at every bounce of the digit off a wall, so within a
  class a clip's audio also matches the motion of its own video and not that of another video,
  which gives instance discrimination something to do beyond the class.

Nuisances keep the task from being trivial: each video uses a different digit image (train and
test draw from disjoint image sets), a random position, velocity and mild colour tint over a noisy
background, and its sound has a slow ±2 % pitch drift, a quiet continuous hum of the same pair,
white noise, and a loudness between -30 and -12 dBFS. Every random choice comes from a numpy
Generator seeded with (seed, split, digit, index), so two calls write the same files.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

from avssl.data.media_writer import AudioEncoding, VideoEncoding, open_media_writer

DEMO_CLASSES: tuple[str, ...] = tuple(f"digit_{d}" for d in range(10))
SPLITS: tuple[str, ...] = ("train", "test")

# Telephone keypad (ITU-T Q.23): row frequency + column frequency, in Hz.
DTMF_FREQUENCIES: dict[int, tuple[float, float]] = {
    1: (697.0, 1209.0), 2: (697.0, 1336.0), 3: (697.0, 1477.0),
    4: (770.0, 1209.0), 5: (770.0, 1336.0), 6: (770.0, 1477.0),
    7: (852.0, 1209.0), 8: (852.0, 1336.0), 9: (852.0, 1477.0),
    0: (941.0, 1336.0),
}

# Every 2-s window must hold a burst start (AVID's default audio clip is 2 s): one axis bounces at
# least every MAX_BOUNCE_GAP_S seconds, which also bounds the wait for the first bounce.
MAX_BOUNCE_GAP_S = 1.5
MIN_BOUNCE_GAP_S = 0.6  # keeps the fast axis under ~4 px per frame at 64×64, 16 fps
BURST_SECONDS = (0.12, 0.2)
BURST_ATTACK_S = 0.008  # fast enough that the envelope is up well inside 50 ms of the bounce
BURST_RELEASE_S = 0.04
HUM_LEVEL = 0.12  # continuous hum, relative to the burst amplitude
LOUDNESS_DBFS = (-30.0, -12.0)  # peak of a burst
SNR_DB = (15.0, 30.0)  # burst RMS over white-noise RMS
PITCH_DRIFT = 0.02
# x264's macroblock-tree rate control made repeated encodes of the same tiny (48×48, 64×64) frames
# differ now and then (decoded pixels by up to ~20 levels; 8 distinct files in 25 encodes, with or
# without threads); with it off, 100+ encodes per video were byte-identical. Costs a little quality
# at equal CRF, nothing that matters here.
X264_OPTIONS = {"crf": "23", "preset": "veryfast", "x264-params": "no-mbtree=1"}
TEST_IMAGE_EVERY = 4  # every 4th scan of a digit is a test image: ~135 train / ~45 test per digit


class DigitTrajectory(NamedTuple):
    """Top-left corner (y, x) of the digit in each frame, in pixels, and the times (s) at which it
    bounced off a wall, sorted."""

    positions: np.ndarray  # (n_frames, 2) float
    bounce_times: np.ndarray  # (n_bounces,) float


def digit_trajectory(
    start: tuple[float, float],
    velocity: tuple[float, float],
    room: tuple[float, float],
    n_frames: int,
    fps: float,
) -> DigitTrajectory:
    """Straight-line motion reflected off the walls of a box `room` = (height, width) of free
    travel (frame size minus sprite size), from `start` (y, x) at `velocity` (px/s).

    Computed in closed form: the unreflected coordinate p0 + v·t folds onto [0, L] as a triangle
    wave of period 2L, and a bounce is each time it crosses a multiple of L. Bounces of the two
    axes closer than 10 ms (a corner) count once.
    """
    seconds = n_frames / fps
    times = np.arange(n_frames) / fps
    positions = np.empty((n_frames, 2))
    bounces: list[float] = []
    for axis in range(2):
        p0, v, length = float(start[axis]), float(velocity[axis]), float(room[axis])
        if length <= 0:
            positions[:, axis] = 0.0
            continue
        unfolded = p0 + v * times
        phase = np.mod(unfolded, 2 * length)
        positions[:, axis] = np.where(phase <= length, phase, 2 * length - phase)
        if v == 0:
            continue
        end = p0 + v * seconds
        lo, hi = min(p0, end), max(p0, end)
        first, last = int(np.floor(lo / length)) + 1, int(np.ceil(hi / length)) - 1
        bounces.extend((k * length - p0) / v for k in range(first, last + 1))
    merged: list[float] = []
    for t in sorted(t for t in bounces if 0.0 < t < seconds):
        if not merged or t - merged[-1] > 0.01:
            merged.append(t)
    return DigitTrajectory(positions, np.asarray(merged, dtype=np.float64))


@dataclass(frozen=True)
class DemoVideoSpec:
    """Everything random about one demo video, drawn from its own seed; rendering is then a pure
    function of the spec."""

    split: str
    digit: int
    index: int
    image_index: int  # row of sklearn's load_digits
    start: tuple[float, float]
    velocity: tuple[float, float]
    tint: tuple[float, float, float]
    background_level: float
    burst_seconds: float
    loudness_dbfs: float
    snr_db: float
    drift_depth: float
    drift_hz: float
    drift_phase: float
    noise_seed: int

    @property
    def name(self) -> str:
        return f"{self.split}_digit{self.digit}_{self.index:04d}"


@functools.lru_cache(maxsize=1)
def _digit_images() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    digits = load_digits()
    return digits.images.astype(np.float32) / 16.0, digits.target.astype(np.int64)


def digit_image_pool(digit: int, split: str) -> np.ndarray:
    """Rows of `load_digits` that `split` may use for `digit`; train and test pools are disjoint
    and do not depend on the seed, so no image ever crosses splits."""
    _, targets = _digit_images()
    rows = np.flatnonzero(targets == digit)
    is_test = np.arange(len(rows)) % TEST_IMAGE_EVERY == TEST_IMAGE_EVERY - 1
    return rows[is_test] if split == "test" else rows[~is_test]


def sprite_scale(size: int) -> int:
    """Upscaling of the 8×8 scans: ×3 at 64×64, so the digit covers ~3/8 of the frame."""
    return max(1, round(size * 3 / 64))


def demo_video_spec(seed: int, split: str, digit: int, index: int, size: int = 64) -> DemoVideoSpec:
    """Draw the random choices of video `index` of `digit` in `split`. Depends on nothing else,
    so a worker process, a test or a second call reproduces it exactly."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rng = np.random.default_rng([seed, SPLITS.index(split), digit, index])
    # Every video of a class gets its own image while the pool lasts; the order depends on seed.
    pool = digit_image_pool(digit, split)
    order = np.random.default_rng([seed, SPLITS.index(split), digit, 10**6]).permutation(pool)
    image_index = int(order[index % len(order)])

    room = size - 8 * sprite_scale(size)
    fast_axis = int(rng.integers(2))
    speeds = np.empty(2)
    speeds[fast_axis] = rng.uniform(room / MAX_BOUNCE_GAP_S, room / MIN_BOUNCE_GAP_S)
    speeds[1 - fast_axis] = rng.uniform(room / 4.0, room / 1.0)
    velocity = speeds * rng.choice([-1.0, 1.0], size=2)
    return DemoVideoSpec(
        split=split, digit=digit, index=index, image_index=image_index,
        start=(float(rng.uniform(0, room)), float(rng.uniform(0, room))),
        velocity=(float(velocity[0]), float(velocity[1])),
        tint=tuple(float(c) for c in rng.uniform(0.7, 1.0, size=3)),
        background_level=float(rng.uniform(0.08, 0.25)),
        burst_seconds=float(rng.uniform(*BURST_SECONDS)),
        loudness_dbfs=float(rng.uniform(*LOUDNESS_DBFS)),
        snr_db=float(rng.uniform(*SNR_DB)),
        drift_depth=float(rng.uniform(-PITCH_DRIFT, PITCH_DRIFT)),
        drift_hz=float(rng.uniform(0.05, 0.3)),
        drift_phase=float(rng.uniform(0, 2 * np.pi)),
        noise_seed=int(rng.integers(2**31)),
    )


def spec_trajectory(spec: DemoVideoSpec, seconds: float, size: int, fps: float) -> DigitTrajectory:
    room = float(size - 8 * sprite_scale(size))
    return digit_trajectory(spec.start, spec.velocity, (room, room), round(seconds * fps), fps)


def render_frames(spec: DemoVideoSpec, trajectory: DigitTrajectory, size: int) -> np.ndarray:
    """(n_frames, size, size, 3) uint8: the tinted digit over a fixed noisy background plus a
    little per-frame sensor noise."""
    rng = np.random.default_rng(spec.noise_seed)
    images, _ = _digit_images()
    scale = sprite_scale(size)
    alpha = np.kron(images[spec.image_index], np.ones((scale, scale), dtype=np.float32))[..., None]
    tint = np.asarray(spec.tint, dtype=np.float32)
    background = spec.background_level + 0.06 * rng.standard_normal((size, size, 1), dtype=np.float32)
    background = background * (0.5 + 0.5 * tint)
    frames = np.empty((len(trajectory.positions), size, size, 3), dtype=np.uint8)
    side = alpha.shape[0]
    for i, (y, x) in enumerate(np.rint(trajectory.positions).astype(int)):
        frame = background + 0.02 * rng.standard_normal((size, size, 1), dtype=np.float32)
        patch = frame[y : y + side, x : x + side]
        frame[y : y + side, x : x + side] = patch * (1 - alpha) + tint * alpha
        frames[i] = np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return frames


def burst_envelope(bounce_times: np.ndarray, burst_seconds: float, n_samples: int, rate: int) -> np.ndarray:
    """1 during a burst that starts at each bounce, raised-cosine edges, HUM_LEVEL elsewhere."""
    envelope = np.zeros(n_samples)
    attack, release = round(BURST_ATTACK_S * rate), round(BURST_RELEASE_S * rate)
    length = max(round(burst_seconds * rate), attack + release)
    shape = np.ones(length)
    shape[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    shape[length - release :] = 0.5 + 0.5 * np.cos(np.pi * np.arange(1, release + 1) / release)
    for t in bounce_times:
        begin = round(t * rate)
        end = min(begin + length, n_samples)
        if begin < end:
            envelope[begin:end] = np.maximum(envelope[begin:end], shape[: end - begin])
    return np.maximum(envelope, HUM_LEVEL)


def render_audio(spec: DemoVideoSpec, trajectory: DigitTrajectory, seconds: float, rate: int) -> np.ndarray:
    """(1, samples) float32: the digit's DTMF pair, pulsed at the bounces, with drift and noise."""
    rng = np.random.default_rng([spec.noise_seed, 1])
    n = round(seconds * rate)
    t = np.arange(n) / rate
    drift = 1.0 + spec.drift_depth * np.sin(2 * np.pi * spec.drift_hz * t + spec.drift_phase)
    tone = np.zeros(n)
    for freq in DTMF_FREQUENCIES[spec.digit]:
        phase = 2 * np.pi * np.cumsum(freq * drift) / rate + rng.uniform(0, 2 * np.pi)
        tone += 0.5 * np.sin(phase)
    peak = 10.0 ** (spec.loudness_dbfs / 20.0)
    signal = peak * tone * burst_envelope(trajectory.bounce_times, spec.burst_seconds, n, rate)
    burst_rms = peak * 0.5  # two unit sines halved: RMS 0.5 at envelope 1
    noise = burst_rms * 10.0 ** (-spec.snr_db / 20.0) * rng.standard_normal(n)
    return (signal + noise)[None, :].astype(np.float32)


def write_demo_video(
    path: str | Path,
    spec: DemoVideoSpec,
    seconds: float = 4.0,
    size: int = 64,
    fps: float = 16.0,
    audio_rate: int = 24000,
) -> DigitTrajectory:
    """Render and encode one demo video (atomically); returns its trajectory."""
    trajectory = spec_trajectory(spec, seconds, size, fps)
    frames = render_frames(spec, trajectory, size)
    audio = render_audio(spec, trajectory, seconds, audio_rate)
    video = VideoEncoding(fps=fps, gop_seconds=1.0, options=X264_OPTIONS)
    with open_media_writer(path, (size, size), video, AudioEncoding(rate=audio_rate, layout="mono")) as writer:
        for frame in frames:
            writer.write_frame(frame)
        writer.write_audio(audio)
    return trajectory


def _write_job(job: tuple) -> dict:
    path, spec, seconds, size, fps, audio_rate = job
    trajectory = write_demo_video(path, spec, seconds, size, fps, audio_rate)
    return {
        "path": str(path), "split": spec.split, "label": DEMO_CLASSES[spec.digit],
        "image_index": spec.image_index, "bounce_times": trajectory.bounce_times.tolist(),
    }


def make_demo_dataset(
    out_dir: str | Path,
    videos_per_class_train: int = 60,
    videos_per_class_test: int = 20,
    seconds: float = 4.0,
    size: int = 64,
    fps: float = 16.0,
    audio_rate: int = 24000,
    seed: int = 0,
    workers: int = 0,
    progress: bool = True,
) -> dict:
    """Write the demo dataset under `out_dir` (see the module docstring) and return a summary:
    `counts` per split, `root`, and one record per video (`path`, `split`, `label`,
    `image_index`, `bounce_times`) in a fixed order. `workers` > 0 encodes in that many
    processes; the files are the same either way."""
    if seconds < 2.0:
        raise ValueError(f"seconds={seconds}: demo videos need at least 2 s to hold a full audio clip")
    if size < 8 * sprite_scale(size) + 8:
        raise ValueError(f"size={size} leaves the digit no room to move; use size >= 24")
    root = Path(out_dir)
    per_split = {"train": videos_per_class_train, "test": videos_per_class_test}
    jobs = []
    for split in SPLITS:
        for digit, label in enumerate(DEMO_CLASSES):
            for index in range(per_split[split]):
                spec = demo_video_spec(seed, split, digit, index, size)
                path = root / split / label / f"{spec.name}.mp4"
                jobs.append((path, spec, seconds, size, fps, audio_rate))

    records: list[dict | None] = [None] * len(jobs)
    bar = tqdm(total=len(jobs), desc="demo videos", unit="video", disable=not progress)
    if workers > 0:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_write_job, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                records[futures[future]] = future.result()
                bar.update()
    else:
        for i, job in enumerate(jobs):
            records[i] = _write_job(job)
            bar.update()
    bar.close()
    return {
        "root": str(root),
        "classes": list(DEMO_CLASSES),
        "counts": {split: per_split[split] * len(DEMO_CLASSES) for split in SPLITS},
        "seconds": seconds, "size": size, "fps": fps, "audio_rate": audio_rate, "seed": seed,
        "videos": records,
    }


def main() -> None:  # pragma: no cover - convenience entry point: python -m avssl.data.demo_data OUT
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--train", type=int, default=60)
    parser.add_argument("--test", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    args = parser.parse_args()
    summary = make_demo_dataset(args.out_dir, args.train, args.test, seed=args.seed, workers=args.workers)
    print(f"wrote {summary['counts']} videos under {summary['root']}")


if __name__ == "__main__":
    main()
