"""The HTTP service behind `bip serve`: the check, the trace and whole caseloads over HTTP.

`create_app(settings)` builds the FastAPI application; `bip_engine.service.server.serve(...)` runs it under gunicorn. The API itself (routes, answers, errors) is in `bip_engine.service.api`;
this module wires it together: the checker, the decision log, access, limits, headers, metrics,
reloading and the caseworker's page when it is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import logging
import signal
import threading
import time
import traceback
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import messages
from ..check import Checker
from ..log.errors import StoreError, StoreValueError
from ..log.store import Store
from .logs import configure_logging
from .metrics import Metrics
from .page_records import CaseloadIndex
from .problems import MEDIA_TYPE, ProblemError, language, problem_body, problem_response
from .problems import install as install_problems
from .reload import Reloader
from .services import Services
from .settings import ServiceSettings
from .token_cache import TokenCache
from .writer import DecisionWriter

if TYPE_CHECKING:
    from .oidc import OidcConfig, Provider

log = logging.getLogger("bip.service")
access = logging.getLogger("bip.access")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
BATCH_PATH = "/v1/batch"


def guidance_beside_release(settings: ServiceSettings) -> list[Path]:
    """The template folders given besides those of the release the service started from."""
    if not settings.release or settings.rules is None:
        return []
    release_folder = Path(settings.rules).resolve().parents[1]  # <release>/rules/<layer>
    return [Path(g) for g in settings.guidance if not Path(g).resolve().is_relative_to(release_folder)]


def create_app(settings: ServiceSettings, checker: Checker | None = None, reload_status: Path | None = None) -> FastAPI:
    """The application: loads the rulebook and opens the decision log (both raise on failure).

    `checker` is a rulebook already loaded (the gunicorn master's last good one); `reload_status` the
    master's file of reload outcomes that `/readyz` shows (without it, the app reloads in place).
    """
    from . import api

    configure_logging(settings.log_level, settings.log_format)
    checker = checker or Checker(settings.rules, settings.guidance, settings.engine)
    store = Store.open(settings.database)
    try:  # the keys are read now: a missing one, or one still inside an old log, stops the start
        store.pseudonym_keys()
        store.session_key()
    except StoreError:
        store.close()
        raise
    metrics = Metrics()
    reloader = Reloader(
        checker,
        metrics,
        settings.rules,
        release=settings.release,
        store=settings.store_path,
        extra_guidance=guidance_beside_release(settings),
        shared=reload_status,
    )
    writer = DecisionWriter(store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        reloader.start(settings.watch, settings.watch_interval)
        # What is loaded now (rulebook, templates, libraries) lives as long as the process: moved out
        # of the collector's sight, a full collection under load takes ~2 ms instead of ~90 ms.
        gc.collect()
        gc.freeze()
        if (
            reload_status is None
            and threading.current_thread() is threading.main_thread()
            and hasattr(signal, "SIGHUP")
        ):
            signal.signal(signal.SIGHUP, lambda signum, frame: reloader.request())
        log.info(
            "serving rulebook %s %s (%s%s, %s executor)",
            checker.rulebook.name,
            checker.rulebook.version,
            checker.rulebook.content_hash[:12],
            f", release {checker.rulebook.release[:12]}" if checker.rulebook.release else "",
            checker.engine,
        )
        try:
            yield
        finally:
            reloader.stop()
            writer.stop()
            store.close()

    app = FastAPI(
        title="bip-engine",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        generate_unique_id_function=lambda route: route.name,  # operation ids: check, explain, batch...
        description="Pre-meeting decision support for job-centre caseworkers (BIP): the check as a "
        "service. Every route but /healthz, /readyz and /openapi.json needs `Authorization: Bearer TOKEN`.",
    )
    app.state.services = Services(
        settings=settings,
        checker=checker,
        store=store,
        writer=writer,
        metrics=metrics,
        reloader=reloader,
        token_cache=TokenCache(),
        caseload=CaseloadIndex(settings.caseload),
        oidc=_oidc(settings),
    )
    install_problems(app)

    @app.exception_handler(StoreError)
    async def _store_unusable(request: Request, error: StoreError) -> Response:
        lang = language(request)
        if isinstance(error, StoreValueError):  # a value the log refuses: this request's fault alone (422)
            detail = messages.text("api.log_value", lang, reason=error.text(lang))
            return problem_response(ProblemError("invalid-value", detail), request.url.path, lang)
        detail = messages.text("api.log_unavailable", lang, reason=error.text(lang))
        return problem_response(ProblemError("not-ready", detail), request.url.path, lang)

    app.include_router(api.router())
    if importlib.util.find_spec("bip_engine.service.page") is not None:
        from .page import PageAssets, page_router
        from .page_agreement import agreement_router

        app.include_router(page_router())
        app.include_router(agreement_router())
        app.mount("/static", PageAssets(), name="static")
    app.openapi = lambda: api.openapi_document(app)  # type: ignore[method-assign]
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Decision-Id"],
        )
    app.add_middleware(Guard, settings=settings, metrics=metrics)
    return app


def _oidc(settings: ServiceSettings) -> tuple[OidcConfig, Provider] | None:
    """The identity provider's settings and its (lazily fetched) metadata, when `--oidc` is given."""
    if settings.oidc is None:
        return None
    from .oidc import Provider, load_config  # an HTTP client and JOSE: only when sign-in goes through a provider

    config = load_config(settings.oidc)
    return config, Provider(config)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("bip-engine")
    except Exception:  # noqa: BLE001 - not installed: running from a checkout
        return "0"


class Guard:
    """Pure ASGI middleware around every request: body limits, security headers, metrics, incidents.

    - A body larger than the limit (`max_body`, or `max_batch_body` for /v1/batch) is refused with
      413: at once when Content-Length says so, else when the bytes received pass the limit.
    - Every response gets the security headers, and `Cache-Control: no-store` unless it set its own.
    - An exception nothing else answered becomes a 500 problem naming an incident id; the server
      log has the same id with the traceback.
    - A body whose next part takes longer than `request_timeout` seconds to come is refused with 408.
    - With the access log on, one line per request on `bip.access`: method, route (the template,
      never the path asked nor its query string), status, latency, user and decision id.
    """

    def __init__(self, app: ASGIApp, settings: ServiceSettings, metrics: Metrics):
        self.app, self.settings, self.metrics = app, settings, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope.get("path", "")
        limit = self.settings.max_batch_body if path == BATCH_PATH else self.settings.max_body
        status: dict[str, Any] = {"code": 500, "sent": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                headers = [(name, value) for name, value in message.get("headers", [])]
                status["decision"] = next((v.decode() for n, v in headers if n.lower() == b"x-decision-id"), None)
                names = {name.lower() for name, _ in headers}
                headers += [item for item in SECURITY_HEADERS if item[0] not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.settings.request_timeout)
            except TimeoutError:
                raise ProblemError(
                    "request-timeout",
                    messages.text("api.body_timeout", language(scope), seconds=self.settings.request_timeout),
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit, scope)
            return message

        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                await self._answer(_too_large(limit, scope), scope, send_with_headers)
            else:
                await self.app(scope, counting_receive, send_with_headers)
        except ProblemError as error:  # raised while reading the body outside an endpoint
            if not status["sent"]:
                await self._answer(error, scope, send_with_headers)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback leaves the server
            incident = uuid.uuid4().hex
            log.error(
                "incident %s: %s %s failed:\n%s",
                incident,
                scope.get("method"),
                path,
                "".join(traceback.format_exception(exc)),
            )
            if not status["sent"]:
                detail = messages.text("api.incident", language(scope), incident=incident)
                await self._answer(ProblemError("internal-error", detail, incident=incident), scope, send_with_headers)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            seconds = time.perf_counter() - started
            self.metrics.observe_request(route, scope.get("method", ""), status["code"], seconds)
            if self.settings.access_log:
                principal = scope.get("state", {}).get("principal")
                access.info(
                    "%s %s %s",
                    scope.get("method", ""),
                    route,
                    status["code"],
                    extra={
                        "method": scope.get("method", ""),
                        "route": route,
                        "status": status["code"],
                        "latency_ms": round(seconds * 1000, 1),
                        "user": getattr(principal, "name", None),
                        "decision_id": status.get("decision"),
                    },
                )

    @staticmethod
    async def _answer(error: ProblemError, scope: Scope, send: Send) -> None:
        body = problem_body(error, scope.get("path", ""), language(scope))
        headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
        headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
        if error.status == 413:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int, scope: Scope) -> ProblemError:
    detail = messages.text("api.body_too_large", language(scope), limit=limit)
    return ProblemError("body-too-large", detail)
