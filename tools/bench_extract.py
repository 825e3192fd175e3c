"""Benchmark: feature extraction (`avssl extract` / every `avssl eval` protocol) in clips per second,
against its natural baseline measured in the same run.

Pipeline: `extract_clip_features` over an evaluation `AVClipDataset` (uniformly spaced clips of
prepared synthetic videos, decode + resize + centre crop + log spectrogram), video and audio
encoders, stage "pool", resumable chunks written to a fresh folder: exactly what `ctx.extract` runs.
Baseline: the same clips, (a) decoded and transformed by the same dataset alone (`dataset[i]` in a
loop), plus (b) the same encoders' forward on the same clips already collated into batches. The
ratio pipeline time / (a + b) is the cost of the glue (DataLoader, collation, copies, chunk files,
fingerprints): 1.0 means none. With --workers > 0 the pipeline decodes in worker processes while
the encoders run, so it may beat the serial baseline (ratio < 1).

Encoders: "tiny" (the CPU test nets; decoding dominates) and "avid" (R(2+1)D-18 + the AVID audio
net, inference only: ~15 clips/s on 2 CPU cores, of the same order as decoding). Clips: the AVID
recipe (8 frames at 16 fps, 112 crop, 2 s of 24 kHz audio → 1×200×257).

    python tools/bench_extract.py                                  # defaults below
    python tools/bench_extract.py --models tiny --clips 256 --workers 0,2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import default_collate

from avssl import models
from avssl.config import load_config
from avssl.data.manifest import read_manifest
from avssl.data.prepare import prepare
from avssl.eval.eval_datasets import clip_dataset
from avssl.eval.feature_sources import FeatureSource
from avssl.eval.features import extract_clip_features

sys.path.insert(0, str(Path(__file__).parent))
from bench_loader import make_videos  # tools/ is not a package: the script beside this one

MODELS = {
    "tiny": {"video": ("tiny_video", {"width": 16}), "audio": ("tiny_audio", {"width": 8})},
    "avid": {"video": ("avid_r2plus1d_18", {}), "audio": ("avid_audio_conv2d", {})},
}


def sources_for(name: str) -> list[FeatureSource]:
    torch.manual_seed(0)
    return [FeatureSource(m, models.create(spec, **kwargs).eval()) for m, (spec, kwargs) in MODELS[name].items()]


def time_pipeline(sources, dataset, batch_size: int, workers: int, folder: Path) -> float:
    started = time.perf_counter()
    extract_clip_features(sources, dataset, ["pool"], batch_size=batch_size, num_workers=workers, device="cpu",
                          progress=False, checkpoint_dir=folder, identity={"bench": True})
    return time.perf_counter() - started


def time_decode(dataset) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    items = [dataset[i] for i in range(len(dataset))]
    return time.perf_counter() - started, items


@torch.no_grad()
def time_forward(sources, items: list[dict], batch_size: int) -> float:
    batches = [default_collate(items[i:i + batch_size]) for i in range(0, len(items), batch_size)]
    started = time.perf_counter()
    for batch in batches:
        for source in sources:
            source(batch, ["pool"])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--gop", type=float, default=1.0, help="source keyframe interval in s")
    parser.add_argument("--clips-per-video", type=int, default=4, help="uniformly spaced clips per video")
    parser.add_argument("--clips", type=int, default=64, help="clips timed with the tiny encoders")
    parser.add_argument("--avid-clips", type=int, default=8, help="clips timed with the AVID encoders (slow on CPU)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", default="0", help="comma-separated DataLoader workers of the pipeline")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    parser.add_argument("--models", default="tiny,avid")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "prepared"
        make_videos(src, args.videos, args.seconds, args.gop)
        prepare(src, out, workers=2, progress=False)
        manifest = read_manifest(out)
        data = load_config(overrides=[f"data.manifest={out}"]).data
        full = clip_dataset(data, manifest, args.clips_per_video, ("video", "audio"))
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            count = min(len(full), args.avid_clips if name == "avid" else args.clips)
            dataset = torch.utils.data.Subset(full, range(count))
            dataset.manifest = manifest  # video-level bookkeeping, as for the full dataset
            sources = sources_for(name)
            warm = torch.utils.data.Subset(full, range(len(full) - min(len(full), args.batch_size), len(full)))
            warm.manifest = manifest
            time_pipeline(sources, warm, args.batch_size, 0, Path(tmp) / "warm" / name)  # codecs, kernels, imports
            decode, items = time_decode(dataset)
            forward = time_forward(sources, items, args.batch_size)
            for w in workers:
                pipeline = time_pipeline(sources, dataset, args.batch_size, w, Path(tmp) / f"chunks-{name}-{w}")
                rows.append((name, count, w, count / pipeline, count / decode, count / forward,
                             count / (decode + forward), pipeline / (decode + forward)))
    print(f"\nextract_clip_features: {args.videos} videos 320×240 25 fps h264 (GOP {args.gop:g} s) + AAC, "
          f"AVID clips (8×112² video, 1×200×257 audio), video+audio 'pool', batch {args.batch_size}, "
          f"{args.threads} torch thread(s)")
    header = (f"{'encoders':<9}{'clips':>6}{'workers':>8}{'pipeline':>10}{'decode':>9}{'forward':>9}"
              f"{'decode+fwd':>12}{'pipeline / (decode+fwd)':>25}")
    print(header + "\n" + f"{'':<23}{'(clips/s, wall clock)':>40}")
    for name, count, w, pipe, dec, fwd, base, ratio in rows:
        print(f"{name:<9}{count:>6}{w:>8}{pipe:>10.2f}{dec:>9.2f}{fwd:>9.2f}{base:>12.2f}{ratio:>24.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
