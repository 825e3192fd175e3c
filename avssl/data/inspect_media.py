"""`avssl inspect`: what the decoders see in one file, or summary statistics of a manifest."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from avssl.data.decoders import DecodeError, create_decoder
from avssl.data.decoders.pyav_frames import open_container
from avssl.data.manifest import MANIFEST_NAME, read_manifest


def inspect_target(target: str, decoders: tuple[str, ...] = ("pyav",), console: Console | None = None) -> int:
    """Print a report for a media file, a manifest csv or a folder holding one; return an exit code."""
    console = console or Console()
    path = Path(target)
    if path.is_dir() or path.suffix == ".csv":
        return _inspect_manifest(path, console)
    return _inspect_file(path, decoders, console)


def _inspect_file(path: Path, decoders: tuple[str, ...], console: Console) -> int:
    if not path.is_file():
        console.print(f"[red]{path}: no such file[/red]")
        return 2
    table = Table(title=f"{path} — container headers (as written, may be wrong or missing)")
    for column in ("stream", "codec", "start (s)", "duration (s)", "rate", "size / channels", "frames"):
        table.add_column(column)
    try:
        with open_container(str(path)) as container:
            console.print(f"format: {container.format.name}; header duration: "
                          f"{container.duration / 1e6 if container.duration else 'missing'} s")
            for stream in container.streams:
                tb = stream.time_base
                start = f"{float(stream.start_time * tb):.3f}" if stream.start_time is not None and tb else "—"
                dur = f"{float(stream.duration * tb):.3f}" if stream.duration and tb else "missing"
                if stream.type == "video":
                    rate, shape = str(stream.average_rate or stream.guessed_rate), f"{stream.width}×{stream.height}"
                elif stream.type == "audio":
                    rate, shape = f"{stream.rate} Hz", f"{stream.channels} ch ({stream.layout.name})"
                else:
                    rate, shape = "—", "—"
                table.add_row(f"#{stream.index} {stream.type}", stream.codec_context.name if stream.codec_context else "?",
                              start, dur, rate, shape, str(stream.frames or "—"))
        console.print(table)
    except Exception as error:  # noqa: BLE001 — inspect reports, never crashes
        console.print(f"[red]headers unreadable: {error}[/red]")
    status = 0
    for name in decoders:
        try:
            info = create_decoder(name).probe(str(path))
        except (DecodeError, ImportError) as error:
            console.print(f"[red]{name}: {error}[/red]")
            status = 1
            continue
        measured = Table(title=f"{name}: measured by decoding")
        measured.add_column("field")
        measured.add_column("value")
        for key, value in info.to_dict().items():
            if key != "path":
                measured.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
        measured.add_row("usable A/V span (s)", f"{info.av_start:.3f} – {info.av_end:.3f} ({info.duration:.3f})")
        console.print(measured)
    return status


def _inspect_manifest(path: Path, console: Console) -> int:
    manifest = read_manifest(path)
    rows = manifest.rows
    durations = [r.duration for r in rows]
    table = Table(title=f"{path if path.suffix == '.csv' else path / MANIFEST_NAME}")
    table.add_column("statistic")
    table.add_column("value")
    table.add_row("videos", str(len(rows)))
    table.add_row("classes", f"{len(manifest.class_names)}" + (f" ({', '.join(manifest.class_names[:8])}"
                                                                 f"{', …' if len(manifest.class_names) > 8 else ''})"
                                                                 if manifest.class_names else ""))
    if rows:
        table.add_row("total hours", f"{sum(durations) / 3600:.3f}")
        table.add_row("duration s (min / median / max)",
                      f"{min(durations):.2f} / {statistics.median(durations):.2f} / {max(durations):.2f}")
        for title, values in (
            ("video fps", [f"{r.video_fps:.3g}" for r in rows]),
            ("resolution", [f"{r.width}×{r.height}" for r in rows]),
            ("audio rate", [f"{r.audio_rate} Hz" for r in rows]),
            ("audio channels", [str(r.audio_channels) for r in rows]),
            ("codecs", [f"{r.video_codec}/{r.audio_codec}" for r in rows]),
        ):
            table.add_row(title, ", ".join(f"{k} ×{n}" for k, n in Counter(values).most_common(5)))
        table.add_row("re-encoded", str(sum(1 for r in rows if r.reencoded)))
    table.add_row("source root", str(manifest.source_root))
    console.print(table)
    return 0
