"""Whose citizens a user may see: a caseworker their own caseload, a team lead their team's.

The caseload names each citizen's caseworkers (the record's `caseworkers` list, the `caseworkers`
CSV export: caseworker_id, from and, optionally, team). The citizen's caseworker *now* is the entry
with the latest `from` that is not in the future; its `team` is the citizen's team.

Who is scoped. Users signed in through the municipality's identity provider (`--oidc`) are: their
caseworker id and team come from the provider's claims (`bip_engine.service.oidc`).

- `caseworker`: the citizens whose caseworker now is the user;
- `team_lead`: those whose caseworker now is in the user's team, and the user's own;
- any other role (auditor, system, policy): the whole caseload (what they may do with it is the
  role's permissions, `access.ROLE_PERMISSIONS`).

A citizen without a caseworker (an export without the caseworkers file) is in nobody's caseload,
so no scoped caseworker or team lead sees them. Token users (`Authorization: Bearer bip_...`, the
page's token form without `--oidc`) and trusted-proxy users are not scoped: a token names a system
or a person and a role, not a caseload, and is given out by an administrator for a purpose.

`scope_of` gives a user's `CaseloadScope`; `visible` the citizens of a caseload within it (for a worklist),
and `caseload_entry` one citizen by id, refusing one outside it with `OutOfScope` (the page answers
403, the API a `forbidden` problem). Each refusal is written to the server log (`bip.access`) with
the user and the citizen's pseudonym, never the id in clear.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..log.pseudonyms import pseudonym
from ..log.store import Store
from .page_records import CaseloadEntry, CaseloadIndex

log = logging.getLogger("bip.access")
SCOPED_ROLES = ("caseworker", "team_lead")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class OutOfScope(Exception):
    """A citizen outside the user's caseload was asked for."""


@dataclass(frozen=True)
class CaseloadScope:
    """The part of the caseload a user sees: everything, or one caseworker's (and a team's) citizens."""

    everything: bool = True
    caseworker: str = ""
    team: str = ""

    def allows(self, data: Any, today: dt.date | None = None) -> bool:
        """Whether the citizen in `data` (a record as read) is within this scope."""
        if self.everything:
            return True
        current = current_assignment(data, today)
        if current is None:
            return False
        if self.caseworker and str(current.get("id", "")) == self.caseworker:
            return True
        return bool(self.team) and str(current.get("team") or "") == self.team


def scope_of(role: str, user: str, team: str = "", via: str = "") -> CaseloadScope:
    """The scope of a user: `via` is "oidc" for a sign-in through the identity provider (scoped)."""
    if via != "oidc" or role not in SCOPED_ROLES:
        return CaseloadScope()
    return CaseloadScope(everything=False, caseworker=user, team=team if role == "team_lead" else "")


def current_assignment(data: Any, today: dt.date | None = None) -> dict | None:
    """The citizen's caseworker entry now: the latest `from` not after `today`; None when there is none."""
    day = (today or clock.today()).isoformat()
    entries = data.get("caseworkers") if isinstance(data, dict) else None
    best: tuple[str, dict] | None = None
    for entry in entries if isinstance(entries, list) else []:
        start = entry.get("from") if isinstance(entry, dict) else None
        if not isinstance(start, str) or not _ISO_DATE.fullmatch(start):
            continue  # not a date: the check itself refuses the record
        if start <= day and (best is None or start >= best[0]):  # ISO dates sort as text
            best = (start, entry)
    return best[1] if best else None


class _Assignments:
    """Who has which citizens now in one caseload snapshot: kept until the snapshot or the day changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[int, str] | None = None
        self._citizens: dict[str, CaseloadEntry] | None = None
        self._by_caseworker: dict[str, list[str]] = {}
        self._by_team: dict[str, list[str]] = {}

    def of(
        self, citizens: dict[str, CaseloadEntry], today: dt.date
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """The citizen ids by caseworker now and by team now, each in the caseload's order."""
        key = (id(citizens), today.isoformat())
        with self._lock:
            if self._key != key or self._citizens is not citizens:
                by_caseworker: dict[str, list[str]] = {}
                by_team: dict[str, list[str]] = {}
                for citizen, entry in citizens.items():
                    current = current_assignment(entry.data, today)
                    if current is not None:
                        by_caseworker.setdefault(str(current.get("id", "")), []).append(citizen)
                        if current.get("team"):
                            by_team.setdefault(str(current["team"]), []).append(citizen)
                self._key, self._citizens = key, citizens
                self._by_caseworker, self._by_team = by_caseworker, by_team
            return self._by_caseworker, self._by_team


_ASSIGNMENTS = _Assignments()


def visible(citizens: dict[str, CaseloadEntry], scope: CaseloadScope) -> dict[str, CaseloadEntry]:
    """The citizens (by id) within `scope`: the caseworker's own first, then the rest of the team's, each in the caseload's order."""
    if scope.everything:
        return citizens
    by_caseworker, by_team = _ASSIGNMENTS.of(citizens, clock.today())
    chosen = by_caseworker.get(scope.caseworker, []) + (by_team.get(scope.team, []) if scope.team else [])
    return {citizen: citizens[citizen] for citizen in chosen}


def caseload_entry(
    caseload: CaseloadIndex, store: Store, scope: CaseloadScope, user: str, citizen: str
) -> CaseloadEntry:
    """The citizen's entry; `LookupError` when not in the caseload, `OutOfScope` (logged) when not the user's."""
    entry = caseload.get(citizen)
    if entry is None:
        raise LookupError(citizen)
    if not scope.allows(entry.data):
        log.warning(
            "refused: %s asked for citizen %s, outside their caseload (team %s)",
            user,
            pseudonym(store, citizen.strip())[:16],
            scope.team or "-",
        )
        raise OutOfScope(citizen)
    return entry
