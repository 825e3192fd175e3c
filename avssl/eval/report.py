"""The report folder every evaluation writes: metrics.json, summary.md, PNG plots, a printed table.

A protocol returns a `ProtocolReport`; `write_report` writes it (atomically, file by file) and
prints the same table in the terminal, so the numbers a person reads and the ones a script parses
are the same numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from avssl.atomic_io import write_text_atomic


@dataclass
class ProtocolReport:
    """`metrics` is JSON-able; `table` = (header, rows) of strings; `plots` are file names in the
    report folder (PNGs, report.html); `notes` are lines for the summary."""

    protocol: str
    title: str
    metrics: dict
    table: tuple[list[str], list[list[str]]]
    plots: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def percent(value: float) -> str:
    return f"{100.0 * value:.1f}"


def summary_markdown(report: ProtocolReport) -> str:
    header, rows = report.table
    lines = [f"# {report.title}", ""]
    lines += [*report.notes, ""] if report.notes else []
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    for plot in report.plots:
        lines.append(f"![{plot}]({plot})" if plot.endswith(".png") else f"- [{plot}]({plot})")
    lines.append("")
    return "\n".join(lines)


def write_report(out: str | Path, report: ProtocolReport, console: Console | None = None) -> Path:
    """metrics.json + summary.md in `out` (plots are already there), then print the table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"protocol": report.protocol, **report.metrics, "plots": report.plots}
    write_text_atomic(out / "metrics.json", json.dumps(payload, indent=2, default=float) + "\n")
    write_text_atomic(out / "summary.md", summary_markdown(report))
    console = console or Console()
    header, rows = report.table
    table = Table(title=report.title)
    for i, column in enumerate(header):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"report: {out} (metrics.json, summary.md{''.join(', ' + p for p in report.plots)})")
    return out
