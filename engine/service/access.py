"""Who may do what: Bearer tokens from the decision-log store, or a trusted reverse proxy's headers.

Roles and their permissions (`ROLE_PERMISSIONS`) are the README's table. A request without a valid
token is answered 401 (with `WWW-Authenticate: Bearer`); a valid principal whose role may not do
the action gets 403.

`--trust-proxy HEADER` (off by default) takes the user from the request header HEADER and the role
from `HEADER-Role` (for example `X-Remote-User` and `X-Remote-User-Role`). Use it only behind a
proxy that authenticates every request and removes these headers from what clients send; anyone
who can reach the service directly could otherwise claim any role.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from .problems import ProblemError, language
from .store import ROLES, Principal

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "caseworker": frozenset({"check", "explain", "api"}),
    "team_lead": frozenset({"check", "explain", "batch", "api"}),
    "policy": frozenset({"rulebook", "api"}),
    "auditor": frozenset({"log", "api"}),
    "system": frozenset({"check", "explain", "batch", "rulebook", "metrics", "api"}),
}
"""`api` is reading the API's own description (`/openapi.json`, `/v1/schemas/...`): every role may."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="bip"'}


def authenticate(request: Request) -> Principal | None:
    """The principal behind a request: a Bearer token first, then (if trusted) the proxy's headers."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return request.app.state.store.authenticate(token.strip())
    proxy_header = request.app.state.settings.trust_proxy
    if proxy_header:
        user = request.headers.get(proxy_header, "").strip()
        role = request.headers.get(f"{proxy_header}-Role", "").strip()
        if user:
            return Principal(user, role)
    return None


def allowed(principal: Principal, action: str) -> bool:
    """Whether `principal`'s role includes `action`."""
    return action in ROLE_PERMISSIONS.get(principal.role, frozenset())


def require(action: str) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the principal allowed to do `action`, else a 401 or 403 problem."""

    def dependency(request: Request) -> Principal:
        lang = language(request)
        principal = authenticate(request)
        if principal is None:
            detail = {"da": "Send et gyldigt token: Authorization: Bearer TOKEN",
                      "en": "Send a valid token: Authorization: Bearer TOKEN"}[lang]
            raise ProblemError("unauthenticated", detail, headers=CHALLENGE)
        if principal.role not in ROLES:
            detail = {"da": f"Ukendt rolle {principal.role!r}", "en": f"Unknown role {principal.role!r}"}[lang]
            raise ProblemError("forbidden", detail)
        if not allowed(principal, action):
            detail = {"da": f"Rollen {principal.role} må ikke '{action}'",
                      "en": f"The role {principal.role} may not '{action}'"}[lang]
            raise ProblemError("forbidden", detail)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{action}"
    return dependency
