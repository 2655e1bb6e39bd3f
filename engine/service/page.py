"""The caseworker's page: the pre-meeting check in a browser, served by `bip serve` at `/`.

Server-rendered HTML from Jinja2 templates with autoescaping (a separate environment from the
sandboxed guidance templates), one small stylesheet, and no JavaScript that the check needs.
Everything about the citizen comes from the same library calls as the CLI and the API: the
`Checker` for the check and its trace, `bip_engine.whatif`, `bip_engine.changes` and the trajectory for
the rest; the page only arranges it.

Sign-in is a personal token (or the reverse proxy's identity headers with `--trust-proxy`); the
session is a signed cookie (`sessions.py`) and every POST form carries the session's CSRF token,
which the server checks before doing anything else. Opening a citizen is a logged lookup with
its purpose; a what-if is not logged; the caseworker's assessment is stored with the decision it
answers.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from .. import messages
from ..clock import today
from ..errors import BipError, Problem, RecordError, problem
from ..log.assessments import append_assessment
from ..log.decisions import find_decision
from ..log.pseudonyms import pseudonym
from ..log.store import Store
from ..log.tokens import Principal, authenticate, list_tokens
from ..messages import shown_message
from ..record import Record
from ..render import format_date, format_number
from . import sessions
from .page_records import CaseloadIndex, parse_record_text
from .page_text import texts
from .services import services
from .sessions import Session
from .settings import ServiceSettings

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PERMISSION = "check"


class Refused(Exception):
    """A request the page turns away, with the HTTP status and the text key that says why."""

    def __init__(self, status: int, key: str):
        super().__init__(key)
        self.status, self.key = status, key


def month_year(value: str | dt.date, lang: str) -> str:
    """A date as its month and year, short: 'jan. 2026' / 'Jan 2026'."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    month = messages.text(f"month.{day.month}", lang)
    return f"{month[:3]}. {day.year}" if lang == "da" else f"{month[:3]} {day.year}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = format_number
    env.filters["longdate"] = format_date
    env.filters["monthyear"] = month_year
    env.filters["problem_text"] = shown_message
    return env


ENV = _environment()


# --- Session, identity and CSRF -----------------------------------------------------------------


def _store(request: Request) -> Store:
    return services(request.app).store


def _settings(request: Request) -> ServiceSettings:
    return services(request.app).settings


def _session(request: Request) -> Session:
    """The visitor's session (a fresh anonymous one when there is none), in the language asked for."""
    cached = getattr(request.state, "page_session", None)
    if cached is not None:
        return cached
    key = _store(request).secret("session")
    session = sessions.decode(request.cookies.get(sessions.COOKIE_NAME), key) or Session()
    if session.signed_in and not _token_still_valid(request, session.user):
        session = Session(lang=session.lang)
    request.state.page_session = session.with_lang(request.query_params.get("lang", ""))
    return request.state.page_session


def _token_still_valid(request: Request, user: str) -> bool:
    """False when the token the session was signed in with has been revoked since."""
    for token in list_tokens(_store(request)):
        if token.get("name") == user:
            return not token.get("revoked")
    return True  # signed in through the proxy: no token to revoke


def _principal(request: Request, session: Session) -> Principal | None:
    """Who is asking: the signed-in user, or the reverse proxy's identity when it is trusted."""
    if session.signed_in:
        return Principal(name=session.user, role=session.role)
    if _settings(request).trust_proxy:
        from .access import authenticate

        return authenticate(request)
    return None


def _allowed(principal: Principal | None) -> bool:
    from .access import ROLE_PERMISSIONS

    return principal is not None and PERMISSION in ROLE_PERMISSIONS.get(principal.role, ())


def _secure(request: Request) -> bool:
    """Whether the cookie must be Secure: a setting, or the page is reached over https."""
    setting: bool | None = getattr(_settings(request), "secure_cookies", None)
    if setting is not None:
        return bool(setting)
    if request.url.scheme == "https":
        return True
    return bool(_settings(request).trust_proxy) and request.headers.get("x-forwarded-proto", "") == "https"


def _with_cookie(request: Request, response: Response, session: Session) -> Response:
    response.set_cookie(**sessions.cookie_arguments(session, _store(request).secret("session"), _secure(request)))
    return response


async def _form(request: Request) -> Any:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    session = _session(request)
    token = form.get("csrf")
    if not session.csrf_ok(token if isinstance(token, str) else None):
        raise Refused(403, "csrf_refused")
    return form


# --- Rendering --------------------------------------------------------------------------------


def _render(request: Request, session: Session, template: str, status: int = 200, **context: Any) -> Response:
    tx = texts(session.lang)
    principal = context.pop("principal", None)
    html = ENV.get_template(template).render(
        tx=tx,
        lang=session.lang,
        other_lang="en" if session.lang == "da" else "da",
        csrf=session.csrf,
        user=principal.name if principal else "",
        role=principal.role if principal else "",
        signed_in=session.signed_in,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    return _with_cookie(request, response, session)


def _refused(request: Request, status: int, key: str) -> Response:
    session = _session(request)
    return _render(request, session, "refused.html.j2", status, message_key=key)


def _today() -> dt.date:
    return today()


def _date(value: Any, default: dt.date | None = None) -> dt.date | None:
    text = str(value or "").strip()
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _caseload(request: Request) -> CaseloadIndex:
    return services(request.app).caseload


def _home(
    request: Request, session: Session, principal: Principal | None, status: int = 200, **context: Any
) -> Response:
    snapshot = _caseload(request).snapshot()
    values = {
        "citizen": "",
        "purpose": "",
        "as_of": _today().isoformat(),
        "record_text": "",
        "errors": {},
        "problems": [],
        "listing": [],
        "problems_for": "",
    }
    values.update(context)
    return _render(
        request,
        session,
        "home.html.j2",
        status,
        principal=principal,
        caseload=_settings(request).caseload is not None,
        snapshot=snapshot,
        citizen_ids=sorted(snapshot.citizens)[:5000],
        **values,
    )


# --- Records ----------------------------------------------------------------------------------


def _record_from_caseload(request: Request, citizen: str) -> Record:
    entry = _caseload(request).get(citizen)
    if entry is None:
        raise LookupError(citizen)
    return services(request.app).checker.parse_record(entry.data, entry.source)


def _record_from_text(request: Request, text: str, name: str) -> Record:
    data = parse_record_text(text, name, _settings(request).max_body)
    return services(request.app).checker.parse_record(data, name)


def _listing(text: str, problems: list[Problem]) -> list[dict]:
    """The pasted text line by line, each with the problems located on it (shown next to it)."""
    by_line: dict[int, list[Problem]] = {}
    for item in problems:
        by_line.setdefault(item.line or 0, []).append(item)
    lines = text.splitlines() or [""]
    rows = [
        {"number": number, "text": line, "problems": by_line.get(number, [])}
        for number, line in enumerate(lines, start=1)
    ]
    return rows if len(rows) <= 2000 else [row for row in rows if row["problems"]]


async def _uploaded_text(form: Any) -> tuple[str, str]:
    """The record text from the textarea, or from the uploaded file when one was chosen."""
    upload = form.get("record_file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        raw = await upload.read()
        name = Path(upload.filename).name or "upload"
        try:
            return raw.decode("utf-8-sig"), name
        except UnicodeDecodeError:
            raise RecordError(problem("F002.upload", name)) from None
    return str(form.get("record_text") or ""), "<record>"


def _reload_record(request: Request, form: Any) -> Record:
    """The record a check page was made from: from the caseload by id, or the record sent back with the form."""
    if form.get("source") == "caseload":
        return _record_from_caseload(request, str(form.get("citizen") or ""))
    return _record_from_text(request, str(form.get("record") or ""), "<record>.json")


def _decision_for(request: Request, decision_id: str, record: Record | None = None) -> dict:
    """The logged decision a form answers; it must exist and (when given) be about this record's citizen."""
    store = _store(request)
    decision = find_decision(store, decision_id) if decision_id else None
    if decision is None or (record is not None and decision.get("citizen") != pseudonym(store, record.id)):
        raise Refused(404, "unknown_decision")
    return decision


# --- Routes -----------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    """The start page: sign-in, or the forms to open a citizen."""
    session = _session(request)
    principal = _principal(request, session)
    if principal is None:
        return _render(request, session, "login.html.j2", error="")
    if not _allowed(principal):
        return _render(request, session, "refused.html.j2", 403, principal=principal, message_key="no_permission")
    return _home(request, session, principal)


async def login(request: Request) -> Response:
    """Sign in with a personal token; a new session (and CSRF token) on success."""
    form = await _form(request)
    session = _session(request)
    principal = authenticate(_store(request), str(form.get("token") or "").strip())
    if principal is None:
        return _render(request, session, "login.html.j2", 401, error="bad_token")
    if not _allowed(principal):
        return _render(request, session, "login.html.j2", 403, error="no_permission")
    response = RedirectResponse("/", status_code=303)
    return _with_cookie(request, response, session.signed_in_as(principal.name, principal.role))


async def logout(request: Request) -> Response:
    """Sign out: an anonymous session replaces the signed-in one."""
    await _form(request)
    session = _session(request)
    return _with_cookie(request, RedirectResponse("/", status_code=303), Session(lang=session.lang))


def _signed_in(request: Request) -> tuple[Session, Any]:
    session = _session(request)
    principal = _principal(request, session)
    if principal is None:
        raise Refused(401, "bad_token")
    if not _allowed(principal):
        raise Refused(403, "no_permission")
    return session, principal


async def open_citizen(request: Request) -> Response:
    """Open a citizen (from the caseload or a pasted record): check, log the lookup, show the page."""
    form = await _form(request)
    session, principal = _signed_in(request)
    source = "caseload" if form.get("source") == "caseload" else "record"
    purpose = str(form.get("purpose") or "").strip()[:500]
    as_of = _date(form.get("as_of"), _today())
    citizen = str(form.get("citizen") or "").strip()
    errors = {}
    if not purpose:
        errors["purpose"] = "purpose_missing"
    if as_of is None:
        errors["as_of"] = "as_of_help"
    text, name = ("", "") if source == "caseload" else await _uploaded_text(form)
    keep = {
        "citizen": citizen,
        "purpose": purpose,
        "as_of": str(form.get("as_of") or ""),
        "record_text": text,
        "problems_for": source,
    }
    if source == "record" and not text.strip() and not errors:
        errors["record_text"] = "record_empty"
    if errors or as_of is None:
        return _home(request, session, principal, 422, errors=errors, **keep)
    try:
        record = (
            _record_from_caseload(request, citizen) if source == "caseload" else _record_from_text(request, text, name)
        )
    except LookupError:
        return _home(request, session, principal, 404, errors={"citizen": "not_in_caseload"}, **keep)
    except BipError as error:
        listing = _listing(text, error.problems) if source == "record" else []
        return _home(request, session, principal, 422, problems=error.problems, listing=listing, **keep)
    from .page_views import check_view

    view = check_view(services(request.app), record, as_of, session.lang, principal, purpose)
    return _render(request, session, "check.html.j2", principal=principal, source=source, **view)


async def what_if_view(request: Request) -> Response:
    """The check as it would be with a proposed intervention or caseworker change; never logged."""
    form = await _form(request)
    session, principal = _signed_in(request)
    record = _reload_record(request, form)
    decision = _decision_for(request, str(form.get("decision") or ""), record)
    as_of = _date(form.get("as_of"), _today()) or _today()
    from .page_views import what_if_page

    view = what_if_page(services(request.app), record, as_of, session.lang, form, decision)
    status = 422 if view.get("error") else 200
    return _render(request, session, "whatif.html.j2", status, principal=principal, **view)


async def assess(request: Request) -> Response:
    """Store the caseworker's assessment of a logged check (agree, or another phase with a reason)."""
    form = await _form(request)
    session, principal = _signed_in(request)
    record = _reload_record(request, form)
    decision = _decision_for(request, str(form.get("decision") or ""), record)
    from .page_views import assessment_context, assessment_from_form, phase_labels

    assessment, errors = assessment_from_form(form, phase_labels(services(request.app).checker, session.lang))
    as_of = _date(form.get("as_of"), _today()) or _today()
    context = assessment_context(services(request.app), record, as_of, session.lang, form, decision)
    if not errors:
        try:
            context["assessment_id"] = append_assessment(
                _store(request), decision["decision_id"], principal, **assessment
            )
        except ValueError:
            errors = ["assessment_errors"]
    return _render(
        request, session, "assessed.html.j2", 422 if errors else 200, principal=principal, errors=errors, **context
    )


async def citizen_version(request: Request) -> Response:
    """The print-friendly citizen version of a logged check."""
    form = await _form(request)
    session, principal = _signed_in(request)
    record = _reload_record(request, form)
    _decision_for(request, str(form.get("decision") or ""), record)
    as_of = _date(form.get("as_of"), _today()) or _today()
    from .page_views import citizen_page

    steps = [line.strip()[:300] for line in str(form.get("next_steps") or "").splitlines() if line.strip()][:10]
    view = citizen_page(services(request.app), record, as_of, session.lang, steps)
    return _render(request, session, "citizen.html.j2", principal=principal, **view)


class PageAssets(StaticFiles):
    """The page's own assets (no CDN: the page works offline), served by Starlette's StaticFiles.

    A name the file system cannot even look up (a NUL byte, a name longer than it allows) is a plain
    404 like any other missing file, and every asset may be cached for an hour.
    """

    def __init__(self) -> None:
        super().__init__(directory=STATIC)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """The file for `path`, or none when the name cannot name a file here."""
        try:
            return super().lookup_path(path)
        except (ValueError, OSError):
            return "", None

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        """The asset, with its cache header."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Turn `Refused`, unknown citizens and bad records into a page, never a traceback."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as refused:
            return _refused(request, refused.status, refused.key)
        except LookupError:
            return _refused(request, 404, "not_in_caseload")
        except BipError as error:
            session = _session(request)
            return _render(
                request, session, "refused.html.j2", 422, message_key="record_problems", problems=error.problems
            )

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def page_router() -> APIRouter:
    """The page's routes: `/` and the forms it posts to (its assets are mounted at `/static`: `PageAssets`)."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/", _guarded(home), methods=["GET"])
    router.add_api_route("/login", _guarded(login), methods=["POST"])
    router.add_api_route("/logout", _guarded(logout), methods=["POST"])
    router.add_api_route("/open", _guarded(open_citizen), methods=["POST"])
    router.add_api_route("/what-if", _guarded(what_if_view), methods=["POST"])
    router.add_api_route("/assess", _guarded(assess), methods=["POST"])
    router.add_api_route("/citizen", _guarded(citizen_version), methods=["POST"])
    return router
