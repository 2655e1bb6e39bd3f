"""API tokens for `bip serve`: who may ask, in which role. Only a SHA-256 of each token is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from .errors import StoreValueError
from .schema import tokens
from .store import Store
from .values import iso, now

ROLES = ("caseworker", "team_lead", "policy", "auditor", "system", "metrics")
TOKEN_PREFIX = "bip_"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (or system) name and its role."""

    name: str
    role: str  # caseworker | team_lead | policy | auditor | system


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str, role: str) -> str:
    """A new API token for `name` with `role`; only its SHA-256 is stored, so this is the only copy."""
    if role not in ROLES:
        raise StoreValueError("role", role=role, roles=", ".join(ROLES))
    if not name or len(name) > 100 or not name.isprintable() or any(char.isspace() for char in name):
        raise StoreValueError("name", name=name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.write() as conn:
        try:
            conn.execute(
                tokens.insert().values(name=name, role=role, token_hash=_hash_token(token), created=now(), revoked=None)
            )
        except sa.exc.IntegrityError:
            raise StoreValueError("duplicate", name=name) from None
    return token


def list_tokens(store: Store) -> list[dict]:
    """Every token (never the token itself): name, role, created and revoked (ISO times or None)."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(tokens.c.name, tokens.c.role, tokens.c.created, tokens.c.revoked).order_by(
                tokens.c.created, tokens.c.name
            )
        ).all()
    return [
        {"name": row.name, "role": row.role, "created": iso(row.created), "revoked": iso(row.revoked)} for row in rows
    ]


def revoke_token(store: Store, name: str) -> bool:
    """Revoke the token `name`; False when there is no such token or it was revoked already."""
    with store.write() as conn:
        result = conn.execute(
            tokens.update().where(tokens.c.name == name, tokens.c.revoked.is_(None)).values(revoked=now())
        )
        return result.rowcount > 0


def authenticate(store: Store, token: str) -> Principal | None:
    """The principal a token belongs to, or None for an unknown or revoked token.

    The token is looked up by its SHA-256 (an index), then the stored hash is compared with
    `hmac.compare_digest`, in constant time.
    """
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _hash_token(token)
    with store.read() as conn:
        row = conn.execute(
            sa.select(tokens.c.name, tokens.c.role, tokens.c.token_hash, tokens.c.revoked).where(
                tokens.c.token_hash == digest
            )
        ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked is not None:
        return None
    return Principal(row.name, row.role)
