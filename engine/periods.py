"""Validity periods: `valid_from` / `valid_to` (inclusive dates) on rules, catalogue entries and parameter values.

A period with no `valid_from` reaches back forever, one with no `valid_to` forward forever. The
same id may appear several times when the periods do not overlap (a threshold that changes on
2027-01-01 is two entries of one id). This module reads and checks the dates of one entry, finds
overlaps between the entries of one id, and cuts time into the stretches in which nothing changes.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from .errors import ProblemList
from .messages import part
from .models import Data, data_class

FIELDS = ("valid_from", "valid_to")
ONE_DAY = dt.timedelta(days=1)


@data_class(frozen=True)
class Period(Data):
    """An inclusive stretch of days; None means open on that side."""

    start: dt.date | None = None
    end: dt.date | None = None

    def contains(self, day: dt.date) -> bool:
        """Whether `day` lies in the period."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, other: Period) -> bool:
        """Whether the two periods share a day."""
        return (self.start is None or other.end is None or self.start <= other.end) and (
            other.start is None or self.end is None or other.start <= self.end
        )

    @property
    def dated(self) -> bool:
        """Whether the period has a start or an end."""
        return self.start is not None or self.end is not None

    def part(self) -> dict[str, Any]:
        """The period as a message argument (`bip_engine.messages.part`): `2026-01-01 – …`, or "always"."""
        if not self.dated:
            return part("period.always")
        return part(
            "period.span",
            start=self.start.isoformat() if self.start else "…",
            end=self.end.isoformat() if self.end else "…",
        )

    def boundaries(self) -> list[dt.date]:
        """The days on which something starts or stops being in force."""
        days = [self.start] if self.start else []
        if self.end is not None and self.end < dt.date.max:
            days.append(self.end + ONE_DAY)
        return days


ALWAYS = Period()


def read_period(data: Any, problems: ProblemList | None = None, label: dict | str = "") -> Period:
    """The period of a loaded entry (a mapping with line numbers); problems for impossible dates.

    `label` (a `bip_engine.messages.part`, such as `label.parameter`) begins each problem's message.

    D001: a date that is not a real date; D002: `valid_to` before `valid_from`. A wrong date is
    left out (the period stays open on that side) after it has been reported.
    """
    if not isinstance(data, dict):
        return ALWAYS
    days: dict[str, dt.date | None] = {}
    for name in FIELDS:
        value = data.get(name)
        days[name] = None
        if value is None:
            continue
        day = as_date(value)
        if day is None:
            if problems is not None:
                problems.add(
                    "D001.date", _path(data, name), _line(data, name), label=label, field=name, value=str(value)
                )
            continue
        days[name] = day
    start, end = days["valid_from"], days["valid_to"]
    if start and end and end < start:
        if problems is not None:
            problems.add(
                "D002.period",
                _path(data, "valid_to"),
                _line(data, "valid_to"),
                label=label,
                end=end.isoformat(),
                start=start.isoformat(),
            )
        return Period(start, start)
    return Period(start, end)


def as_date(value: Any) -> dt.date | None:
    """A date from a YAML date or a `YYYY-MM-DD` text, or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _path(data: Any, key: str) -> str | None:
    return data.path_of(key) if hasattr(data, "path_of") else getattr(data, "path", None)


def _line(data: Any, key: str) -> int | None:
    return data.line_of(key) if hasattr(data, "line_of") else getattr(data, "line", None)


def overlapping(periods: list[Period]) -> list[tuple[int, int]]:
    """Pairs (earlier index, later index) of periods that share a day."""
    return [
        (first, second)
        for second in range(len(periods))
        for first in range(second)
        if periods[first].overlaps(periods[second])
    ]


def covered(periods: Iterable[Period], within: Period) -> list[Period]:
    """The parts of `within` that none of `periods` covers (empty: fully covered)."""
    gaps = [within]
    for period in periods:
        next_gaps = []
        for gap in gaps:
            if not gap.overlaps(period):
                next_gaps.append(gap)
                continue
            if period.start is not None and (gap.start is None or gap.start < period.start):
                next_gaps.append(Period(gap.start, period.start - ONE_DAY))
            if period.end is not None and (gap.end is None or period.end < gap.end):
                next_gaps.append(Period(period.end + ONE_DAY, gap.end))
        gaps = next_gaps
    return gaps


class Timeline:
    """Time cut at every day on which something starts or stops: stretch `i` runs from cut i-1 to cut i."""

    def __init__(self, periods: Iterable[Period]):
        self.cuts: tuple[dt.date, ...] = tuple(sorted({day for period in periods for day in period.boundaries()}))

    def index(self, day: dt.date) -> int:
        """The number of the stretch that `day` lies in."""
        return bisect.bisect_right(self.cuts, day)

    def stretches(self) -> list[Period]:
        """Every stretch, in order; the first and last are open."""
        if not self.cuts:
            return [ALWAYS]
        result = [Period(None, self.cuts[0] - ONE_DAY)]
        result += [Period(start, end - ONE_DAY) for start, end in pairwise(self.cuts)]
        result.append(Period(self.cuts[-1], None))
        return result

    def representative(self, period: Period) -> dt.date:
        """A day inside `period`: its start, else its last day, else (a period open at both ends, in
        which nothing changes) the first day there is. Never the clock's: a rulebook is made ahead
        and validated the same on any day, and a check of a given date needs no time zone."""
        if period.start is not None:
            return period.start
        if period.end is not None:
            return period.end
        return dt.date.min
