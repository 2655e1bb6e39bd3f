"""The routes of the HTTP API (`/v1/...`, `/healthz`, `/readyz`, `/metrics`, `/openapi.json`).

Answers are those of the CLI: `/v1/check` returns byte for byte what `bip check --format json`
prints for the same record and rules; `/v1/batch` returns the rows of `bip batch --format jsonl`.
Every look at a citizen's data is appended to the decision log before the answer leaves: each
check and explain, each citizen of a batch (kind `batch`), each read of the log (`log-read`). The
call fails with 503 when the log cannot be written (no answer without its log entry), and with 422
when a value would not fit it. No citizen id goes in a URL: the log is searched by POST.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, replace
from functools import partial
from operator import attrgetter
from typing import Any, Literal, NamedTuple

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from .. import messages
from ..caseload.batch import BatchSettings, Rejection, Summary, evaluate_stream, provenance, trailer
from ..caseload.output import write_jsonl
from ..caseload.readers import RawLine, not_utf8_line
from ..check import Checker, report_json
from ..clock import today
from ..errors import Problem, RecordError, problem
from ..log.decisions import (
    DecisionEntry,
    append_decision,
    append_decisions,
    decision_entry,
    decision_values,
    look_entry,
)
from ..log.errors import StoreError, StoreValueError
from ..log.export import read_citizen_log
from ..log.tokens import Principal
from ..models import DataModel
from ..record import IsoDate, Record
from ..report import Report
from ..schemas import input_schema, output_schema
from ..yamlio import parse_json, parse_yaml
from . import openapi_parts
from .access import require
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .problems import TYPE_PREFIX, ProblemDetails, ProblemError, language, openapi_responses
from .services import services

BODY_SOURCE = "body"

JSON_TYPES = ("application/json",)
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "text/plain")
RECORD_BODY = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Record"}}}}
BATCH_BODY = {
    "required": True,
    "content": {
        "application/x-ndjson": {
            "schema": {"$ref": "#/components/schemas/Record", "description": "One citizen record (JSON object) a line"}
        }
    },
}
DECISION_HEADER = {
    "X-Decision-Id": {"description": "The id of the decision-log entry of this answer", "schema": {"type": "string"}}
}

ALLOWED = {
    action: Depends(require(action)) for action in ("check", "explain", "batch", "rulebook", "log", "metrics", "api")
}
"""FastAPI dependencies: the principal allowed to do the action (else 401/403)."""
AsOf = Query(None, description="Check date (YYYY-MM-DD); data after it is left out. Default: today.")
RulesAsOf = Query(None, description="The date that selects the rules in force (YYYY-MM-DD). Default: the check date.")
Lang = Query("da", description="Language of the guidance, the labels and every message")
PURPOSE_MAX_LENGTH = 200
"""The longest purpose a check or explain accepts: the one limit, read when the routes are made."""


def purpose_query() -> Any:
    """The `purpose` query parameter: required, 1 to `PURPOSE_MAX_LENGTH` characters, no control characters."""
    return Query(
        ...,
        min_length=1,
        max_length=PURPOSE_MAX_LENGTH,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Why the citizen's data is looked up (written to the decision log)",
    )


class TraceAtom(BaseModel):
    """One comparison of a rule, the value it saw and whether it held."""

    test: str
    fact: str
    value: Any = None
    result: bool


class TraceEntry(BaseModel):
    """One rule's verdict, as `bip explain` shows it."""

    stage: str
    rule: str
    conclusion: str | int
    matched: bool
    when: str
    reason: str | None
    origin: str
    source: str
    atoms: list[TraceAtom]


class Explanation(BaseModel):
    """The report and the full trace: every rule of every stage, matched or not."""

    report: Report
    trace: list[TraceEntry]


class RuleInfo(BaseModel):
    """One rule of the rulebook in use, and where it is written."""

    id: str
    stage: str
    conclusion: str | int
    severity: str | None
    when: str
    source: str = Field(description="Id of the finding the rule rests on")
    file: str
    line: int | None
    layer: str
    overrides: str | None


class RulebookInfo(BaseModel):
    """The rulebook in use: identity, layers and rules with their sources."""

    name: str
    version: str
    hash: str
    engine: str
    layers: list[str]
    phases: list[str]
    flags: list[str]
    rules: list[RuleInfo]


class Readiness(BaseModel):
    """Whether the service can answer: the rulebook is loaded and the decision log reachable."""

    ready: bool
    rulebook: dict[str, str] | None
    database: str = Field(description="`ok`, or why the decision log cannot be reached")
    reasons: list[str] = Field(default_factory=list, description="Why the service is not ready (empty when ready)")
    last_reload: dict[str, Any] | None = None
    last_reload_error: dict[str, Any] | None = None


class LogSearch(BaseModel):
    """Whose log entries an auditor reads, and why (the read is itself logged)."""

    citizen: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The citizen id, in clear (it is pseudonymised)",
    )
    purpose: str = Field(
        min_length=1, max_length=PURPOSE_MAX_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$", description="Why the log is read"
    )


class CitizenLog(BaseModel):
    """Every decision-log entry and assessment for one citizen, oldest first."""

    citizen_id: str
    pseudonym: str
    exported: str
    decisions: list[dict[str, Any]]
    assessments: list[dict[str, Any]]


class Health(BaseModel):
    """The process is alive."""

    status: Literal["alive"]


class DuplexStreamingResponse(StreamingResponse):
    """A streamed answer that may still read the request body while it writes.

    Starlette's own streaming response listens for a disconnect on the request channel, which would
    take the body's chunks away from the generator that reads them (the batch endpoint does).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)


@dataclass(frozen=True)
class Asking:
    """Who asks for a decision and why, in which language, for which day and by the rules of which day."""

    principal: Principal
    purpose: str
    lang: str = "da"
    as_of: dt.date | None = None
    rules_as_of: dt.date | None = None


class CheckAnswer(NamedTuple):
    """A check's answer: the body in the format asked, its decision id, the log row (not yet written), the phase."""

    body: str
    decision_id: str
    row: dict[str, Any]
    phase: str | None


def router() -> APIRouter:
    """All routes of the API."""
    api = APIRouter()
    common = openapi_responses(400, 401, 403, 413, 415, 503)
    purpose_limit = purpose_query()  # read now: the one limit, for every route that asks why

    @api.post(
        "/v1/check",
        tags=["check"],
        summary="Check one citizen record",
        response_class=Response,
        openapi_extra={"requestBody": RECORD_BODY},
        responses={
            200: {
                "description": "The report (as `bip check --format json|markdown|text`)",
                "headers": DECISION_HEADER,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
                    "text/markdown": {"schema": {"type": "string"}},
                    "text/plain": {"schema": {"type": "string"}},
                },
            },
            **common,
            **openapi_responses(422, 500),
        },
    )
    async def check(
        request: Request,
        as_of: IsoDate | None = AsOf,
        lang: Literal["da", "en"] = Lang,
        purpose: str = purpose_limit,
        fmt: Literal["json", "markdown", "text"] = Query("json", alias="format", description="json, markdown or text"),
        principal: Principal = ALLOWED["check"],
        rules_as_of: IsoDate | None = RulesAsOf,
    ) -> Response:
        """The report for one record: phase, guidance, flags and checklist; logged before it is sent."""
        data, text = await _record_body(request)
        state = services(request.app)
        record = _valid_record(request.app, data, text, lang)
        try:
            answer = await state.writer.logged(  # committed before the answer leaves
                partial(check_answer, request.app, record, Asking(principal, purpose, lang, as_of, rules_as_of), fmt),
                attrgetter("row"),
            )
        except StoreError as error:
            raise unlogged(error, lang) from None
        state.metrics.observe_check("check", answer.phase)
        media = {"json": "application/json", "markdown": "text/markdown; charset=utf-8"}.get(
            fmt, "text/plain; charset=utf-8"
        )
        return Response(answer.body, media_type=media, headers={"X-Decision-Id": answer.decision_id})

    @api.post(
        "/v1/explain",
        tags=["check"],
        summary="The full rule trace of one record",
        response_class=Response,
        openapi_extra={"requestBody": RECORD_BODY},
        responses={
            200: {
                "description": "The report and the trace",
                "headers": DECISION_HEADER,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Explanation"}}},
            },
            **common,
            **openapi_responses(422, 500),
        },
    )
    async def explain(
        request: Request,
        as_of: IsoDate | None = AsOf,
        lang: Literal["da", "en"] = Lang,
        purpose: str = purpose_limit,
        principal: Principal = ALLOWED["explain"],
        rules_as_of: IsoDate | None = RulesAsOf,
    ) -> Response:
        """Every rule of every stage, matched or not, with the values that decided it (as `bip explain`)."""
        data, text = await _record_body(request)
        report, evaluation, decision_id = await run_in_threadpool(
            _decide, request.app, data, text, Asking(principal, purpose, lang, as_of, rules_as_of), "explain"
        )
        trace = services(request.app).checker.trace(evaluation, lang)
        body = json.dumps({"report": report.model_dump(mode="json"), "trace": trace}, ensure_ascii=False, default=str)
        return Response(body, media_type="application/json", headers={"X-Decision-Id": decision_id})

    @api.post(
        "/v1/batch",
        tags=["check"],
        summary="Check a caseload (JSON Lines in, JSON Lines out)",
        response_class=Response,
        openapi_extra={"requestBody": BATCH_BODY},
        responses={
            200: {
                "description": "One row a line as `bip batch --format jsonl --order input`; a "
                'rejected record is a line `{"rejected": {...}}`; the last line is '
                '`{"summary": {"read": N, "evaluated": M, "rejected": K, ...}}`. A stream that stops '
                "early (the log refuses, the body passes its limit, the server shuts down) ends with "
                '`{"error": {...}}` and a summary with `complete: false` and `next_line`, the first '
                "line of the body not processed: send the body again from there to resume",
                "content": {"application/x-ndjson": {"schema": openapi_parts.batch_line_schema()}},
            },
            **common,
            **openapi_responses(500),
        },
    )
    async def batch(
        request: Request,
        as_of: IsoDate | None = AsOf,
        lang: Literal["da", "en"] = Lang,
        purpose: str = purpose_limit,
        principal: Principal = ALLOWED["batch"],
    ) -> Response:
        """Triage rows for every record, streamed as they are evaluated, and the N = M + K summary last.

        Each citizen checked is a look at their data: one log entry (kind `batch`) each, with the
        purpose, committed before the citizen's row is sent.
        """
        _require_type(request, JSONL_TYPES + JSON_TYPES)
        settings = BatchSettings(None, services(request.app).checker.engine, as_of or today(), lang)
        asking = Asking(principal, purpose, lang, settings.as_of)
        return DuplexStreamingResponse(_batch_lines(request, settings, asking), media_type="application/x-ndjson")

    @api.get(
        "/v1/rulebook",
        tags=["rules"],
        summary="The rulebook in use",
        response_model=RulebookInfo,
        responses=openapi_responses(401, 403),
    )
    def rulebook(request: Request, principal: Principal = ALLOWED["rulebook"]) -> RulebookInfo:
        """Name, version, hash, layers and every rule with its source (the finding) and file."""
        return rulebook_info(services(request.app).checker)

    @api.get(
        "/v1/schemas/input",
        tags=["schemas"],
        summary="JSON Schema of the citizen record",
        responses=openapi_responses(401, 403),
    )
    def schema_input(principal: Principal = ALLOWED["api"]) -> dict[str, Any]:
        """The JSON Schema of the input (as `bip schema input`)."""
        return input_schema()

    @api.get(
        "/v1/schemas/output",
        tags=["schemas"],
        summary="JSON Schema of the report",
        responses=openapi_responses(401, 403),
    )
    def schema_output(principal: Principal = ALLOWED["api"]) -> dict[str, Any]:
        """The JSON Schema of the report (as `bip schema output`)."""
        return output_schema()

    @api.post(
        "/v1/log/search",
        tags=["log"],
        summary="The decision log for one citizen (auditor)",
        response_model=CitizenLog,
        responses=openapi_responses(400, 401, 403, 503),
    )
    def citizen_decisions(request: Request, search: LogSearch, principal: Principal = ALLOWED["log"]) -> dict[str, Any]:
        """Every decision and assessment about the citizen, oldest first (for an access request).

        The citizen id is in the body, never the URL; the read is logged (kind `log-read`) first.
        """
        try:
            return read_citizen_log(services(request.app).store, search.citizen, principal, search.purpose)
        except StoreError as error:
            raise unlogged(error, language(request)) from None

    @api.get(
        "/healthz",
        tags=["operations"],
        summary="The process is alive",
        response_model=Health,
        openapi_extra={"security": []},
    )
    def healthz() -> dict[str, str]:
        """Always 200 while the process answers."""
        return {"status": "alive"}

    @api.get(
        "/readyz",
        tags=["operations"],
        summary="Ready to answer?",
        response_model=Readiness,
        responses={503: {"description": "Not ready; `reasons` says why", "model": Readiness}},
        openapi_extra={"security": []},
    )
    def readyz(request: Request) -> JSONResponse:
        """Ready when the rulebook is loaded and the decision log answers; 503 with the reasons otherwise."""
        return _readiness(request)

    @api.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus text format 0.0.4",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            **openapi_responses(401, 403),
        },
    )
    def metrics(request: Request, principal: Principal = ALLOWED["metrics"]) -> Response:
        """Requests, latencies, checks by phase, rejected records, reloads (added up over all workers)."""
        parts = services(request.app)
        book = parts.checker.rulebook
        text = parts.metrics.render((book.name, book.version, book.content_hash))
        return Response(text, media_type=METRICS_CONTENT_TYPE)

    @api.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        """The API's description: public unless `bip serve --no-openapi`, then for any signed-in role."""
        if not services(request.app).settings.openapi:
            await require("api")(request)
        return JSONResponse(request.app.openapi())

    return api


# --- reading a record from the body -----------------------------------------------------------------


def rulebook_info(checker: Checker) -> RulebookInfo:
    """Name, version, hash, layers and every rule of the checker's rulebook, with its source and file."""
    book = checker.rulebook
    layer_folders = {name: folder for name, folder in book.layers}
    return RulebookInfo(
        name=book.name,
        version=book.version,
        hash=book.content_hash,
        engine=checker.engine,
        layers=[name for name, _ in book.layers],
        phases=list(book.phases),
        flags=list(book.flag_ids),
        rules=[
            RuleInfo(
                id=rule.id,
                stage=rule.stage,
                conclusion=rule.conclusion,
                severity=rule.severity,
                when=rule.when,
                source=rule.source,
                file=_relative(rule.path, layer_folders.get(rule.origin) or book.path),
                line=rule.line,
                layer=rule.origin,
                overrides=_overrides(rule.overrides, book),
            )
            for rule in book.all_rules()
        ],
    )


def content_type_accepted(header: str, accepted: tuple[str, ...]) -> bool:
    """Whether a Content-Type header (possibly empty) names one of `accepted` or a `+json` type."""
    given = header.split(";")[0].strip().lower()
    return not given or given in accepted or given.endswith("+json")


def _require_type(request: Request, accepted: tuple[str, ...]) -> None:
    header = request.headers.get("content-type", "")
    if not content_type_accepted(header, accepted):
        given = header.split(";")[0].strip().lower()
        detail = messages.text("api.media_type", language(request), given=given, accepted=accepted[0])
        raise ProblemError("unsupported-media-type", detail)


async def _record_body(request: Request) -> tuple[Any, str]:
    """The body parsed as JSON; 400 naming line and column when it is not JSON."""
    _require_type(request, JSON_TYPES)
    body = await request.body()
    lang = language(request)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemError(
            "malformed-request",
            messages.text("api.not_utf8", lang),
            [problem("F002", BODY_SOURCE, reason=exc.reason, byte=exc.start)],
        ) from None
    if not text.strip():
        raise ProblemError(
            "malformed-request",
            messages.text("api.empty", lang),
            [problem("R001.empty", BODY_SOURCE)],
        )
    data, unreadable = parse_json(text, BODY_SOURCE)
    if unreadable is not None:
        where = f"{unreadable.line}:{unreadable.column}"
        raise ProblemError("malformed-request", messages.text("api.not_json", lang, where=where), [unreadable])
    return data, text


def check_answer(app: FastAPI, record: Record, asking: Asking, fmt: str) -> CheckAnswer:
    """The answer to a check of a valid record: body in `fmt`, decision id, log row (not yet written), phase.

    Pure computation (a few milliseconds), so it runs on the event loop: no thread hand-over, and
    no threads contending for the GIL.
    """
    state = services(app)
    report = state.checker.report(state.checker.evaluate(record, asking.as_of, asking.rules_as_of), asking.lang)
    body = report_json(report) if fmt == "json" else state.checker.render(report, fmt, 78)
    entry = decision_entry(  # the JSON answer is what the entry's report hash is taken of: written once
        report, record, asking.principal, asking.purpose, state.store, report_text=body if fmt == "json" else None
    )
    try:
        row = decision_values(entry)
    except StoreError as error:
        raise unlogged(error, asking.lang) from None
    return CheckAnswer(body, entry.decision_id, row, report.phase.id if report.phase else None)


def unlogged(error: StoreError, lang: str) -> ProblemError:
    """The problem for an entry the log did not take: 422 for a value it refuses, else 503."""
    if isinstance(error, StoreValueError):
        return ProblemError("invalid-value", messages.text("api.log_value", lang, reason=error.text(lang)))
    return ProblemError("not-ready", messages.text("api.log_failed", lang, reason=error.text(lang)))


def _report_and_entry(
    app: FastAPI, data: Any, text: str, asking: Asking, kind: str
) -> tuple[Report, Any, DecisionEntry]:
    """Validate, evaluate and report; the report, the evaluation and the decision's log entry."""
    record = _valid_record(app, data, text, asking.lang)
    return _decision(app, record, asking, kind)


def _valid_record(app: FastAPI, data: Any, text: str, lang: str) -> Record:
    """The record in the body, else a 422 problem with every problem located (and counted as rejected)."""
    state = services(app)
    checker: Checker = state.checker
    try:
        return checker.parse_record(data, BODY_SOURCE)
    except RecordError as error:
        state.metrics.observe_rejected()
        detail = messages.text("api.record_problems", lang, count=len(error.problems))
        raise ProblemError("invalid-record", detail, _with_lines(error.problems, text, checker)) from None


def _decision(app: FastAPI, record: Record, asking: Asking, kind: str) -> tuple[Report, Any, DecisionEntry]:
    """Evaluate and report a valid record; the report, the evaluation and the decision's log entry."""
    state = services(app)
    checker: Checker = state.checker
    evaluation = checker.evaluate(record, asking.as_of, asking.rules_as_of)
    report = checker.report(evaluation, asking.lang, margins=kind == "explain")  # explain shows them
    return report, evaluation, decision_entry(report, record, asking.principal, asking.purpose, state.store, kind=kind)


def _decide(app: FastAPI, data: Any, text: str, asking: Asking, kind: str) -> tuple[Report, Any, str]:
    """Validate, evaluate, report, and append the decision to the log; runs in the threadpool."""
    report, evaluation, entry = _report_and_entry(app, data, text, asking, kind)
    parts = services(app)
    try:
        append_decision(parts.store, entry)
    except StoreError as error:
        raise unlogged(error, asking.lang) from None
    parts.metrics.observe_check(kind, report.phase.id if report.phase else None)
    return report, evaluation, entry.decision_id


def _with_lines(problems: list[Problem], text: str, checker: Checker) -> list[Problem]:
    """The problems with their line in the body, found by reading the JSON again with line numbers."""
    if all(item.line is not None for item in problems):
        return problems
    located, unreadable = parse_yaml(text, BODY_SOURCE)  # JSON is YAML; this reader keeps lines
    if unreadable is not None:
        return problems
    try:
        record = checker.parse_record(located, BODY_SOURCE)
    except RecordError as error:
        lines = {(p.code, p.message): p.line for p in error.problems if p.line is not None}
        return [p if p.line is not None else replace(p, line=lines.get((p.code, p.message))) for p in problems]
    except Exception:  # noqa: BLE001 - locating is a courtesy; the problems stand without lines
        return problems
    del record
    return problems


# --- batch ------------------------------------------------------------------------------------------


async def _batch_lines(request: Request, settings: BatchSettings, asking: Asking) -> AsyncIterator[str]:
    """Read the body line by line as it arrives; evaluate each chunk's lines in the threadpool.

    A stream that cannot go on (the log refuses, the body passes its limit, the worker stops) ends
    with an `{"error": ...}` line and a trailer with `complete: false` and `next_line`, the first
    line not processed: the client resumes from there. A worker told to stop (SIGTERM, a reload)
    lets the stream go on for its grace (`--graceful-timeout`) less `STOP_MARGIN`, then takes no more
    lines; that is looked at between chunks and while the next chunk is awaited.
    """
    summary = Summary()
    parts: list[bytes] = []  # the line begun and not yet ended, in the chunks it came in
    number = 0  # the lines processed: every one has its row, rejection or (blank) nothing above
    state = services(request.app)
    grace = max(0.0, state.settings.graceful_timeout - STOP_MARGIN)
    try:
        async with aclosing(_chunks(request, lambda: state.stopping.for_longer_than(grace))) as chunks:
            async for chunk in chunks:
                if chunk is None:
                    raise ProblemError("shutting-down", messages.text("api.batch_shutting_down", settings.lang))
                if b"\n" not in chunk:  # only the new bytes are searched: linear in the body's length
                    parts.append(chunk)
                    continue
                head, *middle, tail = chunk.split(b"\n")
                complete = [b"".join([*parts, head]), *middle]
                parts = [tail]
                if complete:
                    out = await run_in_threadpool(
                        _evaluate_lines, request.app, complete, number, settings, summary, asking
                    )
                    number += len(complete)
                    if out:
                        yield out
        pending = b"".join(parts)
        if pending.strip():
            yield await run_in_threadpool(_evaluate_lines, request.app, [pending], number, settings, summary, asking)
    except StoreError as error:  # the log refused the entries: the rows they cover are not sent
        yield _error_line(unlogged(error, settings.lang))
        yield _trailer_line(request, settings, summary, next_line=number + 1)
        return
    except ProblemError as error:  # the body passed the limit after the answer began, or the worker stops
        yield _error_line(error)
        yield _trailer_line(request, settings, summary, next_line=number + 1)
        return
    except ClientDisconnect:  # the client went away: nobody to answer, and nothing went wrong here
        return
    yield _trailer_line(request, settings, summary)


STOP_POLL = 0.1
"""How often (seconds) a batch stream waiting for the body's next chunk looks whether it must stop."""
STOP_MARGIN = 1.0
"""How long (seconds) before the end of the grace a batch stream of a stopping worker takes its last lines:
time for the chunk in hand, its log entries and the trailer."""


async def _chunks(request: Request, stop: Callable[[], bool]) -> AsyncGenerator[bytes | None, None]:
    """The body's chunks as they arrive; then None, and nothing more, once `stop()` says so first."""
    stream = request.stream().__aiter__()
    next_chunk: asyncio.Future | None = None
    try:
        while not stop():
            next_chunk = asyncio.ensure_future(stream.__anext__())
            while not next_chunk.done() and not stop():
                await asyncio.wait({next_chunk}, timeout=STOP_POLL)
            if not next_chunk.done():  # stopping: the rest of the body is not read
                next_chunk.cancel()
                await asyncio.wait({next_chunk})
                break
            try:
                chunk = next_chunk.result()
            except StopAsyncIteration:
                return
            yield chunk
        yield None
    finally:  # also when the answer is abandoned (the client went away): no read is left running
        if next_chunk is not None and not next_chunk.done():
            next_chunk.cancel()
            await asyncio.wait({next_chunk})


def _error_line(error: ProblemError) -> str:
    """The line `{"error": {...}}` that ends a batch stream early (its trailer follows)."""
    body = {"type": TYPE_PREFIX + error.kind, "status": error.status, "detail": error.detail}
    return json.dumps({"error": body}, ensure_ascii=False) + "\n"


def _trailer_line(request: Request, settings: BatchSettings, summary: Summary, next_line: int | None = None) -> str:
    """The stream's last line: counts and provenance, as `bip batch --format jsonl` ends; with
    `next_line` (the first line not processed) when the stream stopped early."""
    source = provenance(services(request.app).checker.rulebook, settings.as_of, settings.rules_as_of)
    return json.dumps(trailer(summary, source, next_line is None, next_line), ensure_ascii=False) + "\n"


def _evaluate_lines(
    app: FastAPI, lines: list[bytes], start: int, settings: BatchSettings, summary: Summary, asking: Asking
) -> str:
    """The output lines of a chunk of batch lines; the log entries of its citizens are committed first."""
    items: list[Any] = []  # RawLine or ReadProblem, as evaluate_stream takes them
    for number, raw in enumerate(lines, start + 1):
        source = f"line {number}"
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            items.append(not_utf8_line(source, exc))
            continue
        if text.strip():
            items.append(RawLine(source, text))
    out = io.StringIO()
    rejected = 0
    checker = services(app).checker
    results = list(evaluate_stream(items, settings, 1, checker=checker))
    book = checker.rulebook
    rules: dict[str, Any] = {
        "rulebook_name": book.name,
        "rulebook_version": book.version,
        "rulebook_hash": book.content_hash,
        "engine": checker.engine,
        "as_of": settings.as_of.isoformat(),
    }
    store = services(app).store
    rows = [
        look_entry(
            store,
            asking.principal,
            "batch",
            asking.purpose,
            result.citizen_id,
            phase=result.phase,
            phase_rule=result.phase_rule,
            confidence=result.confidence,
            flags=[{"id": flag} for flag in result.flags],
            **rules,
        )
        for result in results
        if not isinstance(result, Rejection)
    ]
    if rows:
        append_decisions(store, rows)  # committed before any of these citizens' rows is sent
    for result in results:
        summary.add(result)
        if isinstance(result, Rejection):
            rejected += 1
            out.write(
                json.dumps(
                    {
                        "rejected": {
                            "source": result.source,
                            "citizen_id": result.citizen_id,
                            "problems": result.problems,
                        }
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        else:
            write_jsonl([result.as_dict()], out)
            services(app).metrics.observe_check("batch", result.phase)
    if rejected:
        services(app).metrics.observe_rejected(rejected)
    return out.getvalue()


# --- operations -------------------------------------------------------------------------------------


def _readiness(request: Request) -> JSONResponse:
    state = services(request.app)
    reasons = []
    try:
        book = state.checker.rulebook
        rulebook = {"name": book.name, "version": book.version, "hash": book.content_hash}
        if book.release:  # the hash `bip rules releases` lists
            rulebook["release"] = book.release
    except Exception:  # noqa: BLE001
        rulebook = None
        reasons.append("no rulebook is loaded")
    why = state.store.ping()
    if why:
        reasons.append(f"the decision log cannot be reached: {why}")
    reloader = state.reloader
    body = Readiness(
        ready=not reasons,
        rulebook=rulebook,
        database=why or "ok",
        reasons=reasons,
        last_reload=reloader.last_reload,
        last_reload_error=reloader.last_reload_error,
    )
    return JSONResponse(body.model_dump(), status_code=200 if not reasons else 503)


def _relative(path: str, folder: Any) -> str:
    from pathlib import Path

    try:
        return str(Path(path).resolve().relative_to(Path(folder).resolve()))
    except (ValueError, OSError, TypeError):
        return Path(path).name


def _overrides(overrides: str | None, book: Any) -> str | None:
    if not overrides:
        return None
    from pathlib import Path

    where, _, line = overrides.rpartition(":")
    if not where or not line.isdigit():
        return Path(overrides).name
    return f"{Path(where).name}:{line}"


# --- the OpenAPI document ---------------------------------------------------------------------------


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the record, report, explanation and problem schemas and bearer security."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    models: list[tuple[type[BaseModel] | type[DataModel], Literal["validation", "serialization"]]] = [
        (Record, "validation"),
        (Report, "serialization"),
        (Explanation, "serialization"),
        (ProblemDetails, "serialization"),
    ]
    for model, mode in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "A token from `bip tokens create`"}
    }
    document["security"] = [{"bearer": []}]
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            default = responses.get("422", {}).get("content", {}).get("application/json")
            if default is not None:
                responses.pop("422")
                responses.setdefault("400", openapi_responses(400)[400])
    schemas.update(openapi_parts.line_schemas())
    checker = services(app).checker
    openapi_parts.add_examples(document, checker, rulebook_info(checker).model_dump(mode="json"))
    app.openapi_schema = document
    return document
