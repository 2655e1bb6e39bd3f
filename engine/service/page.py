"""The caseworker's page: the pre-meeting check in a browser, served by `bip serve` at `/`.

Server-rendered HTML from Jinja2 templates with autoescaping (a separate environment from the
sandboxed guidance templates), one small stylesheet, and no JavaScript that the check needs.
Everything about the citizen comes from the same library calls as the CLI and the API: the
`Checker` for the check and its trace, `bip_engine.whatif`, `bip_engine.changes` and the trajectory for
the rest; the page only arranges it.

Sign-in is through the municipality's identity provider (`--oidc`, `bip_engine.service.oidc`), else a
personal token (or the reverse proxy's identity headers with `--trust-proxy`); the session is a signed cookie (`sessions.py`) and every POST form carries the session's CSRF token,
which the server checks before doing anything else. Opening a citizen is a logged lookup with
its purpose; its follow-ups (a what-if, the citizen version, an assessment) accept its decision
id only from the user who made it, within `DECISION_WINDOW`, and the what-if and the citizen
version are logged too; the caseworker's assessment is stored with the decision it answers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from .. import messages
from ..errors import BipError, Problem, RecordError, problem
from ..log.assessments import append_assessment
from ..log.decisions import decision_of, log_follow_up
from ..log.sessions import end_session, session_valid, start_session
from ..log.store import Store
from ..log.tokens import Principal, authenticate
from ..messages import shown_message
from ..record import WRITTEN_DATE, Record
from ..render import format_date, format_number
from . import sessions
from .page_records import CaseloadIndex, parse_record_text
from .page_text import texts
from .scoping import CaseloadScope, OutOfScope, caseload_entry, scope_of, visible
from .services import services
from .sessions import Session
from .settings import ServiceSettings

if TYPE_CHECKING:
    from .oidc import SignInError

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
    key = _store(request).session_key()
    session = sessions.decode(request.cookies.get(sessions.COOKIE_NAME), key) or Session()
    if session.signed_in and not session_valid(
        _store(request), session.sid, session.user, session.role, needs_token=session.via != "oidc"
    ):
        session = Session(lang=session.lang)  # never recorded, signed out, expired, or its token revoked
    request.state.page_session = session.with_lang(request.query_params.get("lang", ""))
    return request.state.page_session


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
    response.set_cookie(**sessions.cookie_arguments(session, _store(request).session_key(), _secure(request)))
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
    return dt.date.today()


def _date(value: Any, default: dt.date | None = None) -> dt.date | None:
    text = str(value or "").strip()
    if not text:
        return default
    if not WRITTEN_DATE.fullmatch(text):  # YYYY-MM-DD only: not 20261122, a week date or a number
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _caseload(request: Request) -> CaseloadIndex:
    return services(request.app).caseload


def _home(
    request: Request, session: Session, principal: Principal | None, status: int = 200, **context: Any
) -> Response:
    whole = _caseload(request).snapshot()
    snapshot = dataclasses.replace(whole, citizens=visible(whole.citizens, _scope(request)))  # the user's part
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


def _scope(request: Request) -> CaseloadScope:
    """The part of the caseload the signed-in user sees (`scoping.scope_of`)."""
    session = _session(request)
    return scope_of(session.role, session.user, session.team, session.via) if session.signed_in else CaseloadScope()


def _record_from_caseload(request: Request, citizen: str) -> Record:
    parts = services(request.app)
    entry = caseload_entry(parts.caseload, parts.store, _scope(request), _session(request).user, citizen)
    return parts.checker.parse_record(entry.data, entry.source)


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


def _decision_for(request: Request, principal: Principal, decision_id: str, record: Record | None = None) -> dict:
    """The logged check a form builds on: made by this user, recently, about this record's citizen (else 404)."""
    decision = decision_of(_store(request), decision_id, principal, record.id if record is not None else None)
    if decision is None:
        raise Refused(404, "unknown_decision")
    return decision


# --- Routes -----------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    """The start page: sign-in, or the forms to open a citizen."""
    session = _session(request)
    principal = _principal(request, session)
    if principal is None:
        return _render(request, session, "login.html.j2", error="", oidc=services(request.app).oidc is not None)
    if not _allowed(principal):
        return _render(request, session, "refused.html.j2", 403, principal=principal, message_key="no_permission")
    return _home(request, session, principal)


async def login(request: Request) -> Response:
    """Sign in with a personal token; a new session (and CSRF token) on success."""
    form = await _form(request)
    session = _session(request)
    if services(request.app).oidc is not None:  # the page signs in through the identity provider only
        return _render(request, session, "login.html.j2", 403, error="oidc_use_provider", oidc=True)
    principal = authenticate(_store(request), str(form.get("token") or "").strip())
    if principal is None:
        return _render(request, session, "login.html.j2", 401, error="bad_token", oidc=False)
    if not _allowed(principal):
        return _render(request, session, "login.html.j2", 403, error="no_permission", oidc=False)
    response = RedirectResponse("/", status_code=303)
    sid = start_session(_store(request), principal.name, principal.role, sessions.SESSION_SECONDS)
    return _with_cookie(request, response, session.signed_in_as(principal.name, principal.role, sid))


async def logout(request: Request) -> Response:
    """Sign out: an anonymous session replaces the signed-in one."""
    await _form(request)
    session = _session(request)
    end_session(_store(request), session.sid)  # ended on the server: a copy of the cookie no longer works
    signed_out = Session(lang=session.lang)
    provider = services(request.app).oidc
    if session.via == "oidc" and provider is not None:  # and at the provider, when it offers that
        from . import oidc  # imported only where the provider is used: it brings an HTTP client and JOSE

        target = await run_in_threadpool(oidc.logout_url, *provider, str(request.base_url))
        if target != str(request.base_url):  # a page that moves on: CSP's form-action keeps a redirect here
            return _render(
                request, signed_out, "continue.html.j2", target=target, heading="oidc_signed_out", link="oidc_continue"
            )
    return _with_cookie(request, RedirectResponse("/", status_code=303), signed_out)


async def oidc_login(request: Request) -> Response:
    """Start signing in at the identity provider: remember state, nonce and PKCE verifier in this browser."""
    from . import oidc

    session = _session(request)
    provider = services(request.app).oidc
    if provider is None:
        raise Refused(404, "oidc_not_configured")
    try:
        url, pending = await run_in_threadpool(oidc.start, *provider)
    except oidc.SignInError as error:
        return _sign_in_failed(request, session, error)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        oidc.PENDING_COOKIE,
        oidc.encode_pending(pending, _store(request).session_key()),
        max_age=oidc.PENDING_SECONDS,
        path="/auth",
        httponly=True,
        samesite="lax",  # it must come back with the provider's redirect, a cross-site navigation
        secure=_secure(request),
    )
    return response


async def oidc_callback(request: Request) -> Response:
    """The provider's redirect: check it, then sign the caseworker in with a new session."""
    from . import oidc

    session = _session(request)
    provider = services(request.app).oidc
    if provider is None:
        raise Refused(404, "oidc_not_configured")
    pending = oidc.decode_pending(request.cookies.get(oidc.PENDING_COOKIE), _store(request).session_key())
    params = {key: value for key, value in request.query_params.items() if isinstance(value, str)}
    try:
        identity = await run_in_threadpool(oidc.finish, *provider, pending, params)
    except oidc.SignInError as error:
        response = _sign_in_failed(request, session, error)
    else:
        sid = start_session(_store(request), identity.user, identity.role, sessions.SESSION_SECONDS)
        signed_in = session.signed_in_as(identity.user, identity.role, sid, team=identity.team, via="oidc")
        response = _render(  # not a redirect: see the template
            request, signed_in, "continue.html.j2", target="/", heading="oidc_signed_in", link="oidc_continue"
        )
    response.delete_cookie(oidc.PENDING_COOKIE, path="/auth")  # a state is used once
    return response


def _sign_in_failed(request: Request, session: Session, error: SignInError) -> Response:
    text = messages.text(f"page.{error.key}", session.lang, **error.values)
    return _render(request, session, "signin_failed.html.j2", error.status, message=text)


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
    decision = _decision_for(request, principal, str(form.get("decision") or ""), record)
    as_of = _date(form.get("as_of"), _today()) or _today()
    log_follow_up(_store(request), principal, decision, "what-if", record)
    from .page_views import what_if_page

    view = what_if_page(services(request.app), record, as_of, session.lang, form, decision)
    status = 422 if view.get("error") else 200
    return _render(request, session, "whatif.html.j2", status, principal=principal, **view)


async def assess(request: Request) -> Response:
    """Store the caseworker's assessment of a logged check (agree, or another phase with a reason)."""
    form = await _form(request)
    session, principal = _signed_in(request)
    record = _reload_record(request, form)
    decision = _decision_for(request, principal, str(form.get("decision") or ""), record)
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
    decision = _decision_for(request, principal, str(form.get("decision") or ""), record)
    as_of = _date(form.get("as_of"), _today()) or _today()
    log_follow_up(_store(request), principal, decision, "view", record)
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
        except OutOfScope:
            return _refused(request, 403, "not_your_caseload")
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
    router.add_api_route("/auth/login", _guarded(oidc_login), methods=["GET"])
    router.add_api_route("/auth/callback", _guarded(oidc_callback), methods=["GET"])  # oidc.OidcConfig.redirect_url
    router.add_api_route("/open", _guarded(open_citizen), methods=["POST"])
    router.add_api_route("/what-if", _guarded(what_if_view), methods=["POST"])
    router.add_api_route("/assess", _guarded(assess), methods=["POST"])
    router.add_api_route("/citizen", _guarded(citizen_version), methods=["POST"])
    return router


# --- For the page's other views (page_agreement.py) ------------------------------------------------


def page_principal(request: Request) -> tuple[Session, Principal | None]:
    """The visitor's session and who they are (None when nobody is signed in)."""
    session = _session(request)
    return session, _principal(request, session)


def render_page(request: Request, session: Session, template: str, status: int = 200, **context: Any) -> Response:
    """One of the page's templates in its frame (words, language, CSRF token, who is signed in)."""
    return _render(request, session, template, status, **context)
