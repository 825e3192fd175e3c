"""Labelled evaluation sets → validated manifests → clip datasets, for every protocol.

Every split goes through `avssl prepare` (an official split becomes a list file of absolute paths
and labels), so an evaluation reads exactly what a training run would accept, the rejected files
are listed with their reason in `<prepared>/<split>/rejected.csv`, and a rerun probes nothing
twice. Audio-only sets (ESC-50 .wav files) have no video for `prepare` to check; they are probed
here with the same decoder and kept when their audio decodes.

A fold is one (train manifest, test manifest) pair; labels are compared by class name, and the
class list is the official one where the dataset has it (UCF-101's classInd.txt order).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from avssl.atomic_io import write_text_atomic
from avssl.data.av_dataset import DecodeSize
from avssl.data.build_dataset import build_av_dataset
from avssl.data.clip_sampling import AVClipSampler, RandomClipSampler
from avssl.data.decoders import Decoder, create_decoder
from avssl.data.decoders.cached_decoder import CachedDecoder
from avssl.data.manifest import Manifest, ManifestRow, read_manifest, write_manifest
from avssl.data.media_check import MediaRequirements
from avssl.data.prepare import prepare
from avssl.data.splits import (
    LabelledSplit,
    load_esc50,
    load_hmdb51_split,
    load_kinetics_split,
    load_ucf101_split,
)
from avssl.eval.eval_config import DATASET_KINDS

log = logging.getLogger(__name__)


@dataclass
class EvalFold:
    """One train/test pair; `name` is e.g. "fold1" (or "split" where the data has a single split)."""

    name: str
    train: Manifest
    test: Manifest


@dataclass
class EvalData:
    folds: list[EvalFold]
    class_names: list[str]
    decoder: Decoder | None = None  # a preloaded CachedDecoder, or None (each dataset opens its own)

    def codes(self, manifest: Manifest) -> list[int]:
        """Class codes (indices into `class_names`) of a manifest's rows."""
        index = {name: i for i, name in enumerate(self.class_names)}
        return [index[row.label] for row in manifest.rows]


# What `eval.dataset.root` / `eval.dataset.splits` must point at, per kind (datasets/<name>/README.md).
_EXPECTED = {
    ("folder", "root"): "a folder with train/<class>/* and test/<class>/* (the demo data layout)",
    ("ucf101", "root"): "the extracted UCF-101/ folder (<Class>/v_<Class>_gXX_cYY.avi)",
    ("ucf101", "splits"): "the official ucfTrainTestlist/ folder (classInd.txt, trainlist01.txt, testlist01.txt, ...)",
    ("hmdb51", "root"): "the folder of <class>/<video>.avi",
    ("hmdb51", "splits"): "the official testTrainMulti_7030_splits/ folder (<class>_test_split1.txt, ...)",
    ("kinetics", "root"): "the folder holding train/ and val/ clips",
    ("kinetics", "splits"): "the folder holding the official train.csv and val.csv",
    ("esc50", "root"): "the ESC-50/ folder (audio/*.wav)",
    ("esc50", "splits"): "the official meta/esc50.csv file",
}


def _require(value, key: str, kind: str):
    if value in (None, ""):
        raise ValueError(f"eval.dataset.{key} is required for eval.dataset.kind={kind}: set it in the eval config "
                         f"or pass eval.dataset.{key}=... on the command line")
    return value


def _existing(cfg, key: str) -> Path:
    """`eval.dataset.<key>` as a path that exists; otherwise an error naming the key and what it needs."""
    path = Path(_require(cfg[key], key, cfg.kind))
    if not path.exists():
        raise FileNotFoundError(f"eval.dataset.{key}={path}: no such file or folder; expected "
                                f"{_EXPECTED.get((cfg.kind, key), 'an existing path')}")
    return path


def _read_split(splits: Path, what: str, parser, *args, **kwargs) -> LabelledSplit:
    """`parser(*args, **kwargs)`; a missing file inside `splits` names the key and the fold."""
    try:
        return parser(*args, **kwargs)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"eval.dataset.splits={splits} ({what}): {error}") from None


def _check_prepared(manifest_dir: Path, what: str) -> Manifest:
    manifest = read_manifest(manifest_dir)
    rejected = manifest_dir / "rejected.csv"
    count = max(0, sum(1 for _ in rejected.open()) - 1) if rejected.is_file() else 0
    if count:
        log.warning("%s: %d file(s) rejected, see %s", what, count, rejected)
    if len(manifest) == 0:
        raise ValueError(f"{what}: no usable videos (see {rejected}); check eval.dataset.root and the split files")
    return manifest


def _prepare_split(split: LabelledSplit, root: Path, out: Path, needs: MediaRequirements, workers: int,
                   progress: bool, subfolder: str = "") -> Manifest:
    """`avssl prepare` on the videos of an official split (labels = class names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", "label"])
    for video in split:
        writer.writerow([str((root / subfolder / video.path).resolve()), video.label_name])
    write_text_atomic(out / "sources.csv", buffer.getvalue())
    prepare(out / "sources.csv", out, needs, workers=workers, progress=progress)
    return _check_prepared(out, split.name)


def _audio_manifest(split: LabelledSplit, root: Path, out: Path, decoder_name: str,
                    min_duration: float) -> Manifest:
    """A manifest of audio-only files (probed here: `prepare` requires video); reused when the
    source list and the files' sizes are unchanged."""
    paths = [(root / v.path).resolve() for v in split]
    stamp = json.dumps([[str(p), p.stat().st_size if p.is_file() else None] for p in paths] + [min_duration])
    if (out / "sources.json").is_file() and (out / "sources.json").read_text() == stamp:
        return _check_prepared(out, split.name)
    decoder = create_decoder(decoder_name)
    rows, rejected = [], []
    for video, path in zip(split, paths):
        try:
            info = decoder.probe(str(path))
        except Exception as error:  # noqa: BLE001 — a bad file is reported, never fatal
            rejected.append((str(path), f"probe failed: {error}"))
            continue
        if not info.has_audio or info.duration < min_duration:
            rejected.append((str(path), "no decodable audio" if not info.has_audio else
                             f"too short: {info.duration:.1f} s < {min_duration:.1f} s"))
            continue
        rows.append(ManifestRow.from_info(str(path), video.label_name, info))
    write_manifest(out, rows, {"source_root": str(root), "created_by": "avssl eval (audio-only probe)"})
    write_text_atomic(out / "rejected.csv", "path,reason\n" + "".join(f'"{p}","{r}"\n' for p, r in rejected))
    write_text_atomic(out / "sources.json", stamp)
    return _check_prepared(out, split.name)


def _subset(manifest: Manifest, keep: set[str]) -> Manifest:
    return Manifest([r for r in manifest.rows if r.path in keep], manifest.source_root, manifest.manifest_dir)


def load_eval_data(cfg, data_cfg, prepared_dir: Path, folds: list[int], need_audio: bool, need_video: bool = True,
                   progress: bool = True) -> EvalData:
    """The folds `folds` of `cfg` (the eval.dataset section); `data_cfg` is the data section (clip
    lengths decide the minimum duration, decode size and audio rate the preload)."""
    kind = cfg.kind
    if kind not in DATASET_KINDS:
        raise ValueError(f"eval.dataset.kind={kind!r}: choose one of {', '.join(DATASET_KINDS)}")
    clip = data_cfg.clip
    min_duration = clip.audio_duration if need_audio else clip.video_frames / clip.video_fps
    needs = MediaRequirements(min_duration=min_duration, need_audio=need_audio)
    # Audio-visual and video-only protocols accept different files: separate folders, so neither
    # rewrites the other's manifests.
    prepared_dir = Path(prepared_dir) / ("audio-visual" if need_audio and need_video else
                                         "audio" if need_audio else "video")
    class_names: list[str] | None = None
    out: list[EvalFold] = []
    if kind == "folder":
        root = _existing(cfg, "root")
        manifests = {}
        for subset in ("train", "test"):
            if not (root / subset).is_dir():
                raise FileNotFoundError(f"eval.dataset.root={root}: expected {root}/train/<class>/* and "
                                        f"{root}/test/<class>/* (kind=folder)")
            prepare(root / subset, prepared_dir / subset, needs, workers=cfg.workers, progress=progress)
            manifests[subset] = _check_prepared(prepared_dir / subset, f"{root}/{subset}")
        out.append(EvalFold("split", manifests["train"], manifests["test"]))
    elif kind == "manifests":
        out.append(EvalFold("split", read_manifest(_require(cfg.train_manifest, "train_manifest", kind)),
                            read_manifest(_require(cfg.test_manifest, "test_manifest", kind))))
    elif kind in ("ucf101", "hmdb51"):
        root, splits = _existing(cfg, "root"), _existing(cfg, "splits")
        loader = load_ucf101_split if kind == "ucf101" else load_hmdb51_split
        for fold in folds:
            pair = {}
            for subset in ("train", "test"):
                split = _read_split(splits, f"fold {fold} {subset}", loader, splits, fold, subset)
                class_names = list(split.class_names)
                pair[subset] = _prepare_split(split, root, prepared_dir / f"fold{fold}" / subset, needs, cfg.workers,
                                              progress)
            out.append(EvalFold(f"fold{fold}", pair["train"], pair["test"]))
    elif kind == "kinetics":
        root, splits = _existing(cfg, "root"), _existing(cfg, "splits")
        train = _read_split(splits, "train", load_kinetics_split, splits / "train.csv")
        val = _read_split(splits, "val", load_kinetics_split, splits / "val.csv", class_names=train.class_names)
        class_names = list(train.class_names)
        out.append(EvalFold("val", *(
            _prepare_split(s, root, prepared_dir / s.name.split("/")[-1], needs, cfg.workers, progress,
                           subfolder=s.name.split("/")[-1]) for s in (train, val))))
    else:  # esc50: one manifest, folds by the metadata's fold column
        root, meta = _existing(cfg, "root"), _existing(cfg, "splits")
        split = load_esc50(meta)
        class_names = list(split.class_names)
        manifest = _audio_manifest(split, root, prepared_dir / "all", data_cfg.decoder, clip.audio_duration)
        fold_of = {str((root / v.path).resolve()): v.fold for v in split}
        for fold in folds:
            test = {p for p, f in fold_of.items() if f == fold}
            out.append(EvalFold(f"fold{fold}", _subset(manifest, set(fold_of) - test), _subset(manifest, test)))
    labels = {row.label for fold in out for m in (fold.train, fold.test) for row in m.rows}
    if class_names is None:
        class_names = sorted(labels)
    unknown = sorted(labels - set(class_names))
    if unknown or "" in labels:
        raise ValueError(f"eval.dataset: videos without a known class ({unknown[:5] or 'empty label'}); every "
                         "video of an evaluation set needs a label (class folder or split file)")
    decoder = _preload(out, data_cfg, need_video, cfg.workers, progress) if cfg.preload else None
    return EvalData(out, class_names, decoder)


def _preload(folds: list[EvalFold], data_cfg, need_video: bool, workers: int, progress: bool) -> CachedDecoder:
    decoder = CachedDecoder()
    decode_size = DecodeSize(data_cfg.video.decode_short_side)
    for fold in folds:
        for manifest in (fold.train, fold.test):
            sizes = {manifest.file_for(i): decode_size.for_frame(r.width, r.height) if need_video else None
                     for i, r in enumerate(manifest.rows)}
            decoder.preload(sizes, sizes.get, data_cfg.clip.audio_rate, workers=workers, progress=progress)
    return decoder


def clip_dataset(data_cfg, manifest: Manifest, clips_per_video: int, modalities: tuple[str, ...],
                 decoder: Decoder | None = None, sampling: str = "uniform", augment: bool = False, seed: int = 0):
    """An AVClipDataset of `clips_per_video` clips per video: evenly spaced ("uniform", the
    evaluation sampler) or at seeded random times ("random"); `augment` applies the training
    transforms (fine-tuning, the official BN-drift probe)."""
    data = data_cfg.copy()
    data.clip.clips_per_video = int(clips_per_video)
    dataset = build_av_dataset(data, training=augment, manifest=manifest, seed=seed, decoder=decoder,
                               with_video="video" in modalities, with_audio="audio" in modalities)
    if sampling == "random" and not augment:
        dataset.clip_sampler = AVClipSampler(RandomClipSampler(data.clip.audio_duration), data.clip.video_fps,
                                             data.clip.video_frames)
    elif sampling not in ("uniform", "random"):
        raise ValueError(f"clip sampling {sampling!r}: choose uniform or random")
    return dataset
