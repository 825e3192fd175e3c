"""Small real media files for tests, written with PyAV through avssl's own MediaWriter.

Frames carry their index as a uniform gray level (index × 8 mod 256), so a test can tell which
source frame a decoder returned even through a lossy codec (uniform blocks survive h264 ±2).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from avssl.data.media_writer import AudioEncoding, VideoEncoding, open_media_writer

LOSSLESS_VIDEO = VideoEncoding(codec="libx264rgb", pix_fmt="rgb24", options={"crf": "0", "preset": "ultrafast"})
SMALL_H264 = VideoEncoding(codec="libx264", fps=25.0, options={"crf": "28", "preset": "ultrafast"})
GRAY_STEP = 8


def gray_frame(index: int, size: tuple[int, int]) -> np.ndarray:
    return np.full((*size, 3), (index * GRAY_STEP) % 256, dtype=np.uint8)


def frame_index_of(frame: np.ndarray) -> int:
    """Inverse of gray_frame for indices < 32 (gray levels wrap at 256)."""
    return round(float(np.asarray(frame, dtype=np.float64).mean()) / GRAY_STEP)


def tone(seconds: float, rate: int, channels: int = 1, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    return np.stack([wave * (1.0 - 0.1 * c) for c in range(channels)]).astype(np.float32)


def write_video(
    path: str | Path,
    seconds: float = 3.0,
    fps: float = 25.0,
    size: tuple[int, int] = (72, 90),
    audio: str | None = "tone",
    video: bool = True,
    audio_rate: int = 44100,
    layout: str = "stereo",
    video_encoding: VideoEncoding = SMALL_H264,
    audio_codec: str = "aac",
    container_format: str | None = None,
    noise_seed: int | None = None,
) -> Path:
    """A file with `seconds` of gray-index frames and a tone ('tone'), zeros ('silent') or no audio (None)."""
    path = Path(path)
    channels = {"mono": 1, "stereo": 2, "5.1": 6}[layout]
    audio_encoding = AudioEncoding(codec=audio_codec, rate=audio_rate, layout=layout) if audio else None
    encoding = VideoEncoding(**{**video_encoding.__dict__, "fps": fps}) if video else None
    rng = np.random.default_rng(noise_seed) if noise_seed is not None else None
    with open_media_writer(path, size if video else None, encoding, audio_encoding, container_format) as writer:
        if video:
            for i in range(round(seconds * fps)):
                frame = gray_frame(i, size)
                if rng is not None:
                    frame = rng.integers(0, 256, frame.shape, dtype=np.uint8)
                writer.write_frame(frame)
        if audio == "tone":
            writer.write_audio(tone(seconds, audio_rate, channels))
        elif audio == "silent":
            writer.write_audio(np.zeros((channels, int(seconds * audio_rate)), dtype=np.float32))
    return path


def write_frames_at(
    path: str | Path,
    pts_ms: list[int],
    frame_for_index=gray_frame,
    size: tuple[int, int] = (72, 90),
    video_encoding: VideoEncoding = LOSSLESS_VIDEO,
    audio: tuple[AudioEncoding, np.ndarray, float] | None = None,
    container_format: str | None = None,
) -> list[float]:
    """Frame i shown from pts_ms[i] milliseconds (variable frame rate, late video starts), with
    optional audio `(encoding, (channels, samples) float array, start in s)`; returns frame times."""
    encoding = VideoEncoding(**{**video_encoding.__dict__, "fps": 25.0, "time_base": Fraction(1, 1000)})
    audio_encoding = audio[0] if audio is not None else None
    with open_media_writer(path, size, encoding, audio_encoding, container_format) as writer:
        for i, pts in enumerate(pts_ms):
            writer.write_frame(frame_for_index(i, size), time=pts / 1000)
        if audio is not None:
            writer.write_audio(audio[1], start=audio[2])
    return [p / 1000 for p in pts_ms]


def write_broken_set(folder: str | Path, seconds: float = 3.0) -> dict[str, str]:
    """A folder mixing good and broken videos in `class/file` layout: {rel_path: expected reason
    prefix, or '' for a file that must be accepted}."""
    folder = Path(folder)
    expected: dict[str, str] = {}

    def add(rel: str, reason: str, **kwargs) -> Path:
        expected[rel] = reason
        return write_video(folder / rel, seconds=seconds, **kwargs)

    add("cats/good_a.mp4", "")
    add("cats/good_b.mkv", "", audio_codec="flac", container_format="matroska", layout="5.1", fps=30000 / 1001)
    add("dogs/good_c.mp4", "", audio_rate=24000, layout="mono")
    add("dogs/good_wrong_ext.avi", "", container_format="mp4")  # an mp4 named .avi: content decides
    add("dogs/no_audio.mp4", "no audio stream", audio=None)
    add("dogs/silent.mp4", "silent audio", audio="silent")
    add("dogs/too_short.mp4", "too short")
    write_video(folder / "dogs/too_short.mp4", seconds=0.4)
    audio_only = folder / "birds/audio_only.m4a.mp4"
    write_video(audio_only, video=False)
    expected["birds/audio_only.m4a.mp4"] = "no video stream"
    good = add("birds/to_truncate.mp4", "truncated")
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    (folder / "birds/zero.mp4").write_bytes(b"")
    expected["birds/zero.mp4"] = "empty file"
    (folder / "birds/not_video.mp4").write_bytes(b"this is a text file, not a video\n" * 20)
    expected["birds/not_video.mp4"] = "not a media file"
    corrupt = add("birds/corrupt_middle.mp4", "corrupt data", noise_seed=0)
    data = bytearray(corrupt.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    corrupt.write_bytes(bytes(data))
    (folder / "birds/notes.txt").write_text("not a video extension: ignored\n")
    return expected
