"""The quick route for `POST /v1/check`: the common request answered without FastAPI's machinery.

Nearly every check a municipality's systems send looks the same: a token whose lookup is cached,
plain parameters, a valid JSON record. For that request FastAPI's middleware, dependency solving,
parameter validation and response classes cost about a fifth of the answer. `QuickCheck` answers
it directly with the function the FastAPI route uses (`api.check_answer`), so the body, the headers
and the log entry are the same.

Anything it is not sure of goes to the FastAPI route, unchanged and with the body it has read:
a parameter that is not plainly valid, a token that is not cached or may not check, another content
type, a body that is not a valid record. That route then answers as it always has, errors included.
`bip serve --no-quick-check` sends every request that way. tests/test_service_quick.py holds the
two routes to the same answers and log entries.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import RecordError
from ..log.errors import StoreError
from ..log.tokens import Principal
from ..yamlio import parse_json
from .access import bearer_token, cached_principal
from .api import BODY_SOURCE, JSON_TYPES, Asking, check_answer, content_type_accepted, unlogged
from .services import services

CHECK_PATH = "/v1/check"
MEDIA_TYPES = {
    "json": b"application/json",
    "markdown": b"text/markdown; charset=utf-8",
    "text": b"text/plain; charset=utf-8",
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KNOWN = frozenset({"as_of", "rules_as_of", "lang", "purpose", "format"})


@dataclass(frozen=True)
class _Matched:
    path: str


MATCHED = _Matched(CHECK_PATH)


class QuickCheck:
    """ASGI app for `POST /v1/check` that answers the plain request itself and hands on the rest to `app`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = services(scope["app"])
        parameters = plain_parameters(scope.get("query_string", b""))
        principal = self._principal(scope, state) if parameters is not None else None
        if parameters is None or principal is None or not _json_body(scope):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client went away before sending the whole body
            return
        record = _plain_record(body, state.checker)
        if record is None:
            await self.app(scope, _replay(body, receive), send)
            return
        as_of, rules_as_of, lang, purpose, fmt = parameters
        try:
            answer = await state.writer.logged(  # committed before the answer leaves
                partial(check_answer, scope["app"], record, Asking(principal, purpose, lang, as_of, rules_as_of), fmt),
                attrgetter("row"),
            )
        except StoreError as error:
            raise unlogged(error, lang) from None
        state.metrics.observe_check("check", answer.phase)
        state.metrics.observe_quick()
        scope["route"] = MATCHED  # labels the request metrics, as FastAPI's matched route would
        encoded = answer.body.encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"x-decision-id", answer.decision_id.encode("latin-1")),
                    (b"content-length", str(len(encoded)).encode("latin-1")),
                    (b"content-type", MEDIA_TYPES[fmt]),
                ],
            }
        )
        await send({"type": "http.response.body", "body": encoded})

    @staticmethod
    def _principal(scope: Scope, state: Any) -> Principal | None:
        header = _header(scope, b"authorization")
        token = bearer_token(header) if header is not None else None
        return cached_principal(state.token_cache, token, "check") if token is not None else None


def plain_parameters(query: bytes) -> tuple[dt.date | None, dt.date | None, str, str, str] | None:
    """`as_of`, `rules_as_of`, `lang`, `purpose`, `format` when each is plainly valid, else None.

    Read as Starlette reads a query string. None when a parameter is missing, repeated or anything
    but plainly valid; the FastAPI route then decides (it may accept more, or refuse with 400).
    """
    values: dict[str, str] = {}
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name in _KNOWN:
            if name in values:
                return None
            values[name] = value
    purpose = values.get("purpose")
    lang = values.get("lang", "da")
    fmt = values.get("format", "json")
    if purpose is None or not 1 <= len(purpose) <= 200 or _CONTROL.search(purpose):
        return None
    if lang not in ("da", "en") or fmt not in MEDIA_TYPES:
        return None
    dates: list[dt.date | None] = []
    for name in ("as_of", "rules_as_of"):
        text = values.get(name)
        if text is None:
            dates.append(None)
            continue
        if not _DATE.fullmatch(text):
            return None
        try:
            dates.append(dt.date.fromisoformat(text))
        except ValueError:
            return None
    return dates[0], dates[1], lang, purpose, fmt


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _json_body(scope: Scope) -> bool:
    return content_type_accepted(_header(scope, b"content-type") or "", JSON_TYPES)


def _plain_record(body: bytes, checker: Any) -> Any:
    """The valid record in `body`, or None when the body is anything else (the FastAPI route says what)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not text.strip():
        return None
    data, problem = parse_json(text, BODY_SOURCE)
    if problem is not None:
        return None
    try:
        return checker.parse_record(data, BODY_SOURCE)
    except RecordError:
        return None


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client disconnects first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` once, as one message, then listens to the client again."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
