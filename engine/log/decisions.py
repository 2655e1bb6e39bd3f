"""Decisions: what one check or explain leaves in the log, appended, and read back.

An entry holds what the decision needs and nothing more: who asked, when and why, the citizen's
pseudonym, the rules used, the result (phase, confidence, flag ids with severities, the facts) and
a SHA-256 of the record. Where the result came from: the software version, the templates hash
and the phase rule that decided; and a SHA-256 of the report as `report_json` writes it, with its
language and whether it held the phase margins, so `replay` can tell whether its wording changed. Never the notes or other free text of the record. The table is
append-only: the database refuses an UPDATE, and a DELETE outside `retention.purge`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .. import clock
from . import chain
from .errors import StoreValueError
from .pseudonyms import current_key_id, pseudonym, pseudonyms
from .schema import check_values, decisions
from .store import Store
from .tokens import Principal
from .values import dumps, iso, utc

if TYPE_CHECKING:
    from .. import Record, Report

KINDS = ("check", "explain", "batch", "view", "what-if", "log-read")
"""What an entry records: a check or explain (API, page, CLI), one citizen of a batch, a page view of a
logged check (the citizen version), a what-if on it, or a read of the citizen's log entries."""
MAX_TEXT = 4000
DECISION_WINDOW = dt.timedelta(hours=8)
"""How long a decision id stays usable (by the user who made it) for the page's follow-ups."""


@dataclass(frozen=True)
class DecisionEntry:
    """One line of the decision log."""

    decision_id: str
    time: dt.datetime  # UTC
    user: str
    role: str
    purpose: str
    kind: str  # one of KINDS
    citizen: str  # pseudonym
    as_of: str
    rules_as_of: str | None
    rulebook_name: str
    rulebook_version: str
    rulebook_hash: str
    release: str | None
    engine: str
    phase: str | None
    confidence: str | None
    flags: list[dict]  # [{"id", "severity"}]
    facts: dict
    record_hash: str
    key_id: str | None = None
    software_version: str | None = None
    templates_hash: str | None = None
    phase_rule: str | None = None
    report_hash: str | None = None
    language: str | None = None
    margins: bool | None = None


def new_decision_id() -> str:
    """A fresh decision id (uuid4, hex)."""
    return uuid.uuid4().hex


def report_hash(report: Report, written: str | None = None) -> str:
    """SHA-256 of the report as `report_json` writes it (UTF-8); `written` is that text when the caller has it."""
    if written is None:
        from ..check import report_json

        written = report_json(report)
    return hashlib.sha256(written.encode("utf-8")).hexdigest()


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
    report_text: str | None = None,
) -> DecisionEntry:
    """The log entry for a report made from `record`, asked for by `principal` for `purpose`.

    `report_text` is the report as `report_json` wrote it, when the caller wrote it already (the
    answer's body): its hash is taken of that text instead of writing the report a second time.
    """
    phase = report.phase
    return DecisionEntry(
        decision_id=decision_id or new_decision_id(),
        time=dt.datetime.now(dt.UTC),
        user=principal.name,
        role=principal.role,
        purpose=purpose,
        kind=kind,
        citizen=pseudonym(store, record.id),
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
        key_id=current_key_id(store),
        software_version=report.rulebook.software_version,
        templates_hash=report.rulebook.templates_hash,
        phase_rule=phase.rule if phase else None,
        report_hash=report_hash(report, report_text),
        language=report.language,
        margins=report.phase_margins is not None,
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
    append_decision(store, entry)
    return entry.decision_id


def append_decision(store: Store, entry: DecisionEntry) -> None:
    """Append one decision; it is committed (durable against a crash of this process) on return."""
    append_decisions(store, [decision_values(entry)])


def append_decisions(store: Store, rows: list[dict[str, Any]]) -> None:
    """Append decisions (each from `decision_values`) in one transaction: all are committed on return, or none."""
    with store.write(keep_tails=True) as conn:
        chain.append(conn, decisions, rows, store.tails)


def append_each(store: Store, rows: list[dict[str, Any]]) -> list[Exception | None]:
    """Append decisions together; if that fails, each alone, so one bad row never fails the others.

    The outcome of each row, in order: None when it is committed, else the error that refused it.
    """
    try:
        append_decisions(store, rows)
        return [None] * len(rows)
    except Exception:  # find which row it was: each is tried on its own below
        if len(rows) == 1:
            raise
    outcomes: list[Exception | None] = []
    for row in rows:
        try:
            append_decisions(store, [row])
            outcomes.append(None)
        except Exception as error:  # noqa: BLE001 - this row's own failure, answered to its own request
            outcomes.append(error)
    return outcomes


def try_append_decisions(store: Store, rows: list[dict[str, Any]]) -> bool:
    """Append as `append_decisions` does if that needs no wait; else False, and nothing is written.

    Only a SQLite log whose write lock is free at this moment is written here (a local file: the
    commit is an append to the write-ahead log, without fsync). PostgreSQL, or a SQLite log that
    another writer holds (another worker's commit, `bip log purge`), gives False.
    """
    if store.dialect != "sqlite":
        return False
    return store.write_if_free(lambda conn: chain.append(conn, decisions, rows, store.tails), keep_tails=True)


def decision_values(entry: DecisionEntry) -> dict[str, Any]:
    """The row of one decision, checked (`StoreValueError` for a kind or purpose the log refuses)."""
    if entry.kind not in KINDS:
        raise StoreValueError("kind", kind=entry.kind, kinds=", ".join(KINDS))
    values = {
        "decision_id": entry.decision_id,
        "time": utc(entry.time),
        "user_name": entry.user,
        "role": entry.role,
        "purpose": entry.purpose,
        "kind": entry.kind,
        "citizen": entry.citizen,
        "as_of": entry.as_of,
        "rules_as_of": entry.rules_as_of,
        "rulebook_name": entry.rulebook_name,
        "rulebook_version": entry.rulebook_version,
        "rulebook_hash": entry.rulebook_hash,
        "release": entry.release,
        "engine": entry.engine,
        "phase": entry.phase,
        "confidence": entry.confidence,
        "flags": dumps(list(entry.flags)),
        "facts": dumps(entry.facts),
        "record_hash": entry.record_hash,
        "key_id": entry.key_id,
        "software_version": entry.software_version,
        "templates_hash": entry.templates_hash,
        "phase_rule": entry.phase_rule,
        "report_hash": entry.report_hash,
        "language": entry.language,
        "margins": entry.margins,
    }
    check_values(decisions, values, MAX_TEXT)
    return values


def _as_dict(row: Any) -> dict:
    """A decision row as the log hands it out (the DecisionEntry's fields; time as ISO 8601 UTC)."""
    return {
        "decision_id": row.decision_id,
        "time": iso(row.time),
        "user": row.user_name,
        "role": row.role,
        "purpose": row.purpose,
        "kind": row.kind,
        "citizen": row.citizen,
        "as_of": row.as_of,
        "rules_as_of": row.rules_as_of,
        "rulebook_name": row.rulebook_name,
        "rulebook_version": row.rulebook_version,
        "rulebook_hash": row.rulebook_hash,
        "release": row.release,
        "engine": row.engine,
        "phase": row.phase,
        "confidence": row.confidence,
        "flags": json.loads(row.flags),
        "facts": json.loads(row.facts),
        "record_hash": row.record_hash,
        "key_id": row.key_id,
        "software_version": row.software_version,
        "templates_hash": row.templates_hash,
        "phase_rule": row.phase_rule,
        "report_hash": row.report_hash,
        "language": row.language,
        "margins": None if row.margins is None else bool(row.margins),
    }


def find_decision(store: Store, decision_id: str) -> dict | None:
    """One logged decision (the DecisionEntry's fields; time as ISO 8601 UTC), or None."""
    with store.read() as conn:
        row = conn.execute(sa.select(decisions).where(decisions.c.decision_id == decision_id)).first()
    return _as_dict(row) if row else None


def decisions_for(store: Store, citizen_id: str) -> list[dict]:
    """Every logged decision about a citizen (id in clear; looked up by pseudonym), oldest first."""
    query = (
        sa.select(decisions)
        .where(decisions.c.citizen.in_(pseudonyms(store, citizen_id)))
        .order_by(decisions.c.time, decisions.c.seq)
    )
    with store.read() as conn:
        return [_as_dict(row) for row in conn.execute(query)]


def latest_decision(store: Store, citizen_id: str, kind: str = "check") -> dict | None:
    """The citizen's most recent decision of `kind`, or None."""
    query = (
        sa.select(decisions)
        .where(decisions.c.citizen.in_(pseudonyms(store, citizen_id)), decisions.c.kind == kind)
        .order_by(decisions.c.time.desc(), decisions.c.seq.desc())
        .limit(1)
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    return _as_dict(row) if row else None


def count_decisions(store: Store, kind: str | None = None) -> int:
    """How many decisions the log holds (of `kind` only, e.g. "check" or "what-if", when given)."""
    query = sa.select(sa.func.count()).select_from(decisions)
    if kind is not None:
        query = query.where(decisions.c.kind == kind)
    with store.read() as conn:
        return conn.execute(query).scalar_one()


def decision_of(store: Store, decision_id: str, principal: Principal, citizen_id: str | None = None) -> dict | None:
    """A logged check that `principal` may build on (a what-if, the citizen version, an assessment), or None.

    Only the user who made the decision, in the same role, within `DECISION_WINDOW` of it, and (when
    `citizen_id` is given) only about that citizen: a decision id is not a ticket for anyone else.
    """
    decision = find_decision(store, decision_id) if decision_id else None
    if decision is None or decision["kind"] != "check":
        return None
    if decision["user"] != principal.name or decision["role"] != principal.role:
        return None
    made = dt.datetime.fromisoformat(decision["time"].replace("Z", "+00:00"))
    if not dt.timedelta(0) <= dt.datetime.now(dt.UTC) - made <= DECISION_WINDOW:
        return None
    if citizen_id is not None and decision["citizen"] not in pseudonyms(store, citizen_id):
        return None
    return decision


def look_entry(
    store: Store,
    principal: Principal,
    kind: str,
    purpose: str,
    citizen_id: str,
    basis: dict | None = None,
    **result: Any,
) -> dict[str, Any]:
    """The row of a look at a citizen's data that is not a check of its own: a batch line, a page view,
    a what-if or a log read. `basis` is the logged decision it builds on (its rules, software version,
    templates hash and phase rule are copied); `result` may give phase, phase_rule, confidence, flags,
    facts, record_hash and software_version."""
    basis = basis or {}
    entry = DecisionEntry(
        decision_id=new_decision_id(),
        time=dt.datetime.now(dt.UTC),
        user=principal.name,
        role=principal.role,
        purpose=purpose,
        kind=kind,
        citizen=pseudonym(store, citizen_id),
        as_of=str(result.get("as_of") or basis.get("as_of") or clock.today().isoformat()),
        rules_as_of=basis.get("rules_as_of"),
        rulebook_name=str(result.get("rulebook_name") or basis.get("rulebook_name") or ""),
        rulebook_version=str(result.get("rulebook_version") or basis.get("rulebook_version") or ""),
        rulebook_hash=str(result.get("rulebook_hash") or basis.get("rulebook_hash") or ""),
        release=basis.get("release"),
        engine=str(result.get("engine") or basis.get("engine") or ""),
        phase=result.get("phase"),
        confidence=result.get("confidence"),
        flags=list(result.get("flags") or []),
        facts=dict(result.get("facts") or ({"based_on": basis["decision_id"]} if basis else {})),
        record_hash=str(result.get("record_hash") or ""),
        key_id=current_key_id(store),
        software_version=result.get("software_version") or basis.get("software_version"),
        templates_hash=basis.get("templates_hash"),
        phase_rule=result.get("phase_rule") or basis.get("phase_rule"),
    )
    return decision_values(entry)


def log_follow_up(store: Store, principal: Principal, decision: dict, kind: str, record: Record) -> str:
    """Log a look that builds on a logged check (the page's `what-if` or citizen `view`); return its id.

    The entry names the check it builds on (`facts.based_on`), its purpose and rules, and the record's hash.
    """
    row = look_entry(
        store, principal, kind, decision["purpose"], record.id, basis=decision, record_hash=record_hash(record)
    )
    append_decisions(store, [row])
    return str(row["decision_id"])
