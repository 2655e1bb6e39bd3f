"""Incident files: what an internal error (a bug, not bad input) leaves behind for the user to send.

`record_incident` writes the traceback, the command and the versions to `<id>.txt` in the incident
folder (`BIP_INCIDENT_DIR`, default ~/.cache/bip-engine/incidents; the system's temporary folder when
that cannot be written) and gives back the id and the file. The file holds the command line (file
names and options) and the traceback, never the contents of a citizen record.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import secrets
import sys
import tempfile
import traceback
from pathlib import Path
from typing import NamedTuple


class Incident(NamedTuple):
    """One recorded internal error: its id and the file with the details (None if none could be written)."""

    id: str
    path: Path | None


def incident_folders() -> list[Path]:
    """Where incident files go, in order of preference."""
    chosen = os.environ.get("BIP_INCIDENT_DIR") or str(Path.home() / ".cache" / "bip-engine" / "incidents")
    return [Path(chosen), Path(tempfile.gettempdir()) / "bip-incidents"]


def new_incident_id(now: dt.datetime | None = None) -> str:
    """An id that sorts by time and is unique in practice: `YYYYMMDD-HHMMSS-xxxxxx` (UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def incident_text(incident_id: str, error: BaseException, argv: list[str]) -> str:
    """The contents of an incident file."""
    from . import __version__ as bip_version

    lines = [
        f"incident: {incident_id}",
        f"command: bip {' '.join(argv)}",
        f"bip-engine: {bip_version}",
        f"python: {platform.python_version()} ({sys.executable})",
        f"platform: {platform.platform()}",
        "",
        *traceback.format_exception(error),
    ]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def record_incident(error: BaseException, argv: list[str]) -> Incident:
    """Write an incident file for `error` (raised by the command `bip ARGV`); never raises an OSError."""
    incident_id = new_incident_id()
    text = incident_text(incident_id, error, argv)
    for folder in incident_folders():
        path = folder / f"{incident_id}.txt"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return Incident(incident_id, path)
    return Incident(incident_id, None)
