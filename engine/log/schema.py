"""The decision log's tables, each defined once, and the migrations that make and upgrade them.

The tables below are the schema after the last migration; queries use them. A column added by a
later migration says so (`since(N)`), so a migration creates a table as it was at its own version
(`create_table`) and a later one adds the columns it brought (`add_columns`): the columns are not
written a second time in the migrations.

The schema is versioned: `schema_version` lists the migrations applied, and `migrate` applies the
missing ones from `MIGRATIONS` in one transaction (holding a lock on PostgreSQL, so two processes
starting at once do not both migrate). Decisions and assessments are append-only: the database
itself refuses an UPDATE (a trigger), and a DELETE outside a purge (a trigger that only lets rows
older than the purge's cutoff go). Triggers stop a mistake, not an attacker who may write the
file or owns the tables: each entry also carries the hash of the one before (`chain`), so `bip log
verify` finds what was changed, and on PostgreSQL the service connects as a role that may only
INSERT and SELECT (`roles`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .errors import StoreError
from .hashing import rehash_existing
from .values import now

metadata = sa.MetaData()
Timestamp = sa.DateTime(timezone=True)
Sequence = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def since(version: int) -> dict[str, Any]:
    """Column keyword arguments for a column that the migration `version` added to an existing table."""
    return {"info": {"since": version}}


schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied", Timestamp, nullable=False),
)
meta = sa.Table(
    "meta", metadata, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False)
)
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("revoked", Timestamp, nullable=True),
)
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("seq", Sequence, primary_key=True),
    sa.Column("decision_id", sa.String(64), nullable=False, unique=True),
    sa.Column("time", Timestamp, nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("citizen", sa.String(64), nullable=False),
    sa.Column("as_of", sa.String(10), nullable=False),
    sa.Column("rulebook_name", sa.String(200), nullable=False),
    sa.Column("rulebook_version", sa.String(100), nullable=False),
    sa.Column("rulebook_hash", sa.String(64), nullable=False),
    sa.Column("engine", sa.String(32), nullable=False),
    sa.Column("phase", sa.String(64)),
    sa.Column("confidence", sa.String(16)),
    sa.Column("flags", sa.Text, nullable=False),
    sa.Column("facts", sa.Text, nullable=False),
    sa.Column("record_hash", sa.String(64), nullable=False),
    sa.Column("rules_as_of", sa.String(10), **since(4)),
    sa.Column("release", sa.String(200), **since(4)),
    sa.Column("key_id", sa.String(16), **since(5)),
    sa.Column("prev_hash", sa.String(64), **since(5)),
    sa.Column("entry_hash", sa.String(64), **since(5)),
    sa.Column("software_version", sa.String(100), **since(6)),
    sa.Column("templates_hash", sa.String(64), **since(6)),
    sa.Column("phase_rule", sa.String(200), **since(6)),
    sa.Column("report_hash", sa.String(64), **since(6)),
    sa.Column("language", sa.String(8), **since(6)),
    sa.Column("margins", sa.Boolean, **since(6)),
)
purge_window = sa.Table("purge_window", metadata, sa.Column("cutoff", Timestamp, nullable=False))
assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("seq", Sequence, primary_key=True),
    sa.Column("assessment_id", sa.String(64), nullable=False, unique=True),
    sa.Column("decision_id", sa.String(64), sa.ForeignKey("decisions.decision_id"), nullable=False),
    sa.Column("time", Timestamp, nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("agrees", sa.Boolean, nullable=False),
    sa.Column("phase", sa.String(64)),
    sa.Column("reason", sa.Text),
    sa.Column("flag_notes", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), **since(5)),
    sa.Column("entry_hash", sa.String(64), **since(5)),
)
purges = sa.Table(
    "purges",
    metadata,
    sa.Column("seq", Sequence, primary_key=True),
    sa.Column("time", Timestamp, nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False),
    sa.Column("cutoff", sa.String(10), nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False),
    sa.Column("decisions_deleted", sa.Integer, nullable=False),
    sa.Column("assessments_deleted", sa.Integer, nullable=False),
    sa.Column("decisions_last_seq", sa.BigInteger, nullable=False),
    sa.Column("decisions_anchor", sa.String(64), nullable=False),
    sa.Column("assessments_last_seq", sa.BigInteger, nullable=False),
    sa.Column("assessments_anchor", sa.String(64), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("sid_hash", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("expires", Timestamp, nullable=False),
)
session_ends = sa.Table(
    "session_ends",
    metadata,
    sa.Column("sid_hash", sa.String(64), primary_key=True),
    sa.Column("ended", Timestamp, nullable=False),
)


def _since(column: sa.Column) -> int:
    return int(column.info.get("since", 0))


def create_table(conn: Connection, table: sa.Table, version: int) -> None:
    """Create `table` with the columns it had at schema `version` (those added later are left out)."""
    shape = sa.MetaData()
    for key in table.foreign_keys:  # the tables a key refers to, so the key can be made (not created here)
        key.column.table.to_metadata(shape)
    columns = []
    for column in table.columns:
        if _since(column) <= version:
            copied = column._copy()  # a copy leaves the foreign keys behind: they are added again
            for key in column.foreign_keys:
                copied.append_foreign_key(sa.ForeignKey(key.target_fullname))
            columns.append(copied)
    sa.Table(table.name, shape, *columns).create(conn)


def add_columns(conn: Connection, table: sa.Table, version: int) -> None:
    """Add to an existing `table` the columns that the migration `version` brought."""
    for column in table.columns:
        if _since(column) == version:
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


# --- Migrations: ordered, each a plain function of a connection inside the migration transaction ----


@dataclass(frozen=True)
class Migration:
    """One schema change: its version number, what it does, and the function that does it."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _m1_meta_and_tokens(conn: Connection) -> None:
    create_table(conn, meta, 1)
    create_table(conn, tokens, 1)
    # Until version 5 the pseudonym secret was kept here; a new log keeps no key (`keys`).


def _m2_decisions(conn: Connection) -> None:
    create_table(conn, decisions, 2)
    create_table(conn, purge_window, 2)
    conn.execute(sa.text("CREATE INDEX decisions_citizen_time ON decisions (citizen, time)"))
    conn.execute(sa.text("CREATE INDEX decisions_time ON decisions (time)"))
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("""
            CREATE FUNCTION bip_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'the decision log is append-only: % cannot be changed', TG_TABLE_NAME;
            END $$""")
        )
        conn.execute(
            sa.text("""
            CREATE FUNCTION bip_guard_decision_delete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NOT EXISTS (SELECT 1 FROM purge_window WHERE OLD.time < purge_window.cutoff) THEN
                RAISE EXCEPTION 'decision log entries are only deleted by a purge of old entries';
              END IF;
              RETURN OLD;
            END $$""")
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions "
                "FOR EACH ROW EXECUTE FUNCTION bip_refuse_change()"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions "
                "FOR EACH STATEMENT EXECUTE FUNCTION bip_refuse_change()"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER decisions_guard_delete BEFORE DELETE ON decisions "
                "FOR EACH ROW EXECUTE FUNCTION bip_guard_decision_delete()"
            )
        )
    else:
        conn.execute(
            sa.text("""
            CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
            BEGIN SELECT RAISE(ABORT, 'the decision log is append-only: decisions cannot be changed'); END""")
        )
        conn.execute(
            sa.text("""
            CREATE TRIGGER decisions_guard_delete BEFORE DELETE ON decisions
            WHEN NOT EXISTS (SELECT 1 FROM purge_window WHERE OLD.time < purge_window.cutoff)
            BEGIN SELECT RAISE(ABORT, 'decision log entries are only deleted by a purge of old entries'); END""")
        )


def _m3_assessments(conn: Connection) -> None:
    create_table(conn, assessments, 3)
    conn.execute(sa.text("CREATE INDEX assessments_decision ON assessments (decision_id)"))
    guard = (
        "NOT EXISTS (SELECT 1 FROM decisions d, purge_window p "
        "WHERE d.decision_id = OLD.decision_id AND d.time < p.cutoff)"
    )
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(f"""
            CREATE FUNCTION bip_guard_assessment_delete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF {guard} THEN
                RAISE EXCEPTION 'assessments are only deleted with their decision by a purge of old entries';
              END IF;
              RETURN OLD;
            END $$""")
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER assessments_no_update BEFORE UPDATE ON assessments "
                "FOR EACH ROW EXECUTE FUNCTION bip_refuse_change()"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER assessments_no_truncate BEFORE TRUNCATE ON assessments "
                "FOR EACH STATEMENT EXECUTE FUNCTION bip_refuse_change()"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER assessments_guard_delete BEFORE DELETE ON assessments "
                "FOR EACH ROW EXECUTE FUNCTION bip_guard_assessment_delete()"
            )
        )
    else:
        conn.execute(
            sa.text("""
            CREATE TRIGGER assessments_no_update BEFORE UPDATE ON assessments
            BEGIN SELECT RAISE(ABORT, 'the decision log is append-only: assessments cannot be changed'); END""")
        )
        conn.execute(
            sa.text(f"""
            CREATE TRIGGER assessments_guard_delete BEFORE DELETE ON assessments WHEN {guard}
            BEGIN SELECT RAISE(ABORT, 'assessments are only deleted with their decision by a purge'); END""")
        )


def _m4_dated_rules(conn: Connection) -> None:
    add_columns(conn, decisions, 4)


def _append_only(conn: Connection, table: str) -> None:
    """Make the database refuse an UPDATE, a DELETE and (PostgreSQL) a TRUNCATE of `table`."""
    if conn.dialect.name == "postgresql":
        for event, each in (("UPDATE", "ROW"), ("DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
            conn.execute(
                sa.text(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"FOR EACH {each} EXECUTE FUNCTION bip_refuse_change()"
                )
            )
    else:
        for event in ("UPDATE", "DELETE"):
            conn.execute(
                sa.text(f"""
                CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}
                BEGIN SELECT RAISE(ABORT, 'the decision log is append-only: {table} cannot be changed'); END""")
            )


def _no_update_trigger(conn: Connection, table: str, present: bool) -> None:
    """Drop (present=False) or make again the trigger that refuses an UPDATE of `table`."""
    name = f"{table}_no_update"
    if not present:
        on = f" ON {table}" if conn.dialect.name == "postgresql" else ""
        conn.execute(sa.text(f"DROP TRIGGER {name}{on}"))
    elif conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION bip_refuse_change()")
        )
    else:
        conn.execute(
            sa.text(f"""
            CREATE TRIGGER {name} BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, 'the decision log is append-only: {table} cannot be changed'); END""")
        )


def _m5_chain_and_sessions(conn: Connection) -> None:
    add_columns(conn, decisions, 5)
    add_columns(conn, assessments, 5)
    create_table(conn, purges, 5)
    _append_only(conn, "purges")
    create_table(conn, sessions, 5)
    create_table(conn, session_ends, 5)
    for table in ("decisions", "assessments"):
        _no_update_trigger(conn, table, present=False)
    rehash_existing(conn, (decisions, assessments))  # the chain's own rule, once, for the entries already there
    for table in ("decisions", "assessments"):
        _no_update_trigger(conn, table, present=True)


def _m6_provenance(conn: Connection) -> None:
    add_columns(conn, decisions, 6)  # empty in older entries, whose hashes leave them out (`hashing`)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "meta and API tokens", _m1_meta_and_tokens),
    Migration(2, "the decision log, append-only", _m2_decisions),
    Migration(3, "the caseworkers' assessments of decisions, append-only", _m3_assessments),
    Migration(4, "decisions record the rules' date and release (dated rules)", _m4_dated_rules),
    Migration(5, "hash chain, key ids, purge entries and server-side sessions", _m5_chain_and_sessions),
    Migration(
        6,
        "decisions record the software version, templates hash, phase rule and the report (hash, language, margins)",
        _m6_provenance,
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def migrate(engine: Engine, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Apply the migrations the database lacks, in order, in one locked transaction; return its version."""
    with engine.connect() as conn:
        conn.execution_options(bip_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242008)"))  # one migrating process at a time
            schema_version.create(conn, checkfirst=True)
            current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
            known = migrations[-1].version if migrations else 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    "too_new",
                    url=engine.url.render_as_string(hide_password=True),
                    found=current,
                    known=SCHEMA_VERSION,
                )
            for migration in migrations:
                if migration.version > current:
                    migration.apply(conn)
                    conn.execute(
                        schema_version.insert().values(
                            version=migration.version, description=migration.description, applied=now()
                        )
                    )
            return max(current, known)


@cache
def _text_limits(table: sa.Table, text_limit: int) -> tuple[tuple[str, str, int | None], ...]:
    """Each column of `table`: its name, the name users know it by, and its length limit (read once per table)."""
    return tuple(
        (
            column.name,
            FIELD_NAMES.get(column.name, column.name),
            getattr(column.type, "length", None) or (text_limit if column.name in ("purpose", "reason") else None),
        )
        for column in table.columns
    )


FIELD_NAMES = {"user_name": "user"}
"""The names a refused value is shown by, where the column's name is not the one users know."""


def check_values(table: sa.Table, values: dict[str, Any], text_limit: int) -> None:
    """Refuse (`StoreValueError`) a value the database would: a NUL character, or text longer than its column.

    Checked before writing, so one bad entry is answered on its own (422) and never fails the
    entries committed with it.
    """
    from .errors import StoreValueError

    for name, field, limit in _text_limits(table, text_limit):
        value = values.get(name)
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise StoreValueError("nul", field=field)
        if limit is not None and len(value) > limit:
            raise StoreValueError("too_long", field=field, limit=limit)
