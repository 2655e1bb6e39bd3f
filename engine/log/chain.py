"""The log's hash chain: each entry carries the hash of the one before, so tampering shows.

Three tables are chained, each on its own: `decisions`, `assessments` and `purges`. An entry's
`entry_hash` is a SHA-256 of its table's name, the `prev_hash` it links to and every other column
(canonical JSON, times as ISO 8601 UTC); its `prev_hash` is the `entry_hash` of the entry before it
(by `seq`). The first entry links to `GENESIS`, or, after a purge, to the anchor that purge
recorded: the hash of the last entry it deleted. Appending (`append`) takes the chain's lock (the
write lock on SQLite, an advisory lock on PostgreSQL), so two writers, two processes or two
servers never link to the same entry.

Finding the tail to link to costs one query (the last entry and the latest purge's anchor
together). A writer that appends again and again keeps the tails it left (`Store.tails`, on a
SQLite log: the write lock tells it whether any other writer wrote since) and needs no query at all.

On SQLite the rows go to the driver as one prepared statement (`_insert`): the log's appends are
on the service's every request, and SQLAlchemy's making of an INSERT cost more than the insert.

How an entry is hashed is in `hashing` (the migration that brought the chain uses it too).
`verify` reads every chain and names each entry that does not fit: a changed entry (its hash no
longer matches its content), and a broken link (an entry deleted, inserted or moved before it).
A checkpoint (`checkpoint`: the last `seq` and hash of each chain) kept outside the log shows also
what a chain alone cannot: that entries after it were removed, or the whole chain written anew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .hashing import GENESIS, entry_hash
from .schema import assessments, decisions, purges
from .values import iso, now, utc

CHAINED: dict[str, sa.Table] = {"decisions": decisions, "assessments": assessments, "purges": purges}
ANCHORED = {
    "decisions": ("decisions_last_seq", "decisions_anchor"),
    "assessments": ("assessments_last_seq", "assessments_anchor"),
}
IDENTITY = {"decisions": "decision_id", "assessments": "assessment_id", "purges": "seq"}
CHECKPOINT_FORMAT = "bip-log-checkpoint/1"
CHAIN_LOCK = 4242010
CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far an entry may be dated before the one it follows (clocks of two servers, a request's own time)."""


def _latest_purge(conn: Connection) -> Any:
    return conn.execute(sa.select(purges).order_by(purges.c.seq.desc()).limit(1)).first()


def anchor(conn: Connection, name: str) -> tuple[int, str]:
    """Where the chain `name` starts: the last seq and hash the latest purge deleted, else (0, GENESIS)."""
    if name not in ANCHORED:
        return 0, GENESIS
    latest = _latest_purge(conn)
    if latest is None:
        return 0, GENESIS
    last_seq, hashed = ANCHORED[name]
    return int(getattr(latest, last_seq)), getattr(latest, hashed)


def _tail_query(table: sa.Table) -> sa.Select:
    """The chain's last seq and hash and the anchor of the latest purge, in one query (made once per table)."""
    if table.name not in _TAIL_QUERIES:
        last = sa.select(table.c.seq, table.c.entry_hash).order_by(table.c.seq.desc()).limit(1).subquery()
        columns = [sa.select(last.c.seq).scalar_subquery(), sa.select(last.c.entry_hash).scalar_subquery()]
        if table.name in ANCHORED:
            named = (purges.c[name] for name in ANCHORED[table.name])
            latest = sa.select(*named).order_by(purges.c.seq.desc()).limit(1).subquery()
            columns += [sa.select(column).scalar_subquery() for column in latest.c]
        _TAIL_QUERIES[table.name] = sa.select(*columns)
    return _TAIL_QUERIES[table.name]


_TAIL_QUERIES: dict[str, sa.Select] = {}


def tail(conn: Connection, table: sa.Table) -> tuple[int, str]:
    """The seq and hash of the chain's last entry (the anchor when it has none)."""
    seq, hashed, *anchored = conn.execute(_tail_query(table)).one()
    start = (int(anchored[0]), anchored[1]) if anchored and anchored[0] is not None else (0, GENESIS)
    if seq is None:
        return start
    return max(int(seq), start[0]), hashed


def lock(conn: Connection) -> None:
    """Take the chain's lock for this transaction (PostgreSQL; a SQLite writer holds the file's lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"))


def link(
    conn: Connection, table: sa.Table, rows: list[dict[str, Any]], tails: dict[str, tuple[int, str]] | None = None
) -> list[dict[str, Any]]:
    """`rows` linked to the end of `table`'s chain (call inside the write transaction, after `lock`).

    On SQLite each row also gets its `seq`, counting on from the highest ever used (a purge that
    deleted the last entries does not let their numbers be used again). `tails` (`Store.tails`)
    gives the tail when this writer knows it, and learns the new one.
    """
    known = tails.get(table.name) if tails is not None else None
    last_seq, prev = known if known is not None else tail(conn, table)
    linked = []
    for number, row in enumerate(rows, 1):
        values = dict(row)
        if conn.dialect.name == "sqlite":
            values["seq"] = last_seq + number
        values["prev_hash"] = prev
        values["entry_hash"] = prev = entry_hash(table, values, prev)
        linked.append(values)
    if tails is not None and conn.dialect.name == "sqlite":
        tails[table.name] = (last_seq + len(rows), prev)
    return linked


def append(
    conn: Connection, table: sa.Table, rows: list[dict[str, Any]], tails: dict[str, tuple[int, str]] | None = None
) -> None:
    """Append `rows` to `table`, linked into its chain, inside the caller's write transaction.

    `tails`: the writer's own (`Store.tails`), inside a write made with `keep_tails`."""
    if rows:
        lock(conn)
        _insert(conn, table, link(conn, table, rows, tails))


def _insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) into `table`; on SQLite as one statement made once per set of columns."""
    names = tuple(rows[0])
    if conn.dialect.name != "sqlite" or any(row.keys() != rows[0].keys() for row in rows):
        conn.execute(table.insert(), rows)
        return
    statement, columns = _sqlite_insert(conn.dialect, table, names)
    conn.exec_driver_sql(
        statement, [tuple(row[name] if write is None else write(row[name]) for name, write in columns) for row in rows]
    )


@cache
def _sqlite_insert(
    dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]
) -> tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...]]:
    """The INSERT of `names` into `table` for the driver, and each name with how its value is written (its type's bind processor)."""
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    statement = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join('?' for _ in names)})"
    return statement, tuple((name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names)


@dataclass(frozen=True)
class Finding:
    """One entry that does not fit its chain: the table, its seq and id, and what is wrong (`changed`, `link`...)."""

    table: str
    seq: int | None
    entry: str
    problem: str


def verify(conn: Connection, checkpoint: dict | None = None) -> list[Finding]:
    """Every entry that does not fit its chain (and, with a checkpoint, every difference from it).

    Besides the links, the times: an entry dated more than `CLOCK_SKEW` before the one it follows
    was not written when it says (a forged entry dated in the past, even with its hashes made right).
    """
    present = set(sa.inspect(conn).get_table_names())
    findings = []
    for name, table in CHAINED.items():
        if name not in present:
            findings.append(Finding(name, None, "-", "missing_table"))
            continue
        _, expected = anchor(conn, name) if "purges" in present else (0, GENESIS)
        latest: dt.datetime | None = None
        for row in conn.execute(sa.select(table).order_by(table.c.seq)).mappings():
            ident = str(row[IDENTITY[name]])
            if row["entry_hash"] is None or row["entry_hash"] != entry_hash(table, row, row["prev_hash"] or ""):
                findings.append(Finding(name, row["seq"], ident, "changed"))
            if row["prev_hash"] != expected:
                findings.append(Finding(name, row["seq"], ident, "link"))
            time = utc(row["time"])
            if latest is not None and time is not None and time < latest - CLOCK_SKEW:
                findings.append(Finding(name, row["seq"], ident, "time"))
            if time is not None:
                latest = time if latest is None else max(latest, time)
            expected = row["entry_hash"]
    if checkpoint is not None:
        findings.extend(_against(conn, checkpoint))
    return findings


def checkpoint(conn: Connection, database: str) -> dict:
    """The state of every chain now (last seq, its hash, how many entries), to be kept outside the log."""
    chains = {}
    for name, table in CHAINED.items():
        last_seq, hashed = tail(conn, table)
        count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        chains[name] = {"seq": last_seq, "hash": hashed, "entries": count}
    return {"format": CHECKPOINT_FORMAT, "time": iso(now()), "database": database, "chains": chains}


def _against(conn: Connection, point: dict) -> list[Finding]:
    """Differences between the log and a checkpoint taken earlier."""
    findings = []
    chains = point.get("chains") if isinstance(point, dict) else None
    if not isinstance(chains, dict) or point.get("format") != CHECKPOINT_FORMAT:
        return [Finding("checkpoint", None, "-", "checkpoint_format")]
    for name, table in CHAINED.items():
        kept = chains.get(name) or {}
        seq, hashed = kept.get("seq"), kept.get("hash")
        if not isinstance(seq, int) or seq <= 0:
            continue
        row = conn.execute(sa.select(table.c.entry_hash).where(table.c.seq == seq)).first()
        if row is not None:
            if row.entry_hash != hashed:
                findings.append(Finding(name, seq, str(seq), "checkpoint_changed"))
            continue
        last_purged, purged_hash = anchor(conn, name)
        if seq < last_purged or (seq == last_purged and purged_hash == hashed):
            continue  # purged since, as a recorded purge says
        findings.append(Finding(name, seq, str(seq), "checkpoint_missing"))
    return findings
