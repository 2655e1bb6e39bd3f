"""Who may do what: Bearer tokens from the decision-log store, or a trusted reverse proxy's headers.

Roles and their permissions (`ROLE_PERMISSIONS`) are the table in docs/reference/http-api.md. A request without a valid
token is answered 401 (with `WWW-Authenticate: Bearer`); a valid principal whose role may not do
the action gets 403.

`--trust-proxy HEADER` (off by default) takes the user from the request header HEADER and the role
from `HEADER-Role` (for example `X-Remote-User` and `X-Remote-User-Role`). Use it only behind a
proxy that authenticates every request and removes these headers from what clients send; anyone
who can reach the service directly could otherwise claim any role.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import Request

from .. import messages
from ..log import tokens
from ..log.tokens import ROLES, Principal
from .problems import ProblemError, language
from .services import services
from .token_cache import MISSING

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "caseworker": frozenset({"check", "explain", "api"}),
    "team_lead": frozenset({"check", "explain", "batch", "api"}),
    "policy": frozenset({"rulebook", "api"}),
    "auditor": frozenset({"log", "api"}),
    "system": frozenset({"check", "explain", "batch", "rulebook", "metrics", "api"}),
    "metrics": frozenset({"metrics"}),
}
"""`api` is reading the API's own description (`/openapi.json`, `/v1/schemas/...`): every role may."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="bip"'}


def _bearer(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization", ""))


def bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header's value, or None."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(request: Request) -> Principal | None:
    """The principal behind a request: a Bearer token first, then (if trusted) the proxy's headers."""
    parts = services(request.app)
    token = _bearer(request)
    if token is not None:
        principal = parts.token_cache.get(token)
        if principal is MISSING:
            principal = tokens.authenticate(parts.store, token)
            parts.token_cache.put(token, principal)
        return principal  # type: ignore[return-value]
    return _proxied(request)


async def principal_of(request: Request) -> Principal | None:
    """`authenticate` on the event loop: a token not cached is read in a thread, once for all who ask meanwhile."""
    token = _bearer(request)
    if token is None:
        return _proxied(request)
    parts = services(request.app)
    return await parts.token_cache.lookup(token, partial(tokens.authenticate, parts.store, token))


def _proxied(request: Request) -> Principal | None:
    """The proxy's user and role, when a proxy is trusted and says who it is."""
    proxy_header = services(request.app).settings.trust_proxy
    if proxy_header:
        user = request.headers.get(proxy_header, "").strip()
        role = request.headers.get(f"{proxy_header}-Role", "").strip()
        if user:
            return Principal(user, role)
    return None


def allowed(principal: Principal, action: str) -> bool:
    """Whether `principal`'s role includes `action`."""
    return action in ROLE_PERMISSIONS.get(principal.role, frozenset())


def require(action: str) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: the principal allowed to do `action`, else a 401 or 403 problem.

    It runs on the event loop: a cached token costs no database read, and only a lookup that is
    not cached goes to the threadpool (`principal_of`).
    """

    async def dependency(request: Request) -> Principal:
        lang = language(request)
        principal = await principal_of(request)
        if principal is None:
            detail = messages.text("api.token_required", lang)
            raise ProblemError("unauthenticated", detail, headers=CHALLENGE)
        if principal.role not in ROLES:
            detail = messages.text("api.unknown_role", lang, role=principal.role)
            raise ProblemError("forbidden", detail)
        if not allowed(principal, action):
            detail = messages.text("api.role_may_not", lang, role=principal.role, action=action)
            raise ProblemError("forbidden", detail)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{action}"
    return dependency
