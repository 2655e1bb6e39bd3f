"""Errors over HTTP: `application/problem+json` (RFC 9457), carrying the engine's located problems.

Every refusal of the service is a `ProblemError` with a status and a kind; its body has the RFC's
members (`type`, `title`, `status`, `detail`, `instance`) and, like the CLI, every `problem` found
(`path`, `line`, `column`, `code`, `message`). A 500 names an `incident` id that the server log has
too, with the traceback; the body never carries a stack trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ..errors import Problem, problem
from ..messages import text

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:bip-engine:problem:"

# kind: status; the title of each kind is the message `problem.title.KIND`
KINDS: dict[str, int] = {
    "malformed-request": 400,
    "bad-parameter": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not-found": 404,
    "method-not-allowed": 405,
    "not-acceptable": 406,
    "request-timeout": 408,
    "body-too-large": 413,
    "unsupported-media-type": 415,
    "invalid-value": 422,  # a value the decision log refuses (before invalid-record: that one names 422 in OpenAPI)
    "invalid-record": 422,
    "internal-error": 500,
    "not-ready": 503,
    "shutting-down": 503,  # a batch stream ended early because the worker stops (after not-ready: examples name that)
}
STATUS_KINDS = {
    404: "not-found",
    405: "method-not-allowed",
    401: "unauthenticated",
    403: "forbidden",
    413: "body-too-large",
    415: "unsupported-media-type",
    406: "not-acceptable",
}


class LocatedProblem(BaseModel):
    """One problem, located as the CLI locates it."""

    path: str | None = Field(None, description="Where: `body` (the request body), `query.NAME`, or a line's source")
    line: int | None = None
    column: int | None = None
    code: str = Field(description="The problem code, as in the CLI (see docs/reference/codes.md)")
    message: str


class ProblemDetails(BaseModel):
    """An error answer (RFC 9457, `application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str = Field(description="The request path")
    problems: list[LocatedProblem] = Field(default_factory=list)
    incident: str | None = Field(None, description="For a 500: the id under which the server log has the details")


class ProblemError(Exception):
    """A refusal with its HTTP status; raised anywhere in the service, answered as problem+json."""

    def __init__(
        self,
        kind: str,
        detail: str,
        problems: Iterable[Problem] = (),
        headers: dict[str, str] | None = None,
        incident: str | None = None,
    ):
        super().__init__(detail)
        self.kind, self.detail, self.problems = kind, detail, list(problems)
        self.headers, self.incident = headers or {}, incident

    @property
    def status(self) -> int:
        """The HTTP status of this kind of problem."""
        return KINDS[self.kind]


def language(request_or_scope: Any) -> str:
    """`en` when the request asks for English (`?lang=en`), else Danish."""
    scope = getattr(request_or_scope, "scope", request_or_scope)
    query = scope.get("query_string", b"").decode("latin-1")
    return "en" if "lang=en" in query.split("&") else "da"


def problem_body(error: ProblemError, path: str, lang: str = "da") -> bytes:
    """The JSON body of a problem answer, its title and the problems' messages in `lang`."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + error.kind,
        "title": text(f"problem.title.{error.kind}", lang),
        "status": KINDS[error.kind],
        "detail": error.detail,
        "instance": path,
        "problems": [problem_object(p, lang) for p in error.problems],
    }
    if error.incident:
        body["incident"] = error.incident
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def problem_object(problem: Problem, lang: str) -> dict[str, Any]:
    """One located problem as JSON (`LocatedProblem`): code, message in `lang`, path, line, column."""
    return {
        "path": problem.path,
        "line": problem.line,
        "column": problem.column,
        "code": problem.code,
        "message": problem.text(lang),
    }


def problem_response(error: ProblemError, path: str, lang: str = "da") -> Response:
    """A Starlette response for a problem."""
    return Response(
        problem_body(error, path, lang), status_code=error.status, media_type=MEDIA_TYPE, headers=error.headers
    )


def _query_problems(error: RequestValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or "query"
        given = item.get("input")
        if item.get("type") == "missing":
            problems.append(problem("Q001.missing", where))
        elif given is not None and not isinstance(given, (dict, list)):
            problems.append(
                problem("Q001.given", where, detail=item.get("msg", "invalid"), given=repr(str(given)[:80]))
            )
        else:
            problems.append(problem("Q001", where, detail=item.get("msg", "invalid")))
    return problems


def install(app: FastAPI) -> None:
    """Answer every refusal of `app` as problem+json: ours, routing's (404, 405) and parameter errors."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError) -> Response:
        return problem_response(error, request.url.path, language(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        kind = STATUS_KINDS.get(error.status_code, "malformed-request" if error.status_code < 500 else "internal-error")
        lang = language(request)
        if error.status_code == 404:
            detail = text("api.not_found", lang, path=request.url.path)
        elif error.status_code == 405:
            detail = text("api.method", lang, method=request.method, path=request.url.path)
        else:
            detail = str(error.detail)
        problem = ProblemError(kind, detail, headers=dict(error.headers or {}))
        return problem_response(problem, request.url.path, lang)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        lang = language(request)
        detail = text("api.bad_parameters", lang)
        return problem_response(ProblemError("bad-parameter", detail, _query_problems(error)), request.url.path, lang)


def openapi_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry documenting these problem statuses as problem+json."""
    descriptions = {status: text(f"problem.title.{kind}", "en") for kind, status in KINDS.items()}
    return {
        status: {
            "description": descriptions.get(status, "Problem"),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }
