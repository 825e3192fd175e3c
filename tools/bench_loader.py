"""Benchmark: AVID-recipe clips per CPU-second, per decoder back-end, against raw PyAV decoding.

The baseline decodes exactly the packets a clip needs with PyAV (seek, decode video frames up to
the clip's last frame, decode audio up to the window's end) and does nothing else: no colour
conversion, resize, resampling, spectrogram or augmentation. The pipeline is AVClipDataset's full
__getitem__ (decode + resize in the decoder + augment + log spectrogram). Both run in this process
on one thread, on the same clip spans, in the same run. Also measures resident memory over
--memory-clips pipeline clips (growth = leak).

    python tools/bench_loader.py                      # 320x240 25 fps h264/AAC, 10-s videos
    python tools/bench_loader.py --gop 1              # sources with a 1-s keyframe interval
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from avssl.config import load_config
from avssl.data.build_dataset import build_av_dataset
from avssl.data.decoders.pyav_frames import DecodeTally, iter_frames, open_container
from avssl.data.media_writer import AudioEncoding, VideoEncoding, open_media_writer
from avssl.data.prepare import prepare


def make_videos(folder: Path, count: int, seconds: float, gop: float) -> None:
    """Moving textured frames (real motion for the codec) and a tone + noise soundtrack."""
    rng = np.random.default_rng(0)
    height, width, fps, rate = 240, 320, 25.0, 44100
    texture = rng.integers(0, 256, (height * 2, width * 2, 3), dtype=np.uint8)
    for v in range(count):
        # scenecut=0: keyframes exactly every `gop` s (x264 would add some where the texture wraps).
        video = VideoEncoding(fps=fps, gop_seconds=gop,
                              options={"crf": "23", "preset": "veryfast", "x264-params": "scenecut=0"})
        audio = AudioEncoding(rate=rate, layout="stereo")
        with open_media_writer(folder / f"c{v % 4}" / f"v{v:03d}.mp4", (height, width), video, audio) as writer:
            for i in range(int(seconds * fps)):
                dy, dx = (i * 3 + v) % height, (i * 5 + 7 * v) % width
                writer.write_frame(texture[dy:dy + height, dx:dx + width])
            t = np.arange(int(seconds * rate)) / rate
            wave = 0.3 * np.sin(2 * np.pi * (300 + 50 * v) * t) + 0.05 * rng.standard_normal(t.size)
            writer.write_audio(np.stack([wave, 0.8 * wave]).astype(np.float32))


def raw_decode(path: str, times: tuple[float, ...], audio_start: float, audio_duration: float) -> None:
    """Open once, decode only the packets the clip needs, convert nothing."""
    with open_container(path) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        container.seek(int(max(0.0, times[0] - 0.1) / stream.time_base), stream=stream)
        for frame in iter_frames(container, stream, DecodeTally()):
            if frame.time is not None and frame.time > times[-1]:
                break
        stream = container.streams.audio[0]
        container.seek(int(max(0.0, audio_start - 0.1) / stream.time_base), stream=stream)
        for frame in iter_frames(container, stream, DecodeTally()):
            if frame.time is not None and frame.time > audio_start + audio_duration:
                break


def raw_decord_decode(path: str, times: tuple[float, ...], audio_start: float, audio_duration: float) -> None:
    """decord's own raw cost for the same clip: open a VideoReader, decode the frames nearest the
    clip's times at native size (no resize, no conversion beyond decord's RGB), and the audio
    packets with PyAV (as the decord back-end does)."""
    import decord

    reader = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    fps = reader.get_avg_fps()
    reader.get_batch(sorted({min(len(reader) - 1, round(t * fps)) for t in times}))
    with open_container(path) as container:
        stream = container.streams.audio[0]
        container.seek(int(max(0.0, audio_start - 0.1) / stream.time_base), stream=stream)
        for frame in iter_frames(container, stream, DecodeTally()):
            if frame.time is not None and frame.time > audio_start + audio_duration:
                break


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def cpu_rate(fn, n: int) -> float:
    """Items per CPU-second of this process (all threads)."""
    start = time.process_time()
    for i in range(n):
        fn(i)
    return n / (time.process_time() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--gop", type=float, default=10.0, help="source keyframe interval in s (default: 10, like many uploads)")
    parser.add_argument("--clips", type=int, default=120, help="clips timed per back-end")
    parser.add_argument("--memory-clips", type=int, default=2000)
    parser.add_argument("--backends", default="pyav,torchcodec,decord")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "out"
        make_videos(src, args.videos, args.seconds, args.gop)
        prepare(src, out, workers=2, progress=False)
        base = load_config(overrides=[f"data.manifest={out}"]).data
        reference = build_av_dataset(base, training=True)
        # Item i*cpv is clip 0 of video i % N; its span is the first draw of its generator, exactly
        # as __getitem__ draws it, so the baseline and every pipeline read the same spans.
        cpv = base.clip.clips_per_video
        items = [i * cpv % len(reference) for i in range(args.clips)]
        spans = [reference.span_for(item // cpv, 0, reference.generator_for(item)) for item in items]
        files = [reference.manifest.file_for(item // cpv) for item in items]
        duration = base.clip.audio_duration

        def decode_only(i: int) -> None:
            raw_decode(files[i], spans[i].video_times, spans[i].audio.start, duration)

        decode_only(0)  # warm-up: imports, codec initialisation
        raw_rate = cpu_rate(decode_only, args.clips)
        baselines = {"pyav": raw_rate, "torchcodec": raw_rate}
        try:
            raw_decord_decode(files[0], spans[0].video_times, spans[0].audio.start, duration)
            baselines["decord"] = cpu_rate(lambda i: raw_decord_decode(files[i], spans[i].video_times,
                                                                       spans[i].audio.start, duration), args.clips)
        except ImportError:
            pass
        rows = []
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            cfg = load_config(overrides=[f"data.manifest={out}", f"data.decoder={backend}"]).data
            try:
                dataset = build_av_dataset(cfg, training=True)
                dataset[0]
            except ImportError as error:
                print(f"{backend}: skipped ({error})")
                continue
            rows.append((backend, cpu_rate(lambda i, d=dataset: d[items[i]], args.clips)))
        print(f"\nAVID clip (8 frames @16 fps → 112² crop, 2 s audio @24 kHz → 1×200×257), "
              f"{args.videos} videos 320×240 25 fps h264 (GOP {args.gop:g} s) + AAC 44.1 kHz stereo, 1 thread")
        print(f"{'pipeline':<34}{'clips/CPU-s':>12}{'cost vs raw PyAV':>18}{'extra ms/clip':>15}"
              f"{'cost vs own raw':>17}")
        print(f"{'raw PyAV decode (baseline)':<34}{raw_rate:>12.1f}{1.0:>17.2f}×{0.0:>15.1f}{1.0:>16.2f}×")
        if "decord" in baselines:
            rate = baselines["decord"]
            print(f"{'raw decord decode (its baseline)':<34}{rate:>12.1f}{raw_rate / rate:>17.2f}×"
                  f"{1000.0 * (1.0 / rate - 1.0 / raw_rate):>15.1f}{1.0:>16.2f}×")
        for backend, rate in rows:
            extra = 1000.0 * (1.0 / rate - 1.0 / raw_rate)
            own = baselines.get(backend, raw_rate) / rate
            print(f"{'full pipeline, ' + backend:<34}{rate:>12.1f}{raw_rate / rate:>17.2f}×{extra:>15.1f}{own:>16.2f}×")
        if args.memory_clips < 200:
            return 0
        cfg = load_config(overrides=[f"data.manifest={out}"]).data
        dataset = build_av_dataset(cfg, training=True)
        marks = {}
        for i in range(args.memory_clips):
            dataset[i % len(dataset)]
            if i + 1 in (200, args.memory_clips):
                marks[i + 1] = rss_mb()
        print(f"memory (pyav pipeline): RSS {marks[200]:.0f} MB after 200 clips, "
              f"{marks[args.memory_clips]:.0f} MB after {args.memory_clips} "
              f"(growth {marks[args.memory_clips] - marks[200]:+.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
