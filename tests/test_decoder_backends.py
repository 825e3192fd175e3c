"""Every decoder back-end returns what the PyAV reference returns, and what the file holds.

Frames carry their own index in their colour (red = index mod 30, green = index // 30, in steps
of 7), so the frame a decoder returned is read back exactly, even through lossy h264. Expected
indices are computed here from the pts the file was written with, so a bug shared by PyAV and
another back-end still fails.
"""

from __future__ import annotations

import bisect
import pickle
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from media_factory import write_frames_at

from avssl.data.decoders import TIMESTAMP_EPSILON, DecodeError, create_decoder
from avssl.data.media_writer import AudioEncoding, VideoEncoding, open_media_writer

BACKENDS = ["pyav", "decord", "torchcodec"]
SIZE = (48, 64)  # (height, width)
LOSSLESS = VideoEncoding(codec="libx264rgb", pix_fmt="rgb24", options={"crf": "0", "preset": "ultrafast"})
LEVEL_STEP = 7


# --- media written for the tests ----------------------------------------------------------
def index_color(index: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    frame = np.empty((*size, 3), dtype=np.uint8)
    frame[...] = (20 + LEVEL_STEP * (index % 30), 20 + LEVEL_STEP * (index // 30), 128)
    return frame


def indices_of(frames: torch.Tensor) -> list[int]:
    """Inverse of index_color for (T, H, W, 3) frames."""
    mean = frames.double().mean(dim=(1, 2))
    low = torch.round((mean[:, 0] - 20) / LEVEL_STEP)
    high = torch.round((mean[:, 1] - 20) / LEVEL_STEP)
    return (low + 30 * high).long().tolist()


def write_cfr(path: Path, fps: float, seconds: float, audio: AudioEncoding | None = None) -> list[float]:
    """Constant frame rate through avssl's own MediaWriter; returns the frames' pts in seconds."""
    count = round(seconds * fps)
    with open_media_writer(path, SIZE, VideoEncoding(**{**LOSSLESS.__dict__, "fps": fps}), audio) as writer:
        for i in range(count):
            writer.write_frame(index_color(i))
        if audio is not None:
            writer.write_audio(channel_tones(seconds, audio.rate, CHANNELS[audio.layout]))
    rate = Fraction(fps).limit_denominator(1001)
    return [float(i / rate) for i in range(count)]


def write_at_pts(
    path: Path,
    pts_ms: list[int],
    encoding: VideoEncoding = LOSSLESS,
    audio_seconds: float | None = None,
    size: tuple[int, int] = SIZE,
) -> list[float]:
    """Frames at arbitrary millisecond pts (variable frame rate, a late video start); optional
    48 kHz stereo AAC from 0 s so the video start is not the container's start."""
    audio = None
    if audio_seconds is not None:
        audio = (AudioEncoding(codec="aac", rate=48000, layout="stereo"), channel_tones(audio_seconds, 48000, 2), 0.0)
    return write_frames_at(path, pts_ms, frame_for_index=index_color, size=size, video_encoding=encoding, audio=audio)


CHANNELS = {"mono": 1, "stereo": 2, "5.1": 6}


def channel_tones(seconds: float, rate: int, channels: int) -> np.ndarray:
    """A different sine per channel, so a channel mix-up changes the down-mix."""
    t = np.arange(round(seconds * rate)) / rate
    return np.stack([0.4 * np.sin(2 * np.pi * (220.0 + 110.0 * c) * t) for c in range(channels)]).astype(np.float32)


def expected_indices(frame_times: list[float], times: list[float]) -> list[int]:
    """The specification: the last frame whose pts ≤ t (within TIMESTAMP_EPSILON)."""
    return [bisect.bisect_right(frame_times, t + TIMESTAMP_EPSILON) - 1 for t in times]


def sampled_times(frame_times: list[float], fps: float = 16.0) -> list[float]:
    """Times at `fps` from several clip starts, on and off the source's frame boundaries.

    A time exactly TIMESTAMP_EPSILON before a frame is a tie that the last bit of float
    rounding decides (16 fps from 30000/1001 fps hits one at 0.5 s: frame 15 is at 0.5005 s);
    such times are left out.
    """
    first, end = frame_times[0], frame_times[-1] + (frame_times[-1] - frame_times[-2])
    times: list[float] = []
    for offset in (0.0, 0.013, 0.04, 1 / 30, 0.5):
        start = first + offset
        times += [start + k / fps for k in range(int((end - start) * fps))]
    pts = np.asarray(frame_times)
    return [t for t in times if np.abs(t + TIMESTAMP_EPSILON - pts).min() > 1e-9]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, tuple[Path, list[float]]]:
    """name -> (path, pts of its frames in seconds)."""
    folder = tmp_path_factory.mktemp("decoder_backends")
    rng = np.random.default_rng(0)
    steps = rng.choice([17, 33, 40, 41, 67, 100, 250], size=70)  # includes a 250 ms gap
    vfr_pts = [0, *np.cumsum(steps)[:-1].tolist()]
    files = {
        "cfr_25": (folder / "cfr_25.mp4", write_cfr(folder / "cfr_25.mp4", 25.0, 3.0)),
        "cfr_ntsc": (folder / "cfr_ntsc.mp4", write_cfr(folder / "cfr_ntsc.mp4", 30000 / 1001, 3.0)),
        "vfr": (folder / "vfr.mp4", write_at_pts(folder / "vfr.mp4", vfr_pts)),
        "offset_mp4": (
            folder / "offset.mp4",
            write_at_pts(folder / "offset.mp4", [500 + 40 * i for i in range(60)], audio_seconds=3.0),
        ),
        "offset_mkv": (
            folder / "offset.mkv",
            write_at_pts(folder / "offset.mkv", [500 + 40 * i for i in range(60)], audio_seconds=3.0),
        ),
        # Lossy h264 with B-frames (pts ≠ dts, an mp4 edit list) starting at 0.5 s.
        "offset_h264_bframes": (
            folder / "offset_h264.mp4",
            write_at_pts(
                folder / "offset_h264.mp4",
                [500 + 40 * i for i in range(60)],
                encoding=VideoEncoding(pix_fmt="yuv420p", options={"crf": "18", "preset": "medium", "bf": "3"}),
                audio_seconds=3.0,
            ),
        ),
    }
    return files


@pytest.fixture(params=BACKENDS)
def decoder(request):
    try:
        return create_decoder(request.param)
    except ImportError as error:
        pytest.skip(f"{request.param} back-end unavailable: {error}")


@pytest.fixture(scope="module")
def pyav():
    return create_decoder("pyav")


# --- video --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cfr_25", "cfr_ntsc", "vfr", "offset_mp4", "offset_mkv", "offset_h264_bframes"])
def test_read_video_picks_the_frame_shown_at_each_time(decoder, pyav, media, name):
    path, frame_times = media[name]
    times = sampled_times(frame_times)
    got = indices_of(decoder.read_video(path, times))
    assert got == expected_indices(frame_times, times)
    assert got == indices_of(pyav.read_video(path, times))


@pytest.mark.parametrize("name", ["cfr_25", "vfr", "offset_mp4"])
def test_read_video_at_exact_frame_times_and_just_before(decoder, media, name):
    path, frame_times = media[name]
    times = [frame_times[0]] + [t for pts in frame_times[1:] for t in (pts - 0.002, pts)]
    times.append(frame_times[-1] + 0.01)  # inside the last frame
    assert indices_of(decoder.read_video(path, times)) == expected_indices(frame_times, times)


def test_read_video_repeats_a_frame_asked_for_twice(decoder, media):
    path, _ = media["cfr_25"]
    times = [0.0, 0.0, 1.0, 1.01, 2.0]
    assert indices_of(decoder.read_video(path, times)) == [0, 0, 25, 25, 50]


@pytest.mark.parametrize("size", [(30, 40), (24, 34), (112, 162)])
def test_read_video_resizes_to_the_requested_size(decoder, media, size):
    path, frame_times = media["cfr_25"]
    times = [0.0, 0.5, 1.25]
    frames = decoder.read_video(path, times, size=size)
    assert frames.dtype == torch.uint8
    assert tuple(frames.shape) == (3, *size, 3)
    assert indices_of(frames) == expected_indices(frame_times, times)


@pytest.mark.parametrize("width", [162, 170])
def test_width_not_multiple_of_16_decodes_like_pyav(decoder, pyav, tmp_path, width):
    """decord is reported to mishandle such widths; a skewed or garbled picture fails here."""
    height = 120
    gradient = np.zeros((height, width, 3), dtype=np.uint8)
    gradient[..., 0] = (np.arange(width) * 255 // (width - 1))[None, :]
    gradient[..., 1] = (np.arange(height) * 255 // (height - 1))[:, None]
    path = tmp_path / f"w{width}.mp4"
    with open_media_writer(path, (height, width), VideoEncoding(**{**LOSSLESS.__dict__, "fps": 25.0}), None) as w:
        for _ in range(5):
            w.write_frame(gradient)
    native = decoder.read_video(path, [0.0])
    assert torch.equal(native, pyav.read_video(path, [0.0]))
    resized = decoder.read_video(path, [0.0], size=(56, 85))
    reference = pyav.read_video(path, [0.0], size=(56, 85))
    assert resized.shape == reference.shape == (1, 56, 85, 3)
    # Resampling filters differ a little between libraries; a shifted row would differ a lot.
    assert (resized.float() - reference.float()).abs().mean() < 2.0


def test_time_before_the_video_starts_is_a_decode_error(decoder, media):
    path, frame_times = media["offset_mp4"]
    assert frame_times[0] == 0.5
    with pytest.raises(DecodeError, match="no frame at 0.200"):
        decoder.read_video(path, [0.2, 0.6])


@pytest.mark.parametrize("name", ["cfr_25", "offset_mp4", "vfr"])
def test_time_past_the_end_is_a_decode_error(decoder, media, name):
    path, frame_times = media[name]
    end = frame_times[-1] + (frame_times[-1] - frame_times[-2])
    assert indices_of(decoder.read_video(path, [end - 0.001])) == [len(frame_times) - 1]
    with pytest.raises(DecodeError):
        decoder.read_video(path, [frame_times[0], end + 0.05])
    with pytest.raises(DecodeError):
        decoder.read_video(path, [end + 10.0])


@pytest.mark.parametrize("call", ["read_video", "read_audio", "probe"])
def test_missing_file_is_a_decode_error(decoder, tmp_path, call):
    path = tmp_path / "missing.mp4"
    with pytest.raises(DecodeError) as caught:
        _call(decoder, call, path)
    assert caught.value.path == str(path)


@pytest.mark.parametrize("call", ["read_video", "read_audio"])
def test_file_that_is_not_media_is_a_decode_error(decoder, tmp_path, call):
    path = tmp_path / "text.mp4"
    path.write_bytes(b"this is a text file, not a video\n" * 50)
    with pytest.raises(DecodeError):
        _call(decoder, call, path)


def _call(decoder, call: str, path: Path):
    if call == "read_video":
        return decoder.read_video(path, [0.0, 0.5])
    if call == "read_audio":
        return decoder.read_audio(path, 0.0, 1.0, 24000)
    return decoder.probe(path)


def test_decoder_survives_pickling_into_a_worker(decoder, media):
    path, _ = media["cfr_25"]
    clone = pickle.loads(pickle.dumps(decoder))
    assert indices_of(clone.read_video(path, [0.5])) == [12]


def test_probe_matches_pyav(decoder, pyav, media):
    path, _ = media["offset_mp4"]
    assert decoder.probe(path) == pyav.probe(path)


# --- audio --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def audio_files(tmp_path_factory) -> dict[str, tuple[Path, AudioEncoding]]:
    """Lossless PCM. In QuickTime the audio time base is the sample rate; Matroska stamps each
    1024-sample frame to the millisecond (0, 23, 46, 70 ms at 44.1 kHz), which a reader must
    not take for gaps and overlaps."""
    folder = tmp_path_factory.mktemp("decoder_backends_audio")
    encodings = {
        "surround_51_48k.mov": AudioEncoding(codec="pcm_s16le", rate=48000, layout="5.1"),
        "stereo_44k1.mov": AudioEncoding(codec="pcm_s16le", rate=44100, layout="stereo"),
        "stereo_44k1.mkv": AudioEncoding(codec="pcm_s16le", rate=44100, layout="stereo"),
    }
    files = {}
    for name, encoding in encodings.items():
        path = folder / name
        write_cfr(path, 25.0, 3.0, audio=encoding)
        files[name] = (path, encoding)
    return files


@pytest.mark.parametrize("name", ["surround_51_48k.mov", "stereo_44k1.mov", "stereo_44k1.mkv"])
@pytest.mark.parametrize("rate", [24000, 44100, 48000])
def test_read_audio_matches_pyav(decoder, pyav, audio_files, name, rate):
    path, _ = audio_files[name]
    for start in (0.0, 0.3, 0.5123, 0.99):
        got = decoder.read_audio(path, start, 2.0, rate)
        reference = pyav.read_audio(path, start, 2.0, rate)
        assert got.dtype == torch.float32
        assert got.shape == (round(2.0 * rate),)
        assert torch.allclose(got, reference, atol=1e-4, rtol=0), f"start {start}"


@pytest.mark.parametrize("name", ["surround_51_48k.mov", "stereo_44k1.mov", "stereo_44k1.mkv"])
def test_read_audio_is_the_mean_of_the_channels_at_native_rate(decoder, audio_files, name):
    path, encoding = audio_files[name]
    start, duration = 0.5123, 1.5
    got = decoder.read_audio(path, start, duration, encoding.rate).numpy()
    first = round(start * encoding.rate)
    tones = channel_tones(3.0, encoding.rate, CHANNELS[encoding.layout])
    truth = tones[:, first : first + got.shape[0]].mean(axis=0)
    assert np.abs(got - truth).max() < 1e-4  # 16-bit quantisation is 3e-5


def test_read_audio_past_the_end_is_a_decode_error(decoder, audio_files):
    path, _ = audio_files["stereo_44k1.mov"]
    with pytest.raises(DecodeError):
        decoder.read_audio(path, 2.5, 2.0, 24000)
    with pytest.raises(DecodeError):
        decoder.read_audio(path, 30.0, 2.0, 24000)


@pytest.mark.parametrize("audio_start", [0.0, 0.6])
@pytest.mark.parametrize("name", ["offset_mp4", "offset_mkv"])
def test_read_clip_equals_separate_reads(decoder, media, name, audio_start):
    """Back-ends that share one container between the streams (decord: the video clock and the
    audio) return what the separate calls return, also for a window at the very start."""
    path, pts = media[name]
    times = sampled_times(pts)[:8]
    frames, audio = decoder.read_clip(str(path), times, (24, 34), audio_start, 1.0, 24000)
    assert torch.equal(frames, decoder.read_video(str(path), times, (24, 34)))
    assert torch.equal(audio, decoder.read_audio(str(path), audio_start, 1.0, 24000))


def test_header_facts_follow_a_replaced_file(tmp_path):
    """torchcodec remembers whether a file's audio stamps resolve samples; the memory is per file
    version, so a file rewritten at the same path (here mp4 → Matroska bytes) is looked at again."""
    pytest.importorskip("torchcodec")
    from avssl.data.decoders import torchcodec_decoder

    path = tmp_path / "clip.media"
    encoding = AudioEncoding(codec="pcm_s16le", rate=44100, layout="stereo")
    write_cfr(tmp_path / "a.mov", 25.0, 1.0, audio=encoding)
    write_cfr(tmp_path / "b.mkv", 25.0, 1.0, audio=encoding)
    path.write_bytes((tmp_path / "a.mov").read_bytes())
    assert torchcodec_decoder._audio_stamps_resolve_samples(str(path))
    path.write_bytes((tmp_path / "b.mkv").read_bytes())
    assert not torchcodec_decoder._audio_stamps_resolve_samples(str(path))
