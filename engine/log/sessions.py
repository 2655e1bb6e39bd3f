"""Server-side sessions of the caseworkers' page: started at sign-in, ended at sign-out.

A signed cookie alone cannot be taken back: anyone holding one (or the key that signs them) could
use it until it expires. So the server keeps each session: `start_session` records it (only a
SHA-256 of its id, with the user, role and expiry), `end_session` records its end (both tables
are append-only: the service needs no UPDATE or DELETE), and `session_valid` holds a session good
only while it is recorded, not ended, not expired, and its user still has an unrevoked token in
that role. Several servers sharing one database share the sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from .schema import session_ends, sessions, tokens
from .store import Store
from .values import now, utc


def _hashed(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(store: Store, user: str, role: str, seconds: int) -> str:
    """Record a new session of `user` in `role` lasting `seconds`; return its id (the only copy)."""
    sid = secrets.token_urlsafe(32)
    started = now()
    with store.write() as conn:
        conn.execute(
            sessions.insert().values(
                sid_hash=_hashed(sid),
                user_name=user,
                role=role,
                created=started,
                expires=started + dt.timedelta(seconds=seconds),
            )
        )
    return sid


def end_session(store: Store, sid: str) -> None:
    """Record that the session `sid` has ended (signing out); a cookie of it is refused from now on."""
    if not sid:
        return
    with store.write() as conn:
        ended = conn.execute(sa.select(session_ends.c.sid_hash).where(session_ends.c.sid_hash == _hashed(sid))).first()
        if ended is None:
            conn.execute(session_ends.insert().values(sid_hash=_hashed(sid), ended=now()))


def session_valid(store: Store, sid: str, user: str, role: str, *, needs_token: bool = True) -> bool:
    """Whether `sid` is a recorded, unended, unexpired session of `user` in `role`, who still holds an unrevoked token.

    `needs_token=False` is for a session begun through the identity provider, whose users hold no token here.
    """
    if not sid or not user:
        return False
    hashed = _hashed(sid)
    with store.read() as conn:
        row = conn.execute(
            sa.select(sessions.c.user_name, sessions.c.role, sessions.c.expires).where(sessions.c.sid_hash == hashed)
        ).first()
        if row is None or row.user_name != user or row.role != role:
            return False
        expires = utc(row.expires)
        if expires is None or expires < now():
            return False
        if conn.execute(sa.select(session_ends.c.sid_hash).where(session_ends.c.sid_hash == hashed)).first():
            return False
        if not needs_token:
            return True
        token = conn.execute(
            sa.select(tokens.c.name).where(tokens.c.name == user, tokens.c.role == role, tokens.c.revoked.is_(None))
        ).first()
    return token is not None
