"""The log's upkeep, done by its owner from the command line: verify, checkpoints, keys and roles.

- `verify_log`: every entry that does not fit its hash chain, or differs from a checkpoint;
- `take_checkpoint`: the state of every chain, to keep somewhere else and verify against later;
- `rotate_key`: a new pseudonym key (the old ones stay, so old entries are still found);
- `move_key_out`: a log made before version 5 kept its secret inside; this writes the pseudonym
  key it derived to a key file and deletes it from the log;
- `grant_service_role`: on PostgreSQL, let the service's login role only read and append.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import sqlalchemy as sa

from . import chain
from .errors import StoreError
from .keys import key_id, read_key_file, rotate_key_file, write_key_file
from .schema import meta, metadata
from .store import Store

SERVICE_APPENDS = ("decisions", "assessments", "sessions", "session_ends")
"""The tables the service appends to; it may read every table and change none."""


def verify_log(store: Store, checkpoint: dict | None = None) -> list[chain.Finding]:
    """Every entry that does not fit its chain, oldest first (and every difference from `checkpoint`)."""
    with store.read() as conn:
        return chain.verify(conn, checkpoint)


def take_checkpoint(store: Store) -> dict:
    """The last seq and hash of every chain now, with the time and the database (no password)."""
    with store.read() as conn:
        return chain.checkpoint(conn, store.url)


def rotate_key(store: Store) -> tuple[str, Path]:
    """Add a new pseudonym key to the key file; new entries use it. Return its id and the file."""
    path = store.pseudonym_key_file()
    new_id = rotate_key_file(path)
    store.forget_keys()
    return new_id, path


def move_key_out(store: Store, path: Path) -> str:
    """Move the pseudonym key of a log made before version 5 out of it, into the key file `path`.

    The key is the one the old log derived from its secret, so every entry stays findable; it is put
    first in the file (the older key), and the secret is deleted from the log. Return its key id.
    """
    secret = store.legacy_secret()
    if secret is None:
        raise StoreError("no_key_in_log", url=store.url)
    key = hmac.new(bytes.fromhex(secret), b"bip-secret:pseudonym", hashlib.sha256).digest()
    kept = read_key_file(path) if path.exists() else ()
    write_key_file(path, (key, *[other for other in kept if other != key]))
    with store.write() as conn:
        conn.execute(meta.delete().where(meta.c.key == "secret"))
    store.forget_keys()
    return key_id(key)


def grant_service_role(store: Store, role: str) -> None:
    """PostgreSQL: the login role `role` may SELECT every table and INSERT into the service's, nothing else.

    Run by the tables' owner after migrating. The role must exist (`CREATE ROLE ... LOGIN`); it is
    not the owner, so it cannot ALTER, DROP, TRUNCATE, DELETE or UPDATE, nor drop a trigger.
    """
    if store.dialect != "postgresql":
        raise StoreError("roles_postgresql", url=store.url)
    quoted = '"' + role.replace('"', '""') + '"'
    tables = [table.name for table in metadata.sorted_tables]
    with store.write() as conn:
        owner = conn.execute(sa.text("SELECT current_user")).scalar_one()
        if owner == role:
            raise StoreError("role_is_owner", role=role)
        for table in tables:
            conn.execute(sa.text(f"REVOKE ALL ON {table} FROM {quoted}"))
            privileges = "SELECT, INSERT" if table in SERVICE_APPENDS else "SELECT"
            conn.execute(sa.text(f"GRANT {privileges} ON {table} TO {quoted}"))
        conn.execute(sa.text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
        conn.execute(sa.text(f"REVOKE CREATE ON SCHEMA public FROM {quoted}"))
