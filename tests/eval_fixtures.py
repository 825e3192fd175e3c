"""Labelled evaluation data and checkpoints for the eval tests, each built once per test session.

- `ucf_fixture`: a tiny set in the official UCF-101 layout (`UCF-101/<Class>/v_<Class>_gXX_c01.avi`,
  MPEG-4 video + MP3 audio like the originals, and `ucfTrainTestlist/` with classInd.txt,
  trainlist01.txt, testlist01.txt); frames and tones differ by class; groups 1-3 train, 4 test.
- `esc50_fixture`: 16-bit PCM .wav recordings and `meta/esc50.csv` with five folds.
- `tiny_checkpoint`: a tiny AVID run trained for a few steps on the UCF fixture's videos.

Written with PyAV through avssl's MediaWriter (real files, real decoders). Builders cache their
output under pytest's session folder, so every test module that asks shares one copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from train_helpers import tiny_train_config

from avssl.data.media_writer import AudioEncoding, VideoEncoding, open_media_writer
from avssl.data.prepare import prepare

UCF_CLASSES = ("ApplyEyeMakeup", "Basketball", "Drumming")
UCF_GROUPS = (1, 2, 3, 4)  # v_<Class>_g0N_c01.avi; group 4 is the test group
ESC_CLASSES = ((0, "dog"), (1, "rooster"), (2, "pig"))  # (target, category) as in the official csv
ESC_FOLDS = (1, 2, 3, 4, 5)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SECONDS = 2.5  # longer than the 2-s audio window every clip reads
SIZE = (48, 64)  # (height, width)
AUDIO_RATE = 44100
CLASS_COLOURS = ((220, 60, 60), (60, 200, 60), (70, 90, 230))
CLASS_TONES = (330.0, 880.0, 2200.0)  # Hz

# What the tiny checkpoint needs from any eval config: overrides are only needed for eval.* keys.
UCF_OVERRIDES = ("eval.dataset.kind=ucf101", "eval.dataset.folds=[1]", "eval.dataset.workers=0",
                 "eval.features.clips_per_video=2", "eval.features.num_workers=0", "eval.features.batch_size=4",
                 "eval.progress=false")


def session_folder(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """`build(folder)` once per session (in pytest's base temp folder); later calls reuse it."""
    folder = tmp_path_factory.getbasetemp() / name
    if not (folder / ".complete").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        build(folder)
        (folder / ".complete").touch()
    return folder


def class_frames(label: int, variant: int, count: int) -> list[np.ndarray]:
    """A class-coloured background with a white square moving in a class-specific direction."""
    rng = np.random.default_rng(100 * label + variant)
    height, width = SIZE
    frames = []
    for i in range(count):
        frame = np.empty((height, width, 3), dtype=np.uint8)
        frame[:] = CLASS_COLOURS[label]
        frame = np.clip(frame.astype(np.int16) + rng.integers(-12, 13, frame.shape), 0, 255).astype(np.uint8)
        dy, dx = [(0, 1), (1, 0), (1, 1)][label]
        y, x = (5 + dy * i) % (height - 12), (5 + dx * i + 3 * variant) % (width - 12)
        frame[y:y + 12, x:x + 12] = 255
        frames.append(frame)
    return frames


def class_tone(label: int, variant: int, seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    wave = 0.4 * np.sin(2 * np.pi * CLASS_TONES[label] * (1 + 0.02 * variant) * t)
    return np.repeat(wave[None].astype(np.float32), channels, axis=0)


def write_ucf_video(path: Path, label: int, variant: int, fps: float = 25.0) -> None:
    video = VideoEncoding(codec="mpeg4", fps=fps, options={})
    audio = AudioEncoding(codec="libmp3lame", rate=AUDIO_RATE, layout="stereo")
    with open_media_writer(path, SIZE, video, audio) as writer:
        for frame in class_frames(label, variant, round(SECONDS * fps)):
            writer.write_frame(frame)
        writer.write_audio(class_tone(label, variant, SECONDS, AUDIO_RATE, 2))


def build_ucf(folder: Path) -> None:
    """`folder`/UCF-101/... and `folder`/ucfTrainTestlist/... (see the module docstring)."""
    lists = folder / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {name}\n" for i, name in enumerate(UCF_CLASSES)))
    train, test = [], []
    for label, name in enumerate(UCF_CLASSES):
        for group in UCF_GROUPS:
            relative = f"{name}/v_{name}_g{group:02d}_c01.avi"
            write_ucf_video(folder / "UCF-101" / relative, label, group)
            if group == UCF_GROUPS[-1]:  # official lists: CRLF line endings, a 1-based label in trainlist only
                test.append(f"{relative}\r\n")
            else:
                train.append(f"{relative} {label + 1}\r\n")
    (lists / "trainlist01.txt").write_text("".join(train), newline="")
    (lists / "testlist01.txt").write_text("".join(test), newline="")


def build_esc50(folder: Path, rate: int = AUDIO_RATE) -> None:
    """`folder`/audio/<fold>-<source>-A-<target>.wav and `folder`/meta/esc50.csv, one clip per class and fold."""
    (folder / "meta").mkdir()
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    for fold in ESC_FOLDS:
        for target, category in ESC_CLASSES:
            source = 1000 * fold + target
            name = f"{fold}-{source}-A-{target}.wav"
            with open_media_writer(folder / "audio" / name, None, None,
                                   AudioEncoding(codec="pcm_s16le", rate=rate, layout="mono")) as writer:
                writer.write_audio(class_tone(target, fold, SECONDS, rate, 1))
            rows.append(f"{name},{fold},{target},{category},{'True' if target == 0 else 'False'},{source},A")
    (folder / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")


def build_tiny_checkpoint(folder: Path, ucf: Path) -> None:
    """A tiny AVID model trained for 3 steps (12 videos, 1 clip each, batch 4) on the UCF fixture."""
    from avssl.train.run_training import train

    prepare(ucf / "UCF-101", folder / "manifest", workers=0, progress=False)
    train(tiny_train_config(folder / "manifest", folder, "tiny", "train.max_epochs=1",
                            "data.clip.clips_per_video=1", "data.num_workers=0"))


def ucf_folder(tmp_path_factory) -> Path:
    return session_folder(tmp_path_factory, "eval_ucf101", build_ucf)


def tiny_checkpoint(tmp_path_factory) -> Path:
    """`last.ckpt` of the tiny AVID run on the UCF fixture (built on first use)."""
    ucf = ucf_folder(tmp_path_factory)
    folder = session_folder(tmp_path_factory, "eval_tiny_checkpoint", lambda f: build_tiny_checkpoint(f, ucf))
    return folder / "tiny" / "checkpoints" / "last.ckpt"


def ucf_overrides(ucf: Path, prepared: Path, *extra: str) -> list[str]:
    """Overrides that point an evaluation at the UCF fixture (prepared manifests shared via `prepared`)."""
    return [*UCF_OVERRIDES, f"eval.dataset.root={ucf / 'UCF-101'}", f"eval.dataset.splits={ucf / 'ucfTrainTestlist'}",
            f"eval.dataset.prepared_dir={prepared}", *extra]
