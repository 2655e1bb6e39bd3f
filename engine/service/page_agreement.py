"""The team lead's view of the caseworkers' assessments: `GET /agreement?since=...&until=...`.

The same counts as `bip log agreement` (`bip_engine.log.agreement`), for a team lead (role
`team_lead`; other roles are refused): the share of the logged checks in the period that the
caseworkers agreed with, per decided phase and per flag, and the disagreements' chosen phases and
reasons grouped. Phases are shown by the rulebook's labels. The period defaults to the last 30 days.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import clock
from ..log.agreement import NO_PHASE, NO_RULE, agreement
from .page import page_principal, render_page
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
    report = agreement(services(request.app).store, since, until)
    phases = services(request.app).checker.rulebook.phases
    labels = {key: phase.label.get(session.lang) for key, phase in phases.items()}
    labels[NO_PHASE] = "–"
    return render_page(
        request,
        session,
        "agreement.html.j2",
        principal=principal,
        report=report,
        data=report.as_dict(),
        labels=labels,
        no_rule=NO_RULE,
    )


def agreement_router() -> APIRouter:
    """The route of the team lead's agreement view, `GET /agreement`."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/agreement", agreement_view, methods=["GET"])
    return router
