"""Clip- and video-level features of a dataset: the one extraction path of every protocol.

`extract_clip_features` runs each `FeatureSource` over every item of a dataset (an evaluation
`AVClipDataset`: N uniformly spaced clips per video, or any map-style dataset whose samples carry
the modality tensors and an "index"), batched, with a progress bar, on CPU or CUDA. A clip's video
is the sample's own `index`, so a clip that a decode failure replaced by another video is counted
for the video it came from. Video-level features are the mean of a video's clips.

With a `checkpoint_dir` the work is resumable: finished runs of items are written there as chunk
files (atomically), each run resumes after the last complete chunk, and the chunks are keyed by a
fingerprint of what is being extracted (dataset, stages, pooling, model), so a changed setting
never mixes with stale results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from avssl.atomic_io import atomic_path, write_text_atomic
from avssl.eval.classification_metrics import average_per_video
from avssl.eval.feature_sources import GLOBAL_MAX_POOL, FeatureSource, StagePooling

log = logging.getLogger(__name__)

CHUNK_BATCHES = 16  # batches per resumable chunk: ~1 chunk file per few seconds of a GPU run


@dataclass
class ClipFeatures:
    """`features["video/pool"]` (N_clips, D) float32; `clip_video` (N_clips,) the video (manifest row)
    of each clip; `num_videos` V; `decode_failures` counted over the run."""

    features: dict[str, torch.Tensor]
    clip_video: torch.Tensor
    num_videos: int
    decode_failures: int = 0
    meta: dict = field(default_factory=dict)

    def video_level(self) -> dict[str, torch.Tensor]:
        """{key: (V, D)}: the mean of each video's clip features."""
        return {k: average_per_video(v, self.clip_video, self.num_videos) for k, v in self.features.items()}

    def __getitem__(self, key: str) -> torch.Tensor:
        return self.features[key]


def feature_key(modality: str, stage: str) -> str:
    return f"{modality}/{stage}"


def fingerprint(**facts) -> str:
    """A short stable hash of JSON-able facts: what must be equal for two extractions to be one."""
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def resolve_device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def batch_to(batch: Mapping, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


class _ChunkStore:
    """Finished item ranges as `DIR/<start>-<stop>.pt`; a fingerprint file guards against stale ones."""

    def __init__(self, folder: Path, print_: str) -> None:
        self.folder = folder
        stamp = folder / "fingerprint.txt"
        if folder.is_dir() and (not stamp.is_file() or stamp.read_text().strip() != print_):
            log.warning("%s: partial features of another extraction setting; starting over", folder)
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(stamp, print_ + "\n")

    def path(self, start: int, stop: int) -> Path:
        return self.folder / f"{start:010d}-{stop:010d}.pt"

    def load(self, start: int, stop: int) -> dict | None:
        path = self.path(start, stop)
        return torch.load(path, weights_only=True) if path.is_file() else None

    def save(self, start: int, stop: int, chunk: dict) -> None:
        with atomic_path(self.path(start, stop)) as tmp:
            torch.save(chunk, tmp)


@torch.no_grad()
def extract_clip_features(
    sources: Sequence[FeatureSource],
    dataset,
    stages: Sequence[str] | Mapping[str, Sequence[str]],
    pooling: StagePooling = GLOBAL_MAX_POOL,
    batch_size: int = 32,
    num_workers: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
    desc: str = "features",
    checkpoint_dir: str | Path | None = None,
    identity: Mapping | None = None,
    train_mode: bool = False,
) -> ClipFeatures:
    """Features of every item of `dataset` for every (source, stage): `stages` applies to every
    source, or maps a modality to its own stages (e.g. cross-modal retrieval needs only `projection`
    of the audio encoder but every video stage).

    `identity` describes the model (e.g. checkpoint path and size) for the resume fingerprint.
    `train_mode=True` runs the encoders in train mode (BatchNorm uses batch statistics and updates
    its running ones): the official linear probe's behaviour, for comparison only.
    """
    per_source = {s.modality: list(stages[s.modality] if isinstance(stages, Mapping) else stages) for s in sources}
    if not sources or not all(per_source.values()):
        raise ValueError(f"extract_clip_features needs at least one source and one stage each, got {per_source}")
    for source in sources:
        source.check_stages(per_source[source.modality])
    device = resolve_device(device)
    num_videos = len(dataset.manifest) if hasattr(dataset, "manifest") else len(dataset)
    modules = [m for s in sources for m in s.modules()]
    was_training = [m.training for m in modules]
    for module in modules:
        module.to(device).train(train_mode)
    store = None
    if checkpoint_dir is not None:
        store = _ChunkStore(Path(checkpoint_dir), fingerprint(
            items=len(dataset), videos=_video_ids(dataset), stages=per_source, pooling=pooling.__dict__,
            sources=[s.modality for s in sources], identity=dict(identity or {}), train_mode=train_mode))
    chunk_items = batch_size * CHUNK_BATCHES
    ranges = [(start, min(start + chunk_items, len(dataset))) for start in range(0, len(dataset), chunk_items)]
    done = {r: store.load(*r) for r in ranges} if store is not None else {}
    todo = [r for r in ranges if done.get(r) is None]
    batches = [list(range(b, min(b + batch_size, stop))) for start, stop in todo for b in range(start, stop, batch_size)]
    loader = DataLoader(dataset, batch_sampler=batches, num_workers=num_workers,
                        pin_memory=device.type == "cuda") if batches else []
    pending: dict[str, list[torch.Tensor]] = {}
    bar = tqdm(total=len(dataset), desc=desc, unit="clip", disable=not progress)
    bar.update(len(dataset) - sum(stop - start for start, stop in todo))
    todo_iter, current, filled = iter(todo), None, 0
    for batch in loader:
        if current is None:
            current, filled = next(todo_iter), 0
        out = {"clip_video": batch["index"].long(),
               "decode_failures": torch.as_tensor(batch.get("decode_failures", torch.zeros(1))).sum().reshape(1)}
        on_device = batch_to(batch, device)
        for source in sources:
            for stage, value in source(on_device, per_source[source.modality], pooling).items():
                out[feature_key(source.modality, stage)] = value.float().cpu()
        for key, value in out.items():
            pending.setdefault(key, []).append(value)
        filled += len(batch["index"])
        bar.update(len(batch["index"]))
        if filled == current[1] - current[0]:
            done[current] = {k: torch.cat(v) for k, v in pending.items()}
            if store is not None:
                store.save(*current, done[current])
            pending, current = {}, None
    bar.close()
    for module, mode in zip(modules, was_training):
        module.train(mode)
    parts = [done[r] for r in ranges]
    keys = [feature_key(s.modality, stage) for s in sources for stage in per_source[s.modality]]
    return ClipFeatures(
        features={k: torch.cat([p[k] for p in parts]) for k in keys},
        clip_video=torch.cat([p["clip_video"] for p in parts]),
        num_videos=num_videos,
        decode_failures=int(sum(int(p["decode_failures"].sum()) for p in parts)),
    )


def _video_ids(dataset) -> list[str] | int:
    manifest = getattr(dataset, "manifest", None)
    return [row.path for row in manifest.rows] if manifest is not None else len(dataset)
