"""The caseworker's page: the pre-meeting check in a browser, served by `bip serve` at `/`.

Server-rendered HTML from Jinja2 templates with autoescaping (a separate environment from the
sandboxed guidance templates), one small stylesheet, and no JavaScript that the check needs.
Everything about the citizen comes from the same library calls as the CLI and the API: the
`Checker` for the check and its trace, `bip_engine.whatif`, `bip_engine.changes` and the trajectory for
the rest; the page only arranges it.

Sign-in is through the municipality's identity provider (`--oidc`, `bip_engine.service.oidc`), else a
personal token (or the reverse proxy's identity headers with `--trust-proxy`); the session is a signed cookie (`sessions.py`) and every POST form carries the session's CSRF token,
which the server checks before doing anything else. A signed-in user sees only their part of the
caseload (`scoping.py`). Opening a citizen is a logged lookup with its purpose; its follow-ups (a what-if, the citizen version, an assessment) accept its decision
id only from the user who made it, within `DECISION_WINDOW`, and the what-if and the citizen
version are logged too; the caseworker's assessment is stored with the decision it answers.

The home page is the worklist (`page_worklist`): the caseload in triage order, searched, filtered,
sorted and paged by GET parameters. Each citizen has a link, `/citizens/<id>?as_of=DATE`: opening
it logs the lookup with the session's purpose (asked once per session, in its own signed cookie,
and changeable) and redirects to the same address with `decision=<id>`, which shows that logged
check again without logging anew, so Reload and Back never log twice. Every form that changes
something is POST-redirect-GET; a what-if and the citizen version change nothing and are GET
forms (a pasted record, which has no address, still posts them). Saving the same assessment twice
for the same decision stores it once.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from .. import messages
from ..clock import today
from ..errors import BipError, Problem, RecordError, problem
from ..log.assessments import append_assessment, assessments_for
from ..log.decisions import decision_of, find_decision, log_follow_up
from ..log.errors import StoreValueError
from ..log.sessions import end_session, session_valid, start_session
from ..log.store import Store
from ..log.tokens import Principal, authenticate
from ..messages import shown_message
from ..record import WRITTEN_DATE, Record
from ..render import format_date
from . import sessions
from .page_records import CaseloadIndex, parse_record_text
from .page_text import page_number, texts
from .page_worklist import WorklistQuery, query_worklist
from .scoping import CaseloadScope, OutOfScope, caseload_entry, scope_of, visible
from .services import services
from .sessions import Session
from .settings import ServiceSettings

if TYPE_CHECKING:
    from .oidc import SignInError


PURPOSE_COOKIE = "bip_purpose"
WORKLIST_WAIT = 60.0  # seconds the very first worklist may take to build before the page says it is coming
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


def whole_number(value: int, lang: str) -> str:
    """A count as a reader of `lang` writes it: 5.000 in Danish, 5,000 in English."""
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang == "da" else text


def months(value: float | None, lang: str) -> str:
    """A number of months to one decimal (decimal comma in Danish), a dash when unknown."""
    return "–" if value is None else page_number(round(float(value), 1), lang)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = page_number
    env.filters["longdate"] = format_date
    env.filters["monthyear"] = month_year
    env.filters["problem_text"] = shown_message
    env.filters["count"] = whole_number
    env.filters["months"] = months
    env.globals["citizen_link"] = lambda citizen: citizen_url(citizen, _today())
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
    return today()


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
    state = services(request.app)
    caseload = _caseload(request)
    worklist, page, query = None, None, WorklistQuery.from_params(dict(request.query_params))
    if caseload.path is not None:
        caseload.use_checker(lambda: services(request.app).checker, _today)
        worklist = caseload.worklist(WORKLIST_WAIT)
        scope = _scope(request)
        only = None if scope.everything else set(visible(caseload.snapshot().citizens, scope))
        page = query_worklist(worklist, query, only=only) if worklist is not None else None
    values = {
        "purpose": "",
        "as_of": _today().isoformat(),
        "record_text": "",
        "errors": {},
        "problems": [],
        "listing": [],
        "problems_for": "",
    }
    values.update(context)
    from .page_views import phase_labels

    return _render(
        request,
        session,
        "home.html.j2",
        status,
        principal=principal,
        caseload=caseload.path is not None,
        snapshot=caseload.snapshot(),
        worklist=worklist,
        results=page,
        query=query,
        facets=worklist.facets() if worklist is not None else {"flags": [], "caseworkers": [], "teams": []},
        phases=phase_labels(state.checker, session.lang),
        url_with=lambda **changed: "/?" + urlencode(query.params(**changed)),
        session_purpose=_purpose(request, session),
        **values,
    )


def citizen_url(citizen: str, as_of: str | dt.date, **more: str) -> str:
    """The address of a citizen's check on a date (with a logged decision, a saved assessment...)."""
    params = {"as_of": str(as_of), **{key: value for key, value in more.items() if value}}
    return f"/citizens/{quote(citizen, safe='')}?{urlencode(params)}"


# --- The session's purpose -----------------------------------------------------------------------


def _purpose_signature(request: Request, session: Session, purpose: str) -> str:
    key = _store(request).session_key()
    message = f"{session.csrf}\0{purpose}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode().rstrip("=")


def _purpose(request: Request, session: Session) -> str:
    """The purpose of this session's lookups, when the caseworker has given one (bound to the session)."""
    value = request.cookies.get(PURPOSE_COOKIE) or ""
    signature, _, encoded = value.partition(".")
    try:
        purpose = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except ValueError:
        return ""
    ok = hmac.compare_digest(signature.encode(), _purpose_signature(request, session, purpose).encode())
    return purpose if ok else ""


def _with_purpose(request: Request, response: Response, session: Session, purpose: str) -> Response:
    encoded = base64.urlsafe_b64encode(purpose.encode("utf-8")).decode().rstrip("=")
    response.set_cookie(
        PURPOSE_COOKIE,
        f"{_purpose_signature(request, session, purpose)}.{encoded}",
        max_age=max(0, session.expires - int(dt.datetime.now().timestamp())),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


def _local(target: str) -> str:
    """`target` when it is an address on this site, else the home page (never an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


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
    response = RedirectResponse(_after_sign_in(request, principal.name), status_code=303)
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
            request,
            signed_in,
            "continue.html.j2",
            target=_after_sign_in(request, identity.user),
            heading="oidc_signed_in",
            link="oidc_continue",
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
    """Open a pasted record (checked, logged, shown), or a citizen of the caseload by id (redirected to its link)."""
    form = await _form(request)
    session, principal = _signed_in(request)
    source = "caseload" if form.get("source") == "caseload" else "record"
    purpose = _usable_purpose(str(form.get("purpose") or "").strip()[:500]) or _purpose(request, session)
    as_of = _date(form.get("as_of"), _today())
    citizen = str(form.get("citizen") or "").strip()
    if source == "caseload" and citizen and as_of is not None:
        moved = RedirectResponse(citizen_url(citizen, as_of), status_code=303)
        return _with_purpose(request, moved, session, purpose) if purpose else moved
    errors = {}
    if not purpose:
        errors["purpose"] = "purpose_missing"
    if as_of is None:
        errors["as_of"] = "as_of_help"
    text, name = ("", "") if source == "caseload" else await _uploaded_text(form)
    keep = {"purpose": purpose, "as_of": str(form.get("as_of") or ""), "record_text": text, "problems_for": source}
    if source == "record" and not text.strip() and not errors:
        errors["record_text"] = "record_empty"
    if errors or as_of is None:
        return _home(request, session, principal, 422, errors=errors, **keep)
    try:
        record = _record_from_text(request, text, name)
    except BipError as error:
        listing = _listing(text, error.problems)
        return _home(request, session, principal, 422, problems=error.problems, listing=listing, **keep)
    from .page_views import check_view, log_lookup

    state = services(request.app)
    decision_id = log_lookup(state, record, as_of, principal, purpose)
    view = check_view(state, record, as_of, session.lang, decision_id)
    response = _render(request, session, "check.html.j2", principal=principal, source="record", saved="", **view)
    return _with_purpose(request, response, session, purpose)


async def open_redirect(request: Request) -> Response:
    """`/open` reached by an address (history, a bookmark): the worklist."""
    return RedirectResponse("/", status_code=303)


def _usable_purpose(purpose: str) -> str:
    """The purpose as typed; one the log would refuse (a NUL character) is answered 422 now, before it is kept."""
    if "\x00" in purpose:
        raise StoreValueError("nul", field="purpose")
    return purpose


async def set_purpose(request: Request) -> Response:
    """Set (or change) the purpose of this session's lookups, then go on to where the caseworker was going."""
    form = await _form(request)
    session, principal = _signed_in(request)
    purpose = _usable_purpose(str(form.get("purpose") or "").strip()[:500])
    target = _local(str(form.get("next") or "/"))
    if not purpose:
        return _render(
            request, session, "purpose.html.j2", 422, principal=principal, next=target, error="purpose_missing"
        )
    return _with_purpose(request, RedirectResponse(target, status_code=303), session, purpose)


async def citizen_check(request: Request) -> Response:
    """A citizen's check by address: logged once (then redirected to the logged decision's address), shown."""
    session, principal = _signed_in(request)
    citizen = request.path_params["citizen"]
    as_of = _date(request.query_params.get("as_of"), _today())
    if as_of is None:
        raise Refused(422, "as_of_help")
    record = _record_from_caseload(request, citizen)
    state = services(request.app)
    decision = _own_decision(request, record, principal, as_of)
    from .page_views import check_view, log_lookup

    if decision is None:
        purpose = _purpose(request, session)
        if not purpose:
            here = str(request.url.path) + ("?" + request.url.query if request.url.query else "")
            return _render(request, session, "purpose.html.j2", principal=principal, next=here, error="")
        decision_id = log_lookup(state, record, as_of, principal, purpose)
        return RedirectResponse(citizen_url(record.id, as_of, decision=decision_id), status_code=303)
    view = check_view(state, record, as_of, session.lang, decision["decision_id"])
    saved = str(request.query_params.get("saved") or "")[:64]
    from . import page_kept

    kept = page_kept.decode(request.cookies.get(page_kept.COOKIE), _store(request).session_key(), principal.name)
    restored = kept is not None and kept["decision"] == decision["decision_id"]
    if restored and kept is not None:
        view["values"] = {**view["values"], **kept["values"]}
    response = _render(
        request,
        session,
        "check.html.j2",
        principal=principal,
        source="caseload",
        saved=saved,
        restored=restored,
        **view,
    )
    if restored:
        response.delete_cookie(page_kept.COOKIE, path="/")
    return response


def _own_decision(request: Request, record: Record, principal: Principal, as_of: dt.date) -> dict | None:
    """The logged decision the address names, when it is this user's recent check of this citizen on this date."""
    decision_id = str(request.query_params.get("decision") or "")[:64]
    decision = decision_of(_store(request), decision_id, principal, record.id) if decision_id else None
    if decision is None or decision.get("as_of") != as_of.isoformat():
        return None
    return decision


async def citizen_what_if(request: Request) -> Response:
    """What-if for a citizen of the caseload, by address (a GET form: nothing is stored or logged)."""
    session, principal = _signed_in(request)
    record = _record_from_caseload(request, request.path_params["citizen"])
    as_of = _date(request.query_params.get("as_of"), _today()) or _today()
    decision = _own_decision(request, record, principal, as_of)
    if decision is None:
        raise Refused(404, "unknown_decision")
    log_follow_up(_store(request), principal, decision, "what-if", record)
    from .page_views import what_if_page

    params = request.query_params
    view = what_if_page(services(request.app), record, as_of, session.lang, params, decision, source="caseload")
    view["back"] = citizen_url(record.id, as_of, decision=decision["decision_id"])
    status = 422 if view.get("error") else 200
    return _render(request, session, "whatif.html.j2", status, principal=principal, **view)


async def citizen_version_get(request: Request) -> Response:
    """The print-friendly citizen version for a citizen of the caseload, by address."""
    session, principal = _signed_in(request)
    record = _record_from_caseload(request, request.path_params["citizen"])
    as_of = _date(request.query_params.get("as_of"), _today()) or _today()
    decision = _own_decision(request, record, principal, as_of)
    if decision is None:
        raise Refused(404, "unknown_decision")
    log_follow_up(_store(request), principal, decision, "view", record)
    from .page_views import citizen_page

    text = str(request.query_params.get("next_steps") or "")
    steps = [line.strip()[:300] for line in text.splitlines() if line.strip()][:10]
    view = citizen_page(services(request.app), record, as_of, session.lang, steps)
    return _render(request, session, "citizen.html.j2", principal=principal, **view)


async def assessment_saved(request: Request) -> Response:
    """The answer to a saved assessment (after the redirect): reloading it stores nothing."""
    session, principal = _signed_in(request)
    citizen = request.path_params["citizen"]
    wanted = request.path_params["assessment"]
    found = next((item for item in assessments_for(_store(request), citizen) if item["assessment_id"] == wanted), None)
    if found is None or found["user"] != principal.name:
        raise Refused(404, "unknown_decision")
    decision = find_decision(_store(request), found["decision_id"]) or {}
    from .page_views import phase_labels

    return _render(
        request,
        session,
        "assessed.html.j2",
        principal=principal,
        assessment=found,
        citizen=citizen,
        as_of=decision.get("as_of") or _today().isoformat(),
        in_caseload=_caseload(request).get(citizen) is not None,
        back=citizen_url(citizen, decision.get("as_of") or "", decision=found["decision_id"]),
        phase_labels=phase_labels(services(request.app).checker, session.lang),
        errors=[],
    )


async def what_if_view(request: Request) -> Response:
    """The check as it would be with a proposed intervention or caseworker change; never logged."""
    form = await _form(request)
    session, principal = _signed_in(request)
    record = _reload_record(request, form)
    decision = _decision_for(request, principal, str(form.get("decision") or ""), record)
    as_of = _date(form.get("as_of"), _today()) or _today()
    log_follow_up(_store(request), principal, decision, "what-if", record)
    from .page_views import what_if_page

    source = "caseload" if form.get("source") == "caseload" else "record"
    view = what_if_page(services(request.app), record, as_of, session.lang, form, decision, source=source)
    view["back"] = citizen_url(record.id, as_of, decision=decision["decision_id"]) if source == "caseload" else ""
    status = 422 if view.get("error") else 200
    return _render(request, session, "whatif.html.j2", status, principal=principal, **view)


async def assess(request: Request) -> Response:
    """Store the caseworker's assessment of a logged check, then redirect to its answer (POST-redirect-GET).

    The same assessment sent again for the same decision by the same user (a double click, a
    resent form) is not stored twice: the answer is the one stored before.
    """
    kept = await _keep_typed_text(request)
    if kept is not None:
        return kept
    form = await _form(request)
    session, principal = _signed_in(request)
    record = _reload_record(request, form)
    decision = _decision_for(request, principal, str(form.get("decision") or ""), record)
    from .page_views import assessment_context, assessment_from_form, phase_labels, same_assessment

    assessment, errors = assessment_from_form(form, phase_labels(services(request.app).checker, session.lang))
    if not errors:
        store = _store(request)
        earlier = next(
            (
                item["assessment_id"]
                for item in assessments_for(store, record.id)
                if item["decision_id"] == decision["decision_id"]
                and item["user"] == principal.name
                and same_assessment(item, assessment)
            ),
            None,
        )
        try:
            saved = earlier or append_assessment(store, decision["decision_id"], principal, **assessment)
        except ValueError:
            errors = ["assessment_errors"]
        else:
            target = f"/citizens/{quote(record.id, safe='')}/assessments/{saved}"
            return RedirectResponse(target, status_code=303)
    as_of = _date(form.get("as_of"), _today()) or _today()
    context = assessment_context(services(request.app), record, as_of, session.lang, form, decision)
    return _render(request, session, "assessed.html.j2", 422, principal=principal, errors=errors, **context)


async def _keep_typed_text(request: Request) -> Response | None:
    """The sign-in page, with the posted assessment kept (`page_kept`), when the session ran out or was
    ended and the post carries that session's CSRF token; None otherwise (the post goes on as usual)."""
    if _session(request).signed_in:
        return None
    stale = sessions.decode(request.cookies.get(sessions.COOKIE_NAME), _store(request).session_key(), now=0)
    form = await request.form()
    token = form.get("csrf")
    if stale is None or not stale.user or not stale.csrf_ok(token if isinstance(token, str) else None):
        return None
    if form.get("source") != "caseload":  # a pasted record is too large to keep; it is pasted again
        return None
    from . import page_kept
    from .page_views import form_values

    value = page_kept.encode(
        _store(request).session_key(),
        stale.user,
        str(form.get("decision") or "")[:64],
        str(form.get("citizen") or "")[:200],
        str(form.get("as_of") or "")[:10],
        form_values(form),
    )
    if value is None:
        return None
    session = _session(request)
    oidc = services(request.app).oidc is not None
    response = _render(request, session, "login.html.j2", 401, error="session_ended_kept", oidc=oidc)
    response.set_cookie(**page_kept.cookie_arguments(value, _secure(request)))
    return response


def _after_sign_in(request: Request, user: str) -> str:
    """Where a caseworker goes after signing in: back to the assessment they were typing, or the worklist."""
    from . import page_kept

    kept = page_kept.decode(request.cookies.get(page_kept.COOKIE), _store(request).session_key(), user)
    if kept is None:
        return "/"
    return citizen_url(kept["citizen"], kept["as_of"], decision=kept["decision"]) + "#assessment"


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
    router.add_api_route("/open", _guarded(open_redirect), methods=["GET"])
    router.add_api_route("/purpose", _guarded(set_purpose), methods=["POST"])
    router.add_api_route("/citizens/{citizen}", _guarded(citizen_check), methods=["GET"])
    router.add_api_route("/citizens/{citizen}/what-if", _guarded(citizen_what_if), methods=["GET"])
    router.add_api_route("/citizens/{citizen}/citizen-version", _guarded(citizen_version_get), methods=["GET"])
    router.add_api_route("/citizens/{citizen}/assessments/{assessment}", _guarded(assessment_saved), methods=["GET"])
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
