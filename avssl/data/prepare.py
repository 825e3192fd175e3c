"""`avssl prepare`: a folder or list of raw videos → a validated manifest of clips that train fast.

Every file is probed in worker processes; accepted ones become manifest rows (optionally re-encoded
into the training format), rejected ones are listed with their reason. Sources are only read.
Results are logged as they finish, so a killed run resumes and yields the same manifest.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from avssl.atomic_io import write_text_atomic
from avssl.data.decoders import create_decoder
from avssl.data.manifest import ManifestRow, write_manifest
from avssl.data.media_check import MediaRequirements, check_media
from avssl.data.media_info import MediaInfo
from avssl.data.probe_log import ProbeLog, source_stamp
from avssl.data.reencode import ReencodeSpec, reencode
from avssl.data.sources import SourceVideo, discover_sources

REJECTED_NAME = "rejected.csv"
SUMMARY_NAME = "prepare_summary.json"
STATE_DIR = ".prepare"
REENCODED_DIR = "videos"


@dataclass
class PrepareSummary:
    """What a prepare run did, for the table printed at the end and for scripts."""

    accepted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    hours: float = 0.0
    resumed: int = 0
    manifest: str = ""


def prepare(
    src: str | os.PathLike,
    out: str | os.PathLike,
    needs: MediaRequirements | None = None,
    reencode_spec: ReencodeSpec | None = None,
    workers: int = 2,
    decoder: str = "pyav",
    progress: bool = True,
) -> PrepareSummary:
    """Run the whole job; see the module docstring. `workers=0` probes in this process."""
    needs = needs or MediaRequirements()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    root, sources = discover_sources(src, exclude=out)
    settings = json.dumps({"needs": asdict(needs), "reencode": asdict(reencode_spec) if reencode_spec else None,
                           "decoder": decoder}, sort_keys=True)
    log = ProbeLog(out / STATE_DIR / "probes.jsonl")
    records: dict[str, dict] = {}
    todo: list[tuple[SourceVideo, dict]] = []
    for video in sources:
        stamp = source_stamp(video.abs_path)
        record = log.done(video.rel_path, stamp, settings)
        if record is not None:
            records[video.rel_path] = record
        else:
            todo.append((video, stamp))
    summary = PrepareSummary(resumed=len(records))
    jobs = [(video, stamp, needs, reencode_spec, decoder, settings, str(out)) for video, stamp in todo]
    for record in _run(jobs, workers, progress):
        log.append(record)
        records[record["rel_path"]] = record
    _write_outputs(out, root, sources, records, needs, reencode_spec, summary)
    return summary


def _run(jobs: list[tuple], workers: int, progress: bool):
    bar = tqdm(total=len(jobs), desc="probing", unit="file", disable=not progress)
    if workers <= 0:
        for job in jobs:
            yield _process_one(*job)
            bar.update()
    else:
        pending = {job[0].rel_path: job for job in jobs}
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_process_one, *job) for job in jobs]
                for future in as_completed(futures):
                    record = future.result()
                    pending.pop(record["rel_path"], None)
                    yield record
                    bar.update()
        except BrokenProcessPool:
            # A decoder crashed a worker (e.g. a segfault inside FFmpeg). Which file did it is
            # unknown, so finish the rest one file per process and blame the one that crashes.
            for job in list(pending.values()):
                yield _run_isolated(job)
                bar.update()
    bar.close()


def _run_isolated(job: tuple) -> dict:
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(_process_one, *job).result()
    except BrokenProcessPool:
        video, stamp, _, _, _, settings, _ = job
        return {"rel_path": video.rel_path, "label": video.label, "stamp": stamp, "settings": settings,
                "info": None, "reason": "decoder crashed (worker process died)"}


def _process_one(video: SourceVideo, stamp: dict, needs: MediaRequirements, spec: ReencodeSpec | None,
                 decoder_name: str, settings: str, out: str) -> dict:
    """Probe, judge and optionally re-encode one file; never raises (a bad file is a record)."""
    import torch

    torch.set_num_threads(1)
    record = {"rel_path": video.rel_path, "label": video.label, "stamp": stamp, "settings": settings}
    verdict = check_media(video.abs_path, create_decoder(decoder_name), needs)
    record["info"] = verdict.info.to_dict() if verdict.info else None
    record["reason"] = verdict.reason
    if verdict.accepted and spec is not None:
        target = Path(out) / REENCODED_DIR / Path(video.rel_path).with_suffix(".mp4")
        try:
            reencode(video.abs_path, target, verdict.info, spec)
            copy = check_media(str(target), create_decoder("pyav"), needs)
        except Exception as error:  # noqa: BLE001 — report, skip, go on
            record["reason"] = f"re-encode failed: {type(error).__name__}: {error}"
            return record
        if not copy.accepted:
            record["reason"] = f"re-encoded copy unusable: {copy.reason}"
            return record
        record["reencoded"] = target.relative_to(out).as_posix()
        record["reencoded_info"] = copy.info.to_dict()
    return record


def _write_outputs(out: Path, root: Path, sources: list[SourceVideo], records: dict[str, dict],
                   needs: MediaRequirements, spec: ReencodeSpec | None, summary: PrepareSummary) -> None:
    rows: list[ManifestRow] = []
    rejected: list[tuple[str, str]] = []
    for video in sources:  # only what exists now, in path order
        record = records[video.rel_path]
        if record["reason"] is None:
            info = MediaInfo(**(record.get("reencoded_info") or record["info"]))
            rows.append(ManifestRow.from_info(video.rel_path, video.label, info, record.get("reencoded", "")))
        else:
            rejected.append((video.rel_path, record["reason"]))
    summary.accepted, summary.rejected = len(rows), len(rejected)
    summary.reasons = dict(collections.Counter(_reason_kind(r) for _, r in rejected).most_common())
    summary.hours = sum(r.duration for r in rows) / 3600.0
    meta = {"source_root": str(root), "created_by": "avssl prepare", "requirements": asdict(needs),
            "reencode": asdict(spec) if spec else None, "accepted": len(rows), "rejected": len(rejected)}
    summary.manifest = str(write_manifest(out, rows, meta))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", "reason"])
    writer.writerows(rejected)
    write_text_atomic(out / REJECTED_NAME, buffer.getvalue())
    write_text_atomic(out / SUMMARY_NAME, json.dumps(asdict(summary), indent=2) + "\n")


def _reason_kind(reason: str) -> str:
    """Group 'too short: 0.4 s < 2.0 s' and 'too short: 1.1 s < 2.0 s' under one heading."""
    return reason.split(":", 1)[0]
