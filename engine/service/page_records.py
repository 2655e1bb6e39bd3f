"""Where the page gets a citizen's record: the caseload the server was started with, or a pasted one.

`CaseloadIndex` reads the caseload (`bip serve --caseload PATH`) with the same readers as
`bip batch` and re-reads it when any of its files change (size or modification time). PATH is a
folder of record files, a JSON Lines file, a single record file, or a folder holding the CSV
exports (`*.csv`, told apart by their headers). `parse_record_text` reads a pasted or uploaded
record with the same parsers and guards as `bip check`, so a bad record gives the same located
problems.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..caseload.readers import RawRecord, ReadProblem, detect_and_read
from ..caseload.unique import duplicate_problem
from ..errors import RecordError, problem
from ..yamlio import parse_json, parse_yaml


@dataclass
class CaseloadEntry:
    """One citizen of the caseload as read: its data (not yet validated) and where it was read."""

    source: str
    data: dict


@dataclass
class CaseloadSnapshot:
    """The caseload as read at one moment."""

    citizens: dict[str, CaseloadEntry] = field(default_factory=dict)
    problems: list[ReadProblem] = field(default_factory=list)
    error: str | None = None


def caseload_inputs(path: Path) -> list[str]:
    """The inputs `detect_and_read` gets for a caseload path (a folder of CSV exports gives its CSV files)."""
    if path.is_dir():
        records = [item for item in path.iterdir() if item.suffix.lower() in (".yaml", ".yml", ".json")]
        exports = sorted(str(item) for item in path.iterdir() if item.suffix.lower() == ".csv")
        if exports and not records:
            return exports
    return [str(path)]


def _signature(path: Path) -> tuple:
    """What changes when the caseload changes: every file's name, size and modification time."""
    try:
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        return tuple(
            (item.name, item.stat().st_size, item.stat().st_mtime_ns) for item in files if not item.name.startswith(".")
        )
    except OSError as error:
        return (("error", str(error)),)


class CaseloadIndex:
    """The citizens of a caseload by id, re-read when the caseload's files change."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._signature: tuple | None = None
        self._snapshot = CaseloadSnapshot()

    def snapshot(self) -> CaseloadSnapshot:
        """The current caseload (read again first if its files changed)."""
        if self.path is None:
            return self._snapshot
        signature = _signature(self.path)
        with self._lock:
            if signature != self._signature:
                self._snapshot = self._read()
                self._signature = signature
            return self._snapshot

    def _read(self) -> CaseloadSnapshot:
        snapshot = CaseloadSnapshot()
        if self.path is None:
            return snapshot
        try:
            for item in detect_and_read(caseload_inputs(self.path)):
                if isinstance(item, RawRecord) and isinstance(item.data, dict):
                    citizen = str(item.data.get("id", "")).strip()
                    if citizen and citizen not in snapshot.citizens:
                        snapshot.citizens[citizen] = CaseloadEntry(item.source, item.data)
                        continue
                    snapshot.problems.append(
                        ReadProblem(
                            item.source,
                            duplicate_problem(citizen, item.source, snapshot.citizens[citizen].source)
                            if citizen
                            else problem("R002.required", item.source, field="id"),
                        )
                    )
                elif isinstance(item, ReadProblem):
                    snapshot.problems.append(item)
                else:
                    source = getattr(item, "source", str(self.path))
                    snapshot.problems.append(ReadProblem(source, problem("R001.mapping", source)))
        except (ValueError, OSError) as error:
            snapshot.error = str(error)
        return snapshot

    def get(self, citizen_id: str) -> CaseloadEntry | None:
        """The citizen's entry, or None."""
        return self.snapshot().citizens.get(citizen_id.strip())


def parse_record_text(text: str, name: str, max_bytes: int) -> Any:
    """Load a pasted or uploaded record (YAML or JSON); raise `RecordError` with located problems."""
    if len(text.encode("utf-8")) > max_bytes:
        raise RecordError(problem("R001.too_large", name, limit=max_bytes))
    if not text.strip():
        raise RecordError(problem("R001.empty", name))
    json_like = name.lower().endswith(".json")
    data, unreadable = parse_json(text, name) if json_like else parse_yaml(text, name)
    if unreadable:
        raise RecordError(unreadable)
    return data
