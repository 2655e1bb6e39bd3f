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

from ..errors import Problem

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:bip-engine:problem:"

# kind: (status, Danish title, English title)
KINDS: dict[str, tuple[int, str, str]] = {
    "malformed-request": (400, "Forespørgslen kan ikke læses", "The request cannot be read"),
    "bad-parameter": (400, "En parameter er ugyldig", "A parameter is invalid"),
    "unauthenticated": (401, "Adgang kræver et gyldigt token", "A valid token is required"),
    "forbidden": (403, "Rollen må ikke dette", "The role may not do this"),
    "not-found": (404, "Findes ikke", "Not found"),
    "method-not-allowed": (405, "Metoden er ikke tilladt her", "Method not allowed"),
    "not-acceptable": (406, "Formatet kan ikke leveres", "Not acceptable"),
    "body-too-large": (413, "Forespørgslen er for stor", "The request body is too large"),
    "unsupported-media-type": (415, "Indholdstypen understøttes ikke", "Unsupported media type"),
    "invalid-record": (422, "Borgerens data kan ikke bruges", "The citizen record cannot be used"),
    "internal-error": (500, "Intern fejl i tjenesten", "Internal error in the service"),
    "not-ready": (503, "Tjenesten er ikke klar", "The service is not ready"),
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
    code: str = Field(description="The problem code, as in the CLI (see the README)")
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
        return KINDS[self.kind][0]


def language(request_or_scope: Any) -> str:
    """`en` when the request asks for English (`?lang=en`), else Danish."""
    scope = getattr(request_or_scope, "scope", request_or_scope)
    query = scope.get("query_string", b"").decode("latin-1")
    return "en" if "lang=en" in query.split("&") else "da"


def problem_body(error: ProblemError, path: str, lang: str = "da") -> bytes:
    """The JSON body of a problem answer."""
    status, title_da, title_en = KINDS[error.kind]
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + error.kind,
        "title": title_en if lang == "en" else title_da,
        "status": status,
        "detail": error.detail,
        "instance": path,
        "problems": [
            {"path": p.path, "line": p.line, "column": p.column, "code": p.code, "message": p.message}
            for p in error.problems
        ],
    }
    if error.incident:
        body["incident"] = error.incident
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def problem_response(error: ProblemError, path: str, lang: str = "da") -> Response:
    """A Starlette response for a problem."""
    return Response(
        problem_body(error, path, lang), status_code=error.status, media_type=MEDIA_TYPE, headers=error.headers
    )


def _query_problems(error: RequestValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        given = item.get("input")
        message = item.get("msg", "invalid")
        if given is not None and not isinstance(given, (dict, list)):
            message = f"{message} (given: {str(given)[:80]!r})"
        problems.append(Problem("Q001", message, where or "query"))
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
        detail = (
            error.detail
            if isinstance(error.detail, str) and error.status_code not in (404, 405)
            else {
                404: {"da": f"Der er intet på {request.url.path}", "en": f"There is nothing at {request.url.path}"},
                405: {
                    "da": f"{request.method} kan ikke bruges på {request.url.path}",
                    "en": f"{request.method} cannot be used on {request.url.path}",
                },
            }.get(error.status_code, {"da": str(error.detail), "en": str(error.detail)})[lang]
        )
        problem = ProblemError(kind, detail, headers=dict(error.headers or {}))
        return problem_response(problem, request.url.path, lang)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        lang = language(request)
        detail = {"da": "En eller flere parametre er ugyldige", "en": "One or more parameters are invalid"}[lang]
        return problem_response(ProblemError("bad-parameter", detail, _query_problems(error)), request.url.path, lang)


def openapi_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry documenting these problem statuses as problem+json."""
    descriptions = {kind_status: title_en for kind_status, _, title_en in KINDS.values()}
    return {
        status: {
            "description": descriptions.get(status, "Problem"),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }
