"""The team lead's view of the caseworkers' assessments: `GET /agreement?since=...&until=...`.

The same counts as `bip log agreement` (`bip_engine.log.agreement`), for a team lead (role
`team_lead`; other roles are refused): the share of the logged checks in the period that the
caseworkers agreed with, per decided phase and per flag, and the disagreements' chosen phases and
reasons grouped. Phases are shown by the rulebook's labels. The period defaults to the last 30 days.

Per team: an assessment counts for its caseworker's team, as the served caseload names it (each
caseworker's team on today's worklist; the map `bip log agreement --teams` reads from a file). The
page shows every team's share, and `?team=NAME` narrows the whole page to one team.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import clock
from ..assemble import flag_title
from ..log.agreement import NO_PHASE, NO_RULE, agreement
from .page import caseload_worklist, page_principal, render_page
from .services import services

ROLES = ("team_lead",)
DEFAULT_DAYS = 30


def _day(value: str | None, default: dt.date) -> dt.date | None:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


async def agreement_view(request: Request) -> Response:
    """The agreement page; anyone but a team lead is refused."""
    session, principal = page_principal(request)
    if principal is None:
        return render_page(request, session, "login.html.j2", error="")
    if principal.role not in ROLES:
        return render_page(request, session, "refused.html.j2", 403, principal=principal, message_key="no_permission")
    today = clock.today()
    until = _day(request.query_params.get("until"), today)
    since = _day(request.query_params.get("since"), today - dt.timedelta(days=DEFAULT_DAYS))
    if since is None or until is None or since > until:
        return render_page(request, session, "refused.html.j2", 422, principal=principal, message_key="bad_period")
    worklist = caseload_worklist(request)
    teams = worklist.teams() if worklist is not None else {}
    team = (request.query_params.get("team") or "").strip()[:100] or None
    report = agreement(services(request.app).store, since, until, teams=teams, team=team)
    checker = services(request.app).checker
    labels = {key: phase.label.get(session.lang) for key, phase in checker.rulebook.phases.items()}
    labels[NO_PHASE] = "–"
    data = report.as_dict()
    return render_page(
        request,
        session,
        "agreement.html.j2",
        principal=principal,
        report=report,
        data=data,
        labels=labels,
        rule_texts=rule_texts(checker, data["phase_rules"], session.lang),
        flag_titles=flag_titles(checker, data["flags"], session.lang),
        no_rule=NO_RULE,
        team=team,
        team_names=sorted(set(teams.values())),
    )


def rule_texts(checker: Any, rule_ids: Iterable[str], lang: str) -> dict[str, str]:
    """The phase rules' reasons in `lang`, by rule id, for the rules the rulebook still has."""
    reasons = {rule.id: rule.reason.get(lang) for rule in checker.rulebook.rules.get("phase", [])}
    return {rule_id: reasons[rule_id] for rule_id in rule_ids if rule_id in reasons}


def flag_titles(checker: Any, flag_ids: Iterable[str], lang: str) -> dict[str, str]:
    """The flags' titles in `lang`, by flag id, as their templates write them for no citizen in particular.

    A title that depends on a citizen's facts is written as for none; a flag whose template is gone,
    or cannot be written without a citizen, keeps its id.
    """
    guidance = checker.guidance(lang)
    titles = {}
    for flag_id in flag_ids:
        try:
            title = flag_title(guidance, flag_id, lang)
        except Exception:  # noqa: BLE001 - a title is a courtesy here; the id stands in for it
            continue
        if title:
            titles[flag_id] = title
    return titles


def agreement_router() -> APIRouter:
    """The route of the team lead's agreement view, `GET /agreement`."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/agreement", agreement_view, methods=["GET"])
    return router
