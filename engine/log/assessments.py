"""Assessments: a caseworker's own view of a logged decision (agrees or not, phase, reason, flag notes).

Append-only, like the decisions they refer to; deleted only with their decision by a purge.
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from . import chain
from .decisions import MAX_TEXT
from .errors import StoreValueError
from .pseudonyms import pseudonyms
from .schema import assessments, check_values, decisions
from .store import Store
from .tokens import Principal
from .values import dumps, iso, now

FLAG_NOTE_STATUSES = ("acted", "not_relevant")


def append_assessment(
    store: Store,
    decision_id: str,
    principal: Principal,
    agrees: bool,
    phase: str | None,
    reason: str | None,
    flag_notes: dict[str, dict],
) -> str:
    """Append a caseworker's own assessment of a logged decision; return its id.

    `flag_notes` maps a flag id to {"status": "acted"|"not_relevant", "note": str}. ValueError when
    the decision is not in the log or a value is out of bounds.
    """
    if reason is not None and len(reason) > MAX_TEXT:
        raise StoreValueError("too_long", field="reason", limit=MAX_TEXT)
    notes = {}
    for flag, item in (flag_notes or {}).items():
        note = item.get("note") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or item.get("status") not in FLAG_NOTE_STATUSES
            or not isinstance(note or "", str)
            or len(note or "") > MAX_TEXT
            or "\x00" in (note or "")
            or "\x00" in str(flag)
        ):
            raise StoreValueError("flag_note", flag=flag, limit=MAX_TEXT)
        notes[str(flag)] = {"status": item["status"], "note": note or ""}
    assessment_id = uuid.uuid4().hex
    values = {
        "assessment_id": assessment_id,
        "decision_id": decision_id,
        "time": now(),
        "user_name": principal.name,
        "role": principal.role,
        "agrees": bool(agrees),
        "phase": phase,
        "reason": reason,
        "flag_notes": dumps(notes),
    }
    check_values(assessments, values, MAX_TEXT)
    with store.write() as conn:
        exists = conn.execute(sa.select(decisions.c.seq).where(decisions.c.decision_id == decision_id)).first()
        if exists is None:
            raise StoreValueError("no_decision", decision_id=decision_id)
        chain.append(conn, assessments, [values])
    return assessment_id


def assessments_for(store: Store, citizen_id: str) -> list[dict]:
    """Every assessment of a decision about this citizen, oldest first."""
    query = (
        sa.select(assessments)
        .join(decisions, decisions.c.decision_id == assessments.c.decision_id)
        .where(decisions.c.citizen.in_(pseudonyms(store, citizen_id)))
        .order_by(assessments.c.time, assessments.c.seq)
    )
    with store.read() as conn:
        return [
            {
                "assessment_id": row.assessment_id,
                "decision_id": row.decision_id,
                "time": iso(row.time),
                "user": row.user_name,
                "role": row.role,
                "agrees": bool(row.agrees),
                "phase": row.phase,
                "reason": row.reason,
                "flag_notes": json.loads(row.flag_notes),
            }
            for row in conn.execute(query)
        ]
