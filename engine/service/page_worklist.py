"""The caseworker's worklist: every citizen of the caseload in triage order, searchable and paged.

`build_worklist` evaluates each citizen of a caseload snapshot once (the same `Checker.evaluate`
as `bip batch`) and keeps one small `WorklistRow` per citizen: phase, flags with their severity,
months since the latest measurement and without an active intervention, and the current
caseworker. It runs off the request path (the caseload's background thread, `page_records`); a
request only filters, sorts and slices the rows in memory (`query_worklist`), which stays in the
milliseconds at 10,000 citizens (`benchmarks/worklist.py`).

The default order is the documented triage order of `bip batch --order triage`
(`bip_engine.caseload.batch.triage_key`): phase urgency, then flags by severity, then (the page's
tie-break) the sooner next meeting, then id. The next meeting is the earliest booked meeting dated
after the worklist's date (`next_meeting`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..caseload.batch import strongest_rules, triage_key
from ..errors import BipError
from ..severity import SEVERITY_ORDER

if TYPE_CHECKING:
    from ..check import Checker
    from .page_records import CaseloadEntry

PAGE_SIZE = 25
SORTS = ("triage", "meeting", "measured", "intervention", "id")
LANGS = ("da", "en")


@dataclass(frozen=True)
class WorklistRow:
    """One citizen's line in the worklist (ids only: the page puts them in words)."""

    citizen_id: str
    phase: str | None
    high: int
    medium: int
    low: int
    flags: tuple[str, ...]  # most severe first
    months_measured: float | None  # months since the latest measurement (None: never measured)
    months_without: float | None  # months without an active intervention (0 while one is active)
    caseworker: str | None  # the caseworker assigned on the worklist's date
    team: str | None = None  # that caseworker's team, when the export names it
    next_meeting: dt.date | None = None  # the earliest meeting dated after the worklist's date, not cancelled

    def triage(self) -> tuple:
        """The row's place in the triage order; among equally urgent rows, the sooner next meeting first."""
        key = triage_key(
            {
                "phase": self.phase,
                "high": self.high,
                "medium": self.medium,
                "low": self.low,
                "citizen_id": self.citizen_id,
            }
        )
        return (*key[:-1], self.next_meeting or dt.date.max, key[-1])


@dataclass
class Worklist:
    """The rows of one caseload snapshot on one date, in triage order, and the words to show them."""

    as_of: dt.date
    rows: list[WorklistRow]
    flag_titles: dict[str, dict[str, str]]  # lang → flag id → title
    flag_severity: dict[str, str]
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (source, problem text in Danish)
    _orders: dict[str, list[WorklistRow]] = field(default_factory=dict)
    _facets: dict[str, list[str]] = field(default_factory=dict)

    def ordered(self, sort: str) -> list[WorklistRow]:
        """The rows in `sort` order (computed once per snapshot; ties in triage order)."""
        if sort not in self._orders:
            if sort == "measured":  # longest since a measurement first; never measured before all
                key = lambda row: -(math.inf if row.months_measured is None else row.months_measured)  # noqa: E731
                self._orders[sort] = sorted(self.rows, key=key)
            elif sort == "meeting":  # the sooner next meeting first; citizens without one last
                self._orders[sort] = sorted(self.rows, key=lambda row: row.next_meeting or dt.date.max)
            elif sort == "intervention":
                self._orders[sort] = sorted(self.rows, key=lambda row: -(row.months_without or 0.0))
            elif sort == "id":
                self._orders[sort] = sorted(self.rows, key=lambda row: row.citizen_id)
            else:
                self._orders[sort] = self.rows
        return self._orders[sort]

    def facets(self) -> dict[str, list[str]]:
        """The values the filters offer: flags (most frequent first) and caseworkers (by id); computed once."""
        if not self._facets:
            flags = Counter(flag for row in self.rows for flag in row.flags)
            self._facets = {
                "flags": [flag for flag, _ in sorted(flags.items(), key=lambda item: (-item[1], item[0]))],
                "caseworkers": sorted({row.caseworker for row in self.rows if row.caseworker}),
                "teams": sorted({row.team for row in self.rows if row.team}),
            }
        return self._facets


def _caseworker_on(record_caseworkers: Iterable, as_of: dt.date) -> tuple[str | None, str | None]:
    """The caseworker assigned on `as_of` and their team (None where not known)."""
    current: tuple[str | None, str | None] = (None, None)
    for assignment in sorted(record_caseworkers, key=lambda item: item.from_):
        if assignment.from_ <= as_of:
            current = (assignment.id, assignment.team)
    return current


def next_meeting(meetings: Iterable, as_of: dt.date) -> dt.date | None:
    """The date of the earliest meeting after `as_of` that is not cancelled (None when none is booked).

    A meeting after the check date is a booked one: the facts leave it out (it has not been held),
    the worklist shows it so the caseworker sees who comes in first.
    """
    return min((item.date for item in meetings if item.date > as_of and item.status != "cancelled"), default=None)


def build_worklist(checker: Checker, citizens: dict[str, CaseloadEntry], as_of: dt.date) -> Worklist:
    """Evaluate every citizen once on `as_of` and put the rows in triage order.

    A record that cannot be checked is left out of the rows and listed in `rejected`. A flag's
    title comes from the first report that raised it, in each language (titles are the guidance's
    `title` blocks).
    """
    rows, rejected = [], []
    titles: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    severity: dict[str, str] = {}
    for entry in citizens.values():
        try:
            record = checker.parse_record(entry.data, entry.source)
            evaluation = checker.evaluate(record, as_of)
        except BipError as error:
            rejected.append((entry.source, "; ".join(item.text("da") for item in error.problems)))
            continue
        strongest = sorted(strongest_rules(evaluation.outcome.flag_rules), key=lambda rule: rule.rank)
        by_flag: dict[str, str] = {str(rule.conclusion): str(rule.severity) for rule in strongest}
        counts = Counter(by_flag.values())
        if any(flag not in titles["da"] for flag in evaluation.flags):
            for lang in LANGS:
                for flag in checker.report(evaluation, lang).flags:
                    titles[lang].setdefault(flag.id, flag.title)
        severity.update(by_flag)
        flags = tuple(
            sorted(evaluation.flags, key=lambda flag: (SEVERITY_ORDER.get(by_flag.get(flag, "low"), 3), flag))
        )
        facts = evaluation.facts
        caseworker, team = _caseworker_on(record.caseworkers, as_of)
        rows.append(
            WorklistRow(
                citizen_id=record.id,
                phase=evaluation.phase,
                high=counts["high"],
                medium=counts["medium"],
                low=counts["low"],
                flags=flags,
                months_measured=facts.get("months_since_measurement"),
                months_without=facts.get("months_without_intervention"),
                caseworker=caseworker,
                team=team,
                next_meeting=next_meeting(record.meetings, as_of),
            )
        )
    rows.sort(key=WorklistRow.triage)
    return Worklist(as_of, rows, titles, severity, rejected)


@dataclass(frozen=True)
class WorklistQuery:
    """What the caseworker asked the worklist for: search, filters, order and page (all optional)."""

    q: str = ""
    phase: str = ""  # a phase id, "none" for no phase, "" for all
    flag: str = ""
    caseworker: str = ""
    team: str = ""
    sort: str = "triage"
    page: int = 1

    @classmethod
    def from_params(cls, params: dict[str, str]) -> WorklistQuery:
        """A query from the URL's parameters; unknown or malformed values fall back to the defaults."""
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        sort = params.get("sort") or "triage"
        return cls(
            q=(params.get("q") or "").strip()[:100],
            phase=(params.get("phase") or "").strip()[:50],
            flag=(params.get("flag") or "").strip()[:100],
            caseworker=(params.get("caseworker") or "").strip()[:100],
            team=(params.get("team") or "").strip()[:100],
            sort=sort if sort in SORTS else "triage",
            page=min(page, 1_000_000),
        )

    def params(self, **changed: object) -> dict[str, str]:
        """This query as URL parameters (defaults left out), with some values changed."""
        values = {
            "q": self.q,
            "phase": self.phase,
            "flag": self.flag,
            "caseworker": self.caseworker,
            "team": self.team,
            "sort": self.sort,
            "page": str(self.page),
        }
        values.update({key: str(value) for key, value in changed.items()})
        defaults = {"sort": "triage", "page": "1"}
        return {key: value for key, value in values.items() if value and defaults.get(key) != value}


@dataclass(frozen=True)
class WorklistPage:
    """One page of the worklist's answer to a query."""

    rows: list[WorklistRow]
    total: int  # rows matching the query
    page: int
    pages: int
    first: int  # the 1-based position of the page's first row (0 when empty)


def query_worklist(
    worklist: Worklist, query: WorklistQuery, size: int = PAGE_SIZE, only: Collection[str] | None = None
) -> WorklistPage:
    """The rows matching `query` (search by id, filters by phase, flag, caseworker and team), one page of them.

    `only`, when given, are the citizens the user may see (`scoping.visible`); the rest are never listed.
    """
    needle = query.q.casefold()
    phase: str | None = query.phase
    rows = worklist.ordered(query.sort)
    if only is not None:
        rows = [row for row in rows if row.citizen_id in only]
    if needle:
        rows = [row for row in rows if needle in row.citizen_id.casefold()]
    if phase:
        wanted = None if phase == "none" else phase
        rows = [row for row in rows if row.phase == wanted]
    if query.flag:
        rows = [row for row in rows if query.flag in row.flags]
    if query.caseworker:
        rows = [row for row in rows if row.caseworker == query.caseworker]
    if query.team:
        rows = [row for row in rows if row.team == query.team]
    total = len(rows)
    pages = max(1, math.ceil(total / size))
    page = min(query.page, pages)
    start = (page - 1) * size
    return WorklistPage(rows[start : start + size], total, page, pages, start + 1 if total else 0)
