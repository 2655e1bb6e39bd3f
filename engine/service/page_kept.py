"""What the caseworker typed into the assessment form, kept across an expired session.

A caseworker who writes a long reason and posts the form after the session ran out (or was ended
on the server) is asked to sign in again; what they typed is not lost. The form is kept in a
short-lived cookie (`COOKIE`, `KEEP_SECONDS`), never in the address:

- only when the post carries the CSRF token of the session the browser still holds (signed by the
  server, expired or ended; `sessions.decode(..., now=0)` reads it): a page of another site cannot
  plant text;
- tied to that session's user and to the logged check (decision) the form answers: after signing
  in, the check page of that decision fills the form in again for the same user only, and the
  cookie is then removed; nothing is stored until the caseworker sends the form again;
- signed with HMAC-SHA256 under the session key (with its own prefix, so a session cookie is never
  read as one of these) and compressed; a form too large for a cookie (about 4 KB) is not kept.

The session cookie outlives its session by `sessions.STALE_SECONDS` for this: the browser still
sends the expired one, and it grants nothing (its expiry is inside the signed payload).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib
from collections.abc import Mapping

COOKIE = "bip_kept"
KEEP_SECONDS = 30 * 60  # how long the typed text waits for the caseworker to sign in again
MAX_COOKIE = 3800  # characters: browsers keep about 4,096 bytes per cookie, name and attributes included
_PREFIX = b"bip-kept\0"


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, _PREFIX + body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def encode(
    key: bytes, user: str, decision: str, citizen: str, as_of: str, values: Mapping[str, str], now: float | None = None
) -> str | None:
    """The cookie's value holding `values` for `user` and `decision`, or None when it would be too large."""
    payload = {
        "user": user,
        "decision": decision,
        "citizen": citizen,
        "as_of": as_of,
        "values": dict(values),
        "expires": int((time.time() if now is None else now) + KEEP_SECONDS),
    }
    packed = zlib.compress(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 9)
    body = base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")
    value = f"{body}.{_sign(key, body)}"
    return value if len(value) <= MAX_COOKIE else None


def decode(value: str | None, key: bytes, user: str, now: float | None = None) -> dict | None:
    """The kept form (user, decision, citizen, as_of, values) when `value` is ours, unexpired and `user`'s."""
    if not value or value.count(".") != 1 or len(value) > MAX_COOKIE:
        return None
    body, signature = value.split(".")
    if not hmac.compare_digest(_sign(key, body).encode(), signature.encode()):
        return None
    try:
        data = json.loads(zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), bufsize=65536))
        fresh = int(data["expires"]) >= (time.time() if now is None else now)
        values = {str(name): str(text) for name, text in dict(data["values"]).items()}
    except (ValueError, KeyError, TypeError, zlib.error):
        return None
    if not fresh or data.get("user") != user:
        return None
    return {**data, "values": values}


def cookie_arguments(value: str, secure: bool) -> dict:
    """Keyword arguments for `Response.set_cookie`: HttpOnly, SameSite=Lax (it must survive the identity
    provider's redirect back), Secure over https, for `KEEP_SECONDS`."""
    return {
        "key": COOKIE,
        "value": value,
        "max_age": KEEP_SECONDS,
        "path": "/",
        "httponly": True,
        "samesite": "lax",
        "secure": secure,
    }
