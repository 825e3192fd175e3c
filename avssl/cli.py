"""The `avssl` command: the only place that knows about every part of the package."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _add_prepare(subparsers) -> None:
    p = subparsers.add_parser("prepare", help="probe raw videos, write a validated manifest (+ optional re-encode)")
    p.add_argument("src", help="folder of videos (class_name/video.ext gives labels) or a CSV with a 'path' column")
    p.add_argument("--out", required=True, help="output folder for manifest.csv, rejected.csv, re-encoded videos")
    p.add_argument("--workers", type=int, default=2, help="probe processes (0 = in this process)")
    p.add_argument("--decoder", default="pyav", help="decoder used to probe (default pyav)")
    p.add_argument("--min-duration", type=float, default=2.0,
                   help="seconds of overlapping audio+video a file needs (AVID audio window: 2.0)")
    p.add_argument("--allow-silent", action="store_true", help="accept files with no or silent audio (video-only use)")
    p.add_argument("--max-corrupt-packets", type=int, default=0, help="undecodable packets tolerated per file")
    p.add_argument("--reencode", action="store_true", help="also write training-format copies into OUT/videos")
    p.add_argument("--short-side", type=int, default=160, help="re-encode: short side in pixels (128-320)")
    p.add_argument("--fps", type=float, default=16.0, help="re-encode: frame rate")
    p.add_argument("--gop", type=float, default=1.0, help="re-encode: seconds between keyframes")
    p.add_argument("--audio-codec", default="aac", choices=("aac", "flac"), help="re-encode: audio codec (24 kHz mono)")
    p.add_argument("--audio-stats", action="store_true",
                   help="also compute per-frequency spectrogram stats of the accepted videos into OUT/audio_stats.npz")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=_run_prepare)


def _run_prepare(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from avssl.data.media_check import MediaRequirements
    from avssl.data.prepare import prepare
    from avssl.data.reencode import ReencodeSpec

    needs = MediaRequirements(min_duration=args.min_duration, need_audio=not args.allow_silent,
                              max_corrupt_packets=args.max_corrupt_packets)
    spec = ReencodeSpec(short_side=args.short_side, fps=args.fps, gop_seconds=args.gop,
                        audio_codec=args.audio_codec) if args.reencode else None
    summary = prepare(args.src, args.out, needs, spec, workers=args.workers, decoder=args.decoder,
                      progress=not args.no_progress)
    console = Console()
    table = Table(title=f"avssl prepare → {args.out}")
    table.add_column("")
    table.add_column("files", justify="right")
    table.add_row("accepted", str(summary.accepted))
    table.add_row("rejected", str(summary.rejected))
    for reason, count in summary.reasons.items():
        table.add_row(f"  {reason}", str(count))
    table.add_row("total hours (accepted)", f"{summary.hours:.3f}")
    if summary.resumed:
        table.add_row("taken from an earlier run", str(summary.resumed))
    console.print(table)
    console.print(f"manifest: {summary.manifest}\nrejected: {Path(args.out) / 'rejected.csv'}")
    if args.audio_stats and summary.accepted:
        from avssl.data.manifest import read_manifest
        from avssl.data.manifest_audio_stats import manifest_audio_stats

        stats = manifest_audio_stats(read_manifest(args.out), workers=args.workers, progress=not args.no_progress)
        stats.save(Path(args.out) / "audio_stats.npz")
        console.print(f"audio stats ({stats.count} frames): {Path(args.out) / 'audio_stats.npz'} "
                      "— use it with data.audio.stats=...")
    return 0


def _add_inspect(subparsers) -> None:
    p = subparsers.add_parser("inspect", help="what the decoders see in a file, or statistics of a manifest")
    p.add_argument("target", help="a media file, a manifest.csv, or a folder holding one")
    p.add_argument("--decoders", default="pyav", help="comma-separated back-ends to probe a file with")
    p.set_defaults(run=_run_inspect)


def _run_inspect(args: argparse.Namespace) -> int:
    from avssl.data.inspect_media import inspect_target

    return inspect_target(args.target, tuple(d.strip() for d in args.decoders.split(",") if d.strip()))


def _add_train(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a method from a config (Lightning: CPU, GPU, DDP, multi-node)")
    p.add_argument("-c", "--config", required=True, help="YAML recipe, e.g. configs/avid/kinetics.yaml")
    p.add_argument("overrides", nargs="*", help="dotted overrides, e.g. data.manifest=/data/k400 train.devices=8")
    p.set_defaults(run=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from avssl.config import load_config
    from avssl.train.run_training import train

    result = train(load_config(args.config, args.overrides))
    if result.trainer.global_rank == 0:
        print(f"run folder: {result.run_dir} (checkpoints/, tensorboard/, config.yaml)")
    return 0


def _add_export(subparsers) -> None:
    p = subparsers.add_parser("export", help="plain backbone state dict from an avssl or official AVID-CMA checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("--modality", choices=("video", "audio"), default="video")
    p.add_argument("--out", required=True, help="output .pt file (written atomically)")
    p.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from avssl.train.export_backbone import export_backbone

    print(f"wrote {export_backbone(args.checkpoint, args.modality, args.out)}")
    return 0


def _add_extract(subparsers) -> None:
    p = subparsers.add_parser("extract", help="clip- and video-level features of a labelled set from a checkpoint")
    p.add_argument("checkpoint", help="an avssl run's checkpoint (checkpoints/last.ckpt) or an official AVID-CMA file")
    p.add_argument("-c", "--config", help="eval config, e.g. configs/eval/ucf101.yaml (eval.dataset, eval.features)")
    p.add_argument("--out", required=True, help="folder for <subset>/ features (.npy/.pt + videos.csv), resumable")
    p.add_argument("--untrained", action="store_true", help="same architecture, re-initialised weights (baseline)")
    p.add_argument("overrides", nargs="*", help="dotted overrides, e.g. eval.features.stages=[conv5x,pool]")
    p.set_defaults(run=_run_extract)


def _run_extract(args: argparse.Namespace) -> int:
    from avssl.eval.eval_job import run_extract

    run_extract(args.checkpoint, args.config, args.overrides, args.out, args.untrained)
    return 0


def _add_eval(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate a checkpoint: retrieval, knn, linear, finetune or audio")
    p.add_argument("protocol", choices=("retrieval", "knn", "linear", "finetune", "audio"))
    p.add_argument("checkpoint", help="an avssl run's checkpoint (checkpoints/last.ckpt) or an official AVID-CMA file")
    p.add_argument("-c", "--config", help="eval config, e.g. configs/eval/ucf101.yaml")
    p.add_argument("--out", required=True, help="report folder (metrics.json, summary.md, plots); reruns resume")
    p.add_argument("--untrained", action="store_true", help="same architecture, re-initialised weights (baseline)")
    p.add_argument("--bn-drift", action="store_true",
                   help="linear: backbone in train mode so BatchNorm statistics drift (the official probe)")
    p.add_argument("overrides", nargs="*", help="dotted overrides, e.g. eval.dataset.fold=2 eval.knn.ks=[20]")
    p.set_defaults(run=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    from avssl.eval.eval_job import run_protocol

    overrides = [*args.overrides, *(["eval.linear.bn_drift=true"] if args.bn_drift else [])]
    run_protocol(args.protocol, args.checkpoint, args.config, overrides, args.out, args.untrained)
    return 0


def _add_demo(subparsers) -> None:
    p = subparsers.add_parser("demo", help="built-in data → prepare → tiny AVID, then AVID+CMA on CPU → retrieval report")
    p.add_argument("--out", default="avssl-demo", help="report folder (default ./avssl-demo)")
    p.add_argument("--data", help="your own DIR/train/<class>/*.mp4 and DIR/test/<class>/*.mp4 instead of the built-in data")
    p.add_argument("--make-data", metavar="DIR", help="only write the built-in data set to DIR and stop")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-cma", action="store_true", help="stop after the AVID stage (skip AVID+CMA)")
    p.add_argument("overrides", nargs="*", help="dotted overrides of the demo recipe, e.g. train.max_epochs=5; "
                                                "cma.<key>=... overrides the CMA stage only, e.g. cma.train.max_epochs=2")
    p.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    if args.make_data:
        from avssl.data.demo_data import make_demo_dataset

        summary = make_demo_dataset(args.make_data, workers=args.workers, progress=not args.no_progress)
        print(f"demo data: {summary['counts']} in {args.make_data}")
        return 0
    from avssl.demo import run_demo

    run_demo(args.out, args.data, tuple(args.overrides), workers=args.workers, progress=not args.no_progress,
             cma=not args.no_cma)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from avssl import __version__

    parser = argparse.ArgumentParser(prog="avssl", description="Audio-visual self-supervised learning.")
    parser.add_argument("--version", action="version", version=f"avssl {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_prepare(subparsers)
    _add_inspect(subparsers)
    _add_train(subparsers)
    _add_demo(subparsers)
    _add_export(subparsers)
    _add_extract(subparsers)
    _add_eval(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # Dotted overrides may follow options (`avssl eval knn CKPT --out R eval.knn.ks=[5]`): argparse
    # leaves such trailing positionals unrecognised, so they are taken back as overrides here.
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "overrides") or any(a.startswith("-") or "=" not in a for a in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = [*args.overrides, *extra]
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"avssl {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
