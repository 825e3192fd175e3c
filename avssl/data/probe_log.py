"""Append-only log of per-file results, so an interrupted `avssl prepare` resumes where it was.

One JSON line per finished file, flushed and fsynced as it is written; a line cut short by a kill
is ignored on the next run. A record counts only while the source's size and mtime are unchanged,
so an edited source is probed again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def source_stamp(path: str) -> dict:
    """What identifies this version of a source file."""
    stat = os.stat(path)
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class ProbeLog:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.records: dict[str, dict] = {}
        if self.path.is_file():
            self._drop_torn_tail()
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by a kill
                    self.records[record["rel_path"]] = record

    def _drop_torn_tail(self) -> None:
        """Cut a last line left without its newline by a kill, so the next append starts clean."""
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)

    def done(self, rel_path: str, stamp: dict, settings_key: str) -> dict | None:
        """The stored record if it is still valid for this file version and these settings."""
        record = self.records.get(rel_path)
        if record and record.get("stamp") == stamp and record.get("settings") == settings_key:
            return record
        return None

    def append(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.records[record["rel_path"]] = record
