"""Decision-log entries: what one check or explain leaves in the log, and the export for a citizen.

An entry holds what the decision needs and nothing more: who asked, when and why, the citizen's
pseudonym, the rules used, the result (phase, confidence, flag ids with severities, the facts) and
a SHA-256 of the record. Never the notes or other free text of the record.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import getpass
import hashlib
import json
import re
import uuid
from typing import IO, TYPE_CHECKING, Any

from .store import DecisionEntry, Principal, Store

if TYPE_CHECKING:
    from .. import Record, Report


def new_decision_id() -> str:
    """A fresh decision id (uuid4, hex)."""
    return uuid.uuid4().hex


def record_hash(record: Record) -> str:
    """SHA-256 of the record as canonical JSON (sorted keys, public field names)."""
    data = record.model_dump(mode="json", by_alias=True)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def decision_entry(
    report: Report,
    record: Record,
    principal: Principal,
    purpose: str,
    store: Store,
    kind: str = "check",
    decision_id: str | None = None,
    release: str | None = None,
    rules_as_of: str | None = None,
) -> DecisionEntry:
    """The log entry for a report made from `record`, asked for by `principal` for `purpose`."""
    phase = report.phase
    return DecisionEntry(
        decision_id=decision_id or new_decision_id(),
        time=dt.datetime.now(dt.UTC),
        user=principal.name,
        role=principal.role,
        purpose=purpose,
        kind=kind,
        citizen=store.pseudonym(record.id),
        as_of=report.as_of,
        rules_as_of=rules_as_of if rules_as_of is not None else getattr(report, "rules_as_of", None),
        rulebook_name=report.rulebook.name,
        rulebook_version=report.rulebook.version,
        rulebook_hash=report.rulebook.hash,
        release=release if release is not None else getattr(report.rulebook, "release", None),
        engine=report.engine,
        phase=phase.id if phase else None,
        confidence=phase.confidence if phase else None,
        flags=[{"id": flag.id, "severity": flag.severity} for flag in report.flags],
        facts=dict(report.facts),
        record_hash=record_hash(record),
    )


def default_user() -> str:
    """The name of the operating-system user, for entries made from the command line."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def log_decision(
    store: Store, report: Report, record: Record, principal: Principal, purpose: str, kind: str = "check", **dated: Any
) -> str:
    """Build and append the entry for `report`; return its decision id once it is committed."""
    entry = decision_entry(report, record, principal, purpose, store, kind, **dated)
    store.append_decision(entry)
    return entry.decision_id


# --- Retention -------------------------------------------------------------------------------------

DEFAULT_RETENTION = "5y"
_AGE = re.compile(r"^\s*(\d{1,4})\s*([ymd])\s*$", re.IGNORECASE)


def cutoff_date(age: str, today: dt.date | None = None) -> dt.date:
    """The date `age` (Ny years, Nm months or Nd days) before `today`; ValueError for another form."""
    match = _AGE.match(age or "")
    if not match:
        raise ValueError(f"{age!r}: write the age as a number and y, m or d, e.g. 5y, 18m or 90d")
    number, unit = int(match.group(1)), match.group(2).lower()
    today = today or dt.date.today()
    if unit == "d":
        return today - dt.timedelta(days=number)
    months = today.year * 12 + today.month - 1 - (number * 12 if unit == "y" else number)
    year, month = divmod(months, 12)
    if year < 1:
        raise ValueError(f"{age!r} reaches back before the year 1")
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


# --- Export for an access request ------------------------------------------------------------------

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
    "agrees",
    "reason",
    "flag_notes",
)


def citizen_log(store: Store, citizen_id: str) -> dict:
    """Everything the log holds about one citizen: decisions and assessments, oldest first."""
    return {
        "citizen_id": citizen_id,
        "pseudonym": store.pseudonym(citizen_id),
        "exported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "decisions": store.decisions_for(citizen_id),
        "assessments": store.assessments_for(citizen_id),
    }


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
