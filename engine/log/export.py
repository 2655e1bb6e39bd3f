"""The export for a citizen's access request: everything the log holds about one citizen.

Reading it is itself a look at the citizen's data: `read_citizen_log` appends a `log-read` entry
(who, why) before it returns what the log holds, so the next export shows this one too.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from typing import IO, Any

from .assessments import assessments_for
from .decisions import append_decisions, decisions_for, look_entry
from .pseudonyms import pseudonym
from .store import Store
from .tokens import Principal

EXPORT_FORMATS = ("json", "jsonl", "csv")
CSV_COLUMNS = (
    "type",
    "time",
    "decision_id",
    "assessment_id",
    "user",
    "role",
    "purpose",
    "kind",
    "as_of",
    "rules_as_of",
    "rulebook_name",
    "rulebook_version",
    "rulebook_hash",
    "release",
    "engine",
    "phase",
    "confidence",
    "flags",
    "facts",
    "record_hash",
    "phase_rule",
    "software_version",
    "templates_hash",
    "report_hash",
    "agrees",
    "reason",
    "flag_notes",
)


def citizen_log(store: Store, citizen_id: str) -> dict:
    """Everything the log holds about one citizen: decisions and assessments, oldest first."""
    return {
        "citizen_id": citizen_id,
        "pseudonym": pseudonym(store, citizen_id),
        "exported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "decisions": decisions_for(store, citizen_id),
        "assessments": assessments_for(store, citizen_id),
    }


def read_citizen_log(store: Store, citizen_id: str, principal: Principal, purpose: str) -> dict:
    """Log that `principal` reads the citizen's entries for `purpose`, then return them (`citizen_log`)."""
    append_decisions(store, [look_entry(store, principal, "log-read", purpose, citizen_id)])
    return citizen_log(store, citizen_id)


def _csv_cell(value: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_export(log: dict, fmt: str, out: IO[str]) -> int:
    """Write a `citizen_log` as json, jsonl (one item a line, with its type) or csv; return the items written."""
    items = [("decision", entry) for entry in log["decisions"]] + [
        ("assessment", entry) for entry in log["assessments"]
    ]
    if fmt == "json":
        out.write(json.dumps(log, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "jsonl":
        for kind, entry in items:
            out.write(json.dumps({"type": kind, **entry}, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for kind, entry in sorted(items, key=lambda item: item[1]["time"]):
            row = {"type": kind, **entry}
            if kind == "decision":
                row["flags"] = " ".join(f"{flag['id']}:{flag['severity']}" for flag in entry["flags"])
            writer.writerow([_csv_cell(row.get(column)) for column in CSV_COLUMNS])
    else:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    return len(items)
