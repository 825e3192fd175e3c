"""`avssl eval PROTOCOL` and `avssl extract`: checkpoint + eval config → features / report folder.

Like the CLI, this module may import every part of the package: it is a job, not a library piece.
It layers the config (schema ← the checkpoint's training config ← eval YAML ← overrides), loads
the model, turns `eval.dataset` into folds of manifests, and hands protocols an `EvalContext`
whose `extract` is the single feature path (resumable, under `<out>/features/`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from rich.console import Console

from avssl.atomic_io import write_text_atomic
from avssl.config import load_config, save_config
from avssl.data.decoders import create_decoder
from avssl.data.manifest import Manifest
from avssl.eval.clip_media import ClipMedia, middle_clip_media
from avssl.eval.eval_config import PROTOCOLS
from avssl.eval.eval_datasets import EvalData, EvalFold, clip_dataset, load_eval_data
from avssl.eval.eval_model import EvalModel, load_eval_model
from avssl.eval.feature_sources import StagePooling
from avssl.eval.features import ClipFeatures, extract_clip_features
from avssl.eval.report import ProtocolReport, write_report


@dataclass
class EvalContext:
    """What a protocol needs: the layered config, the model, the report folder."""

    config: DictConfig
    model: EvalModel
    out: Path
    console: Console = field(default_factory=Console)
    _data: dict = field(default_factory=dict)
    _media: dict = field(default_factory=dict)

    @property
    def eval(self):
        return self.config.eval

    @property
    def progress(self) -> bool:
        return bool(self.eval.progress)

    def data(self, need_audio: bool, need_video: bool = True, all_folds: bool = False) -> EvalData:
        """The eval set's folds: all of `eval.dataset.folds`, or only `eval.dataset.fold`."""
        dataset = self.eval.dataset
        folds = [int(f) for f in dataset.folds] if all_folds else [int(dataset.fold)]
        key = (need_audio, need_video, tuple(folds))
        if key not in self._data:
            prepared = Path(dataset.prepared_dir) if dataset.prepared_dir else self.out / "prepared"
            self._data[key] = load_eval_data(dataset, self.config.data, prepared, folds, need_audio, need_video,
                                             self.progress)
        return self._data[key]

    def pooling(self) -> StagePooling:
        features = self.eval.features
        return StagePooling(features.pool, tuple(features.pool_size) if features.pool_size else None,
                            OmegaConf.to_container(features.stage_pool_size))

    def extract(self, data: EvalData, fold: EvalFold, manifest: Manifest, subset: str,
                stages: dict[str, list[str]], clips_per_video: int, pooling: StagePooling | None = None,
                sampling: str = "uniform", sources: list | None = None) -> ClipFeatures:
        """Clip features of `manifest` for `stages` ({modality: stages}), from the model's encoders (or
        from `sources`, e.g. a fine-tuned copy: then nothing is cached, the weights are not the
        checkpoint's). Resumable under `<out>/features/<fold>/<subset>-<clips><sampling>/`."""
        features = self.eval.features
        dataset = clip_dataset(self.config.data, manifest, clips_per_video, tuple(stages), data.decoder, sampling,
                               seed=int(self.eval.seed))
        folder = self.out / "features" / fold.name / f"{subset}-{clips_per_video}{sampling}"
        return extract_clip_features(
            sources or [self.model.source(m) for m in stages], dataset, stages, pooling or self.pooling(),
            batch_size=features.batch_size, num_workers=features.num_workers, device=features.device,
            progress=self.progress, desc=f"{subset} features", checkpoint_dir=None if sources else folder,
            identity=self.model.identity())

    def media(self, manifest: Manifest, video: int, decoder) -> ClipMedia:
        """The middle clip of a video, decoded once per run (grids and report.html share it)."""
        key = (str(manifest.manifest_dir), video)
        if key not in self._media:
            self._media[key] = middle_clip_media(manifest, video, self.config.data,
                                                 decoder or create_decoder(self.config.data.decoder))
        return self._media[key]


def load_job(checkpoint: str | Path, config_path: str | Path | None, overrides: list[str] | tuple[str, ...],
             out: str | Path, untrained: bool = False, console: Console | None = None) -> EvalContext:
    model = load_eval_model(checkpoint)
    base_source = f"{checkpoint} (its training config)"
    config = load_config(config_path, list(overrides), base=model.eval_base_config(), base_source=base_source)
    if untrained:
        model.reinitialise(int(config.eval.seed))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return EvalContext(config, model, out, console or Console())


def run_protocol(protocol: str, checkpoint: str | Path, config_path: str | Path | None = None,
                 overrides: list[str] | tuple[str, ...] = (), out: str | Path = "eval-report",
                 untrained: bool = False, console: Console | None = None) -> dict:
    """Run one protocol and write its report folder; returns what metrics.json holds."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}")
    started = time.perf_counter()
    ctx = load_job(checkpoint, config_path, overrides, out, untrained, console)
    return evaluate(ctx, protocol, started)


def evaluate(ctx: EvalContext, protocol: str, started: float | None = None) -> dict:
    """Run `protocol` on a ready context (e.g. a model built in code rather than loaded from a file)
    and write the report folder; returns what metrics.json holds."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}")
    started = time.perf_counter() if started is None else started
    save_config(ctx.config, ctx.out / "config.yaml")
    report: ProtocolReport = import_module(f"avssl.eval.protocols.{protocol}").run(ctx)
    report.metrics.update({"checkpoint": ctx.model.path, "checkpoint_kind": ctx.model.kind,
                           "untrained": ctx.model.untrained, "wall_time_s": round(time.perf_counter() - started, 1)})
    write_report(ctx.out, report, ctx.console)
    return json.loads((ctx.out / "metrics.json").read_text())


def run_extract(checkpoint: str | Path, config_path: str | Path | None = None,
                overrides: list[str] | tuple[str, ...] = (), out: str | Path = "features",
                untrained: bool = False, console: Console | None = None) -> list[Path]:
    """`avssl extract`: features of the configured fold's subsets, one folder each under `out`."""
    from avssl.eval.feature_store import save_features

    ctx = load_job(checkpoint, config_path, overrides, out, untrained, console)
    features = ctx.eval.features
    modalities = [m for m in features.modalities if m in ctx.model.modalities]
    if not modalities:
        raise ValueError(f"eval.features.modalities={list(features.modalities)}: this checkpoint has "
                         f"{', '.join(ctx.model.modalities)}")
    data = ctx.data(need_audio="audio" in modalities, need_video="video" in modalities)
    fold = data.folds[0]
    written = []
    for subset in features.subsets:
        if subset not in ("train", "test"):
            raise ValueError(f"eval.features.subsets: {subset!r} is not train or test")
        manifest = getattr(fold, subset)
        clips = ctx.extract(data, fold, manifest, subset, {m: list(features.stages) for m in modalities},
                            features.clips_per_video)
        folder = save_features(ctx.out / subset, clips, manifest, features.format, features.faiss_index,
                               meta={"checkpoint": str(checkpoint), "fold": fold.name, "subset": subset,
                                     "clips_per_video": features.clips_per_video,
                                     "pooling": OmegaConf.to_container(features, resolve=True)})
        written.append(folder)
        ctx.console.print(f"{subset}: {clips.clip_video.shape[0]} clips of {clips.num_videos} videos → {folder}")
    write_text_atomic(ctx.out / "config.yaml", OmegaConf.to_yaml(ctx.config, resolve=True))
    return written
