"""How an entry of the log is hashed into its chain (`chain`): one rule, for appending, verifying and migrating."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .values import dumps, iso

GENESIS = "0" * 64
"""What the first entry of a chain links to."""
LINKS = ("seq", "prev_hash", "entry_hash")
"""The columns that place an entry in its chain, left out of its hash."""
CHAIN_SINCE = 5
"""The schema version that brought the chain: a column added after it is hashed only when it has a value."""


def _plain(value: Any) -> Any:
    return iso(value) if isinstance(value, dt.datetime) else value


def entry_hash(table: sa.Table, values: Any, prev: str) -> str:
    """The hash of one entry of `table` (its column values, by name) linked to `prev`: SHA-256 of canonical JSON.

    Every column counts, except those added after the chain (`CHAIN_SINCE`) while they are empty: an
    entry written before such a column existed hashes as it did then, and still verifies, while a
    newer entry's value is covered (emptying it later changes the hash as much as changing it).
    """
    content = {
        name: _plain(values.get(name)) for name, always in _hashed(table) if always or values.get(name) is not None
    }
    return hashlib.sha256(dumps({"table": table.name, "prev": prev, "entry": content}).encode("utf-8")).hexdigest()


@cache
def _hashed(table: sa.Table) -> tuple[tuple[str, bool], ...]:
    """The columns of `table` an entry's hash covers, each with whether it counts when empty (read once per table)."""
    return tuple(
        (column.name, int(column.info.get("since", 0)) <= CHAIN_SINCE)
        for column in table.columns
        if column.name not in LINKS
    )


def rehash_existing(conn: Connection, tables: tuple[sa.Table, ...]) -> None:
    """Link the entries of `tables` written before the chain existed (the migration that brought it, once).

    Only the columns of that migration's schema are read: those added later do not exist yet."""
    for table in tables:
        prev = GENESIS
        present = [column for column in table.columns if int(column.info.get("since", 0)) <= CHAIN_SINCE]
        for row in conn.execute(sa.select(*present).order_by(table.c.seq)).mappings().all():
            hashed = entry_hash(table, row, prev)
            conn.execute(table.update().where(table.c.seq == row["seq"]).values(prev_hash=prev, entry_hash=hashed))
            prev = hashed
