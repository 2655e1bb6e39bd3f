"""Retention: decisions older than the retention period are deleted, with their assessments.

Only `purge` deletes: the database refuses any other DELETE of a decision or an assessment (a
trigger lets through only the rows older than the cutoff that `purge` writes for its transaction).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import sqlalchemy as sa

from .schema import assessments, decisions, purge_window
from .store import Store

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


def purge(store: Store, older_than: dt.date) -> int:
    """Delete decisions made before `older_than` (UTC midnight), with their assessments; return how many."""
    cutoff = dt.datetime.combine(older_than, dt.time(), dt.UTC)
    old = sa.select(decisions.c.decision_id).where(decisions.c.time < cutoff)
    with store.write() as conn:
        conn.execute(purge_window.insert().values(cutoff=cutoff))
        conn.execute(assessments.delete().where(assessments.c.decision_id.in_(old)))
        deleted = conn.execute(decisions.delete().where(decisions.c.time < cutoff)).rowcount
        conn.execute(purge_window.delete())
    return deleted
