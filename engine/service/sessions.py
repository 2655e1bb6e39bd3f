"""The page's cookie session: who is signed in, the CSRF token and the chosen language.

The session lives in one cookie, signed with HMAC-SHA256 under the session key (`Store.session_key()`,
a secret of its own, never stored in the log), so a forged or altered cookie is simply ignored. A
signed-in session also carries the id of a session the server recorded at sign-in
(`bip_engine.log.sessions`): it is valid only while that record is, so signing out ends it on
the server, and a revoked token ends it too. The cookie is HttpOnly and SameSite=Strict, Secure when the page is served over
https, and it expires (`SESSION_SECONDS`): the expiry is inside the signed payload, not only in
the browser. A visitor who has not signed in gets an anonymous session too, so that the sign-in
form itself carries a CSRF token. Signing in issues a fresh session with a new CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field, replace

COOKIE_NAME = "bip_session"
SESSION_SECONDS = 8 * 60 * 60
STALE_SECONDS = 12 * 60 * 60  # the cookie outlives its session so that a form posted late is not lost (page_kept)
LANGUAGES = ("da", "en")


@dataclass(frozen=True)
class Session:
    """One visitor's session; `user` and `role` are empty until the visitor signs in."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    lang: str = "da"
    user: str = ""
    role: str = ""
    team: str = ""
    via: str = ""  # "oidc" when signed in through the identity provider
    expires: int = field(default_factory=lambda: int(time.time()) + SESSION_SECONDS)
    sid: str = ""  # the server's record of a signed-in session (bip_engine.log.sessions)

    @property
    def signed_in(self) -> bool:
        """True when a user has signed in with this session."""
        return bool(self.user)

    def with_lang(self, lang: str) -> Session:
        """The same session in another language (unknown languages are ignored)."""
        return replace(self, lang=lang) if lang in LANGUAGES else self

    def signed_in_as(self, user: str, role: str, sid: str = "", team: str = "", via: str = "") -> Session:
        """A new session for `user`, recorded by the server as `sid`: fresh CSRF token and expiry, the language kept.

        Without a `sid` (one the server recorded, `bip_engine.log.sessions.start_session`) the page never accepts it.
        `via` is "oidc" for a sign-in through the identity provider, whose user has no token.
        """
        return Session(lang=self.lang, user=user, role=role, team=team, via=via, sid=sid)

    def csrf_ok(self, token: str | None) -> bool:
        """True when `token` is this session's CSRF token (compared in constant time)."""
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(session: Session, key: bytes) -> str:
    """The cookie value: the session as JSON, base64url, a dot, and its HMAC-SHA256 signature."""
    body = _b64(json.dumps(asdict(session), separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def decode(value: str | None, key: bytes, now: float | None = None) -> Session | None:
    """The session in a cookie value, or None when it is missing, forged, malformed or expired."""
    if not value or value.count(".") != 1 or len(value) > 4096:
        return None
    body, signature = value.split(".")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    try:
        data = json.loads(_unb64(body))
        session = Session(
            csrf=str(data["csrf"]),
            lang=str(data["lang"]),
            user=str(data["user"]),
            role=str(data["role"]),
            team=str(data.get("team", "")),
            via=str(data.get("via", "")),
            expires=int(data["expires"]),
            sid=str(data.get("sid") or ""),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires < (time.time() if now is None else now) or session.lang not in LANGUAGES:
        return None
    return session


def cookie_arguments(session: Session, key: bytes, secure: bool) -> dict:
    """Keyword arguments for `Response.set_cookie` that store `session`."""
    return {
        "key": COOKIE_NAME,
        "value": encode(session, key),
        "max_age": max(0, session.expires - int(time.time())) + STALE_SECONDS,
        "path": "/",
        "httponly": True,
        "samesite": "strict",
        "secure": secure,
    }
