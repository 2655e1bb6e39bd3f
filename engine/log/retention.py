"""Retention: decisions older than the retention period are deleted, with their assessments.

Only `purge` deletes: the database refuses any other DELETE of a decision or an assessment (a
trigger lets through only the rows older than the cutoff that `purge` writes for its transaction).
A purge leaves its own entry in the `purges` chain: who, when, the cutoff, how many entries went,
and the hash of the last entry it deleted of each chain, which the remaining chain now starts from
(`chain.anchor`), so `bip log verify` still checks the log whole after it. A period shorter than
`MINIMUM_RETENTION` is refused unless forced, and a forced purge says so in its entry.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa

from .. import clock
from . import chain
from .errors import StoreValueError
from .schema import assessments, decisions, purge_window, purges
from .store import Store
from .values import now

DEFAULT_RETENTION = "5y"
MINIMUM_RETENTION = "1y"
"""The shortest period a purge keeps without `force`: a decision stays reviewable for a year at least
(a complaint, an audit or an access request comes months after the meeting)."""
_AGE = re.compile(r"^\s*(\d{1,4})\s*([ymd])\s*$", re.IGNORECASE)


def cutoff_date(age: str, today: dt.date | None = None) -> dt.date:
    """The date `age` (Ny years, Nm months or Nd days) before `today`; ValueError for another form."""
    match = _AGE.match(age or "")
    if not match:
        raise ValueError(f"{age!r}: write the age as a number and y, m or d, e.g. 5y, 18m or 90d")
    number, unit = int(match.group(1)), match.group(2).lower()
    today = today or clock.today()
    if unit == "d":
        return today - dt.timedelta(days=number)
    months = today.year * 12 + today.month - 1 - (number * 12 if unit == "y" else number)
    year, month = divmod(months, 12)
    if year < 1:
        raise ValueError(f"{age!r} reaches back before the year 1")
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted (or, in a dry run, would delete)."""

    cutoff: dt.date
    decisions: int
    assessments: int
    dry_run: bool
    forced: bool


def purge(
    store: Store,
    older_than: dt.date,
    user: str,
    dry_run: bool = False,
    force: bool = False,
    today: dt.date | None = None,
) -> PurgeResult:
    """Delete decisions made before `older_than` (its midnight in `clock.zone()`), with their assessments, and record the purge.

    `StoreValueError("purge_too_recent")` when `older_than` is later than `MINIMUM_RETENTION` before
    today, unless `force`. With `dry_run` nothing is deleted or written: the counts are what would go.
    """
    if older_than > cutoff_date(MINIMUM_RETENTION, today) and not force:
        raise StoreValueError("purge_too_recent", date=older_than.isoformat(), minimum=MINIMUM_RETENTION)
    cutoff = clock.day_start(older_than)
    old = sa.select(decisions.c.decision_id).where(decisions.c.time < cutoff)
    old_assessments = assessments.c.decision_id.in_(old)
    if dry_run:
        with store.read() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(decisions).where(decisions.c.time < cutoff))
            counted = conn.execute(sa.select(sa.func.count()).select_from(assessments).where(old_assessments))
            return PurgeResult(older_than, count.scalar_one(), counted.scalar_one(), True, force)
    with store.write() as conn:
        chain.lock(conn)
        anchors = {}
        for name, table, which in (
            ("decisions", decisions, decisions.c.time < cutoff),
            ("assessments", assessments, old_assessments),
        ):
            last = conn.execute(
                sa.select(table.c.seq, table.c.entry_hash).where(which).order_by(table.c.seq.desc()).limit(1)
            ).first()
            anchors[name] = (int(last.seq), last.entry_hash) if last is not None else chain.anchor(conn, name)
        conn.execute(purge_window.insert().values(cutoff=cutoff))
        deleted_assessments = conn.execute(assessments.delete().where(old_assessments)).rowcount
        deleted = conn.execute(decisions.delete().where(decisions.c.time < cutoff)).rowcount
        conn.execute(purge_window.delete())
        entry = {
            "time": now(),
            "user_name": user,
            "cutoff": older_than.isoformat(),
            "forced": bool(force),
            "decisions_deleted": deleted,
            "assessments_deleted": deleted_assessments,
            "decisions_last_seq": anchors["decisions"][0],
            "decisions_anchor": anchors["decisions"][1],
            "assessments_last_seq": anchors["assessments"][0],
            "assessments_anchor": anchors["assessments"][1],
        }
        chain.append(conn, purges, [entry])
    return PurgeResult(older_than, deleted, deleted_assessments, False, force)
