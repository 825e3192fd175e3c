"""`avssl demo`: make data → prepare → train tiny AVID, then AVID+CMA → retrieval → report, on a CPU.

Like the CLI, this module may import every part of the package: it is a job, not a library piece.
The report folder holds metrics.json (schema below), loss_curve.png, recall_at_k.png,
retrieval_grid.png (of the last stage) and summary.md; the two training runs are in train/ and cma/.

metrics.json: {"chance_top1": float, "chance_top5": float,
               "stages": {"untrained": {"v2v_top1", "v2v_top5", "a2v_top1", "a2v_top5",
                                        "v2v_recall": {k: r}, "a2v_recall": {k: r}},
                          "avid": {...same keys...}, "cma": {...same keys...}},
               "counts": {"train": int, "test": int}, "wall_time_s": float, "config": {...}}
v2v: a test video's embedding queries the training videos' embeddings; a2v: a test video's audio
embedding queries the training videos' video embeddings. A hit = same class (cosine top-k).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from omegaconf import OmegaConf
from rich.console import Console
from rich.table import Table

from avssl.atomic_io import write_text_atomic
from avssl.config import load_config
from avssl.data.av_dataset import DecodeSize
from avssl.data.build_dataset import build_av_dataset
from avssl.data.decoders.cached_decoder import CachedDecoder
from avssl.data.demo_data import make_demo_dataset
from avssl.data.manifest import Manifest, read_manifest
from avssl.data.prepare import prepare
from avssl.eval.feature_sources import FeatureSource
from avssl.eval.features import extract_clip_features
from avssl.eval.report_plots import plot_loss_curves, plot_recall_at_k, plot_retrieval_grid
from avssl.eval.retrieval import chance_recall, retrieval_recall, top_k_neighbours
from avssl.train.build_method import build_avid
from avssl.train.run_training import train

DEMO_RECIPE = Path(__file__).parent / "recipes" / "demo.yaml"
DEMO_CMA_RECIPE = Path(__file__).parent / "recipes" / "demo_cma.yaml"  # layered over the AVID stage's config
CMA_PREFIX = "cma."  # demo overrides starting with it apply to the CMA stage, e.g. cma.train.max_epochs=2
KS = (1, 5, 10, 20, 50)
EVAL_CLIPS_PER_VIDEO = 3


@dataclass(frozen=True)
class DemoData:
    """Size of the generated data set (per class)."""

    train_per_class: int = 40
    test_per_class: int = 12
    seconds: float = 4.0


def run_demo(out: str | Path, data: str | Path | None = None, overrides: tuple[str, ...] = (),
             size: DemoData = DemoData(), workers: int = 2, progress: bool = True, cma: bool = True) -> dict:
    """The whole demo; returns the metrics written to `out/metrics.json`.

    `overrides` apply to the AVID stage, and through it to CMA, except those starting with
    `cma.` (e.g. `cma.train.max_epochs=2`), which apply to the CMA stage only; `cma=False` stops
    after AVID."""
    started = time.perf_counter()
    out = Path(out)
    console = Console()
    if data is None:
        data = out / "data"
        if not (data / "train").is_dir():
            console.print(f"[bold]1/{6 if cma else 5}[/bold] making the demo data set in {data}")
            make_demo_dataset(data, size.train_per_class, size.test_per_class, size.seconds, workers=workers,
                              progress=progress)
    data = Path(data)
    console.print(f"[bold]2/{6 if cma else 5}[/bold] avssl prepare (train, test)")
    manifests = {}
    for split in ("train", "test"):
        if not (data / split).is_dir():
            raise FileNotFoundError(f"{data / split}: expected DIR/train/<class>/*.mp4 and DIR/test/<class>/*.mp4")
        prepare(data / split, out / "prepared" / split, workers=workers, progress=progress)
        manifests[split] = read_manifest(out / "prepared" / split)
        if len(manifests[split]) == 0:
            raise ValueError(f"no usable videos in {data / split}: see {out / 'prepared' / split / 'rejected.csv'}")
    avid_overrides = [o for o in overrides if not o.startswith(CMA_PREFIX)]
    config = load_config(DEMO_RECIPE, [f"data.manifest={out / 'prepared' / 'train'}", f"run.out_dir={out}",
                                       "run.name=train", f"train.progress_bar={progress}", *avid_overrides])
    steps = 6 if cma else 5
    console.print(f"[bold]3/{steps}[/bold] decoding every video once (clips are then cut from memory)")
    decoder = CachedDecoder()
    decode_size = DecodeSize(config.data.video.decode_short_side)
    for manifest in manifests.values():
        sizes = {manifest.file_for(i): decode_size.for_frame(r.width, r.height) for i, r in enumerate(manifest.rows)}
        decoder.preload(sizes, sizes.get, config.data.clip.audio_rate, workers=workers, progress=progress)

    console.print(f"[bold]4/{steps}[/bold] training tiny AVID encoders")
    L.seed_everything(config.run.seed, verbose=False)
    untrained = build_avid(config, len(manifests["train"]))  # the exact initial weights of the run below
    runs = {"avid": train(config, decoder=decoder)}
    configs = {"avid": config}
    if cma:
        console.print(f"[bold]5/{steps}[/bold] AVID+CMA from the AVID checkpoint")
        configs["cma"] = load_config(
            DEMO_CMA_RECIPE, [f"method.cma.init_from={runs['avid'].run_dir / 'checkpoints' / 'last.ckpt'}",
                              *(o[len(CMA_PREFIX):] for o in overrides if o.startswith(CMA_PREFIX))],
            base=OmegaConf.to_container(config, resolve=True), base_source="the AVID stage's config")
        runs["cma"] = train(configs["cma"], decoder=decoder)

    console.print(f"[bold]{steps}/{steps}[/bold] retrieval on the test split")
    stages, embeddings = {}, {}
    for stage, model in (("untrained", untrained), *((name, run.module.method) for name, run in runs.items())):
        embeddings[stage] = {split: _video_embeddings(model, _eval_dataset(config, m, decoder), progress,
                                                      f"{stage} {split}")
                             for split, m in manifests.items()}
        stages[stage] = _retrieval_metrics(embeddings[stage]["test"], embeddings[stage]["train"])
    metrics = {
        "chance_top1": _chance_recall(manifests["test"], manifests["train"], 1),
        "chance_top5": _chance_recall(manifests["test"], manifests["train"], 5),
        "stages": stages,
        "counts": {split: len(m) for split, m in manifests.items()},
        "wall_time_s": 0.0,
        "config": OmegaConf.to_container(config, resolve=True),
        **({"cma_config": OmegaConf.to_container(configs["cma"], resolve=True)} if cma else {}),
    }
    last = list(runs)[-1]
    _write_report(out, metrics, {name: run.module.history for name, run in runs.items()}, last, embeddings[last],
                  manifests, decoder)
    metrics["wall_time_s"] = round(time.perf_counter() - started, 1)
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    write_text_atomic(out / "summary.md", _summary_markdown(metrics))
    _print_table(console, metrics, out)
    return metrics


def _eval_dataset(config, manifest: Manifest, decoder: CachedDecoder):
    data = config.data.copy()
    data.clip.clips_per_video = EVAL_CLIPS_PER_VIDEO
    return build_av_dataset(data, training=False, manifest=manifest, decoder=decoder)


def _video_embeddings(method, dataset, progress: bool, desc: str) -> dict:
    """{"video": (V, D), "audio": (V, D), "label": (V,)}: the mean of each video's clip embeddings
    (the projection heads' unit vectors), through the extraction path every `avssl eval` uses."""
    sources = [FeatureSource(m, method.encoders[m], method.heads[m]) for m in ("video", "audio")]
    clips = extract_clip_features(sources, dataset, ["projection"], batch_size=64, device="auto", progress=progress,
                                  desc=desc)
    videos = clips.video_level()
    manifest = dataset.manifest
    return {"video": videos["video/projection"], "audio": videos["audio/projection"],
            "label": torch.tensor([manifest.label_index(i) for i in range(len(manifest))])}


def _retrieval_metrics(test: dict, train: dict) -> dict:
    v2v = retrieval_recall(test["video"], test["label"], train["video"], train["label"], KS)
    a2v = retrieval_recall(test["audio"], test["label"], train["video"], train["label"], KS)
    return {"v2v_top1": v2v[1], "v2v_top5": v2v[5], "a2v_top1": a2v[1], "a2v_top5": a2v[5],
            "v2v_recall": {str(k): v for k, v in v2v.items()}, "a2v_recall": {str(k): v for k, v in a2v.items()}}


def _chance_recall(test: Manifest, train: Manifest, k: int) -> float:
    return chance_recall([r.label for r in test.rows], [r.label for r in train.rows], (k,))[k]


def _write_report(out: Path, metrics: dict, histories: dict, last: str, embeddings: dict, manifests: dict,
                  decoder: CachedDecoder) -> None:
    """Loss curves of every training stage (CMA's steps continue AVID's), recall@k of every stage,
    and the retrieval grid of the `last` stage."""
    terms: dict[str, list[tuple[int, float]]] = {}
    offset = 0
    for stage, history in histories.items():
        for step, values in history:
            for name, value in values.items():
                if name != "log_z":
                    terms.setdefault(f"{stage} {name}", []).append((offset + step, value))
        offset += max((step for step, _ in history), default=-1) + 1
    plot_loss_curves(terms, out / "loss_curve.png", title="Training loss (" + " → ".join(histories) + ")")
    curves = {f"{stage} {d}": {int(k): v for k, v in m[f"{d}_recall"].items()}
              for stage, m in metrics["stages"].items() for d in ("v2v", "a2v")}
    chance = {k: _chance_recall(manifests["test"], manifests["train"], k) for k in KS}
    plot_recall_at_k(curves, out / "recall_at_k.png", chance=chance, title="Retrieval on the test split")
    # Grid: one audio query per class (first test video of each class) → its top-5 training videos.
    test, train_m = manifests["test"], manifests["train"]
    first_of_class = {}
    for i, row in enumerate(test.rows):
        first_of_class.setdefault(row.label, i)
    queries = list(first_of_class.values())[:8]
    _, neighbours = top_k_neighbours(embeddings["test"]["audio"][queries], embeddings["train"]["video"], 5)

    def middle(manifest: Manifest, index: int) -> np.ndarray:
        frames = decoder.cache[manifest.file_for(index)].frames
        return frames[len(frames) // 2].numpy()

    plot_retrieval_grid(
        [middle(test, q) for q in queries],
        [[middle(train_m, int(j)) for j in row] for row in neighbours],
        [[train_m.rows[int(j)].label == test.rows[q].label for j in row] for q, row in zip(queries, neighbours)],
        out / "retrieval_grid.png", titles=[f"{last}: sound of {test.rows[q].label} →" for q in queries])


ROWS = ("v2v_top1", "v2v_top5", "a2v_top1", "a2v_top5")


def _summary_markdown(metrics: dict) -> str:
    lines = ["# avssl demo", "", (f"Retrieval on the test split ({metrics['counts']['test']} queries, "
             f"{metrics['counts']['train']} training videos), % of queries with a same-class hit."), "",
             "| | v→v top-1 | v→v top-5 | a→v top-1 | a→v top-5 |", "|---|---:|---:|---:|---:|",
             "| chance | " + " | ".join(f"{100 * metrics[f'chance_top{k}']:.1f}" for k in (1, 5, 1, 5)) + " |"]
    for stage, m in metrics["stages"].items():
        lines.append(f"| {stage} | " + " | ".join(f"{100 * m[key]:.1f}" for key in ROWS) + " |")
    lines += ["", (f"Wall time: {metrics['wall_time_s']:.0f} s. Plots: loss_curve.png, recall_at_k.png, "
              "retrieval_grid.png."), ""]
    return "\n".join(lines)


def _print_table(console: Console, metrics: dict, out: Path) -> None:
    table = Table(title=f"avssl demo: retrieval on the test split ({metrics['counts']['test']} queries, "
                        f"{metrics['counts']['train']} training videos)")
    for column in ("", "v→v top-1", "v→v top-5", "a→v top-1", "a→v top-5"):
        table.add_column(column, justify="right")
    table.add_row("chance", *(f"{100 * metrics[f'chance_top{k}']:.1f}" for k in (1, 5, 1, 5)))
    for stage, m in metrics["stages"].items():
        table.add_row(stage, *(f"{100 * m[key]:.1f}" for key in ROWS))
    console.print(table)
    console.print(f"report: {out} (metrics.json, loss_curve.png, recall_at_k.png, retrieval_grid.png); "
                  f"wall time {metrics['wall_time_s']:.0f} s")
