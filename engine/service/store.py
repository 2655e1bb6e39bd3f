"""The decision log's database: API tokens, pseudonyms and the append-only log of decisions.

One URL chooses the database: `sqlite:///path.db` (the default is `bip-log.sqlite` in the current
folder; a plain file path works too) or `postgresql://user:password@host/db` (driven by psycopg 3).
SQLite runs in WAL mode with `synchronous=NORMAL` and a busy timeout, so several threads and several
server processes can append to the same file; every write transaction takes the write lock at once
(`BEGIN IMMEDIATE`) so two writers wait for each other instead of failing.

The schema is versioned: `schema_version` lists the migrations applied, and `Store.open` applies the
missing ones from `MIGRATIONS` in one transaction (holding a lock, so two processes starting at
once do not both migrate). Decisions and assessments are append-only: the database itself refuses
an UPDATE (a trigger), and a DELETE outside `Store.purge` (a trigger that only lets rows older than
the purge's cutoff go).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: SQLite's own locking alone
    fcntl = None  # type: ignore[assignment]

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..messages import text

ROLES = ("caseworker", "team_lead", "policy", "auditor", "system")
KINDS = ("check", "explain")
FLAG_NOTE_STATUSES = ("acted", "not_relevant")
DEFAULT_URL = "sqlite:///bip-log.sqlite"
TOKEN_PREFIX = "bip_"
MAX_TEXT = 4000
BUSY_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (or system) name and its role."""

    name: str
    role: str  # caseworker | team_lead | policy | auditor | system


def message(key: str, lang: str = "da", **params: Any) -> str:
    """One of the decision log's messages (`log.KEY` in the message catalogue) in Danish (da) or English (en)."""
    return text(f"log.{key}", lang, **params)


class StoreError(Exception):
    """The decision log cannot do what was asked; `text(lang)` says why in Danish or English."""

    def __init__(self, key: str, **params: Any):
        self.key, self.params = key, params
        super().__init__(self.text("en"))

    def text(self, lang: str = "da") -> str:
        """The message in `lang` (da or en)."""
        return message(self.key, lang, **self.params)


class StoreValueError(StoreError, ValueError):
    """A value given to the store is not acceptable (unknown role, duplicate name, missing decision...)."""


# --- Tables as they are after the last migration (for queries; the migrations create them) ----------

_metadata = sa.MetaData()
Timestamp = sa.DateTime(timezone=True)
_schema_version = sa.Table(
    "schema_version",
    _metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied", Timestamp, nullable=False),
)
_meta = sa.Table(
    "meta", _metadata, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False)
)
_tokens = sa.Table(
    "tokens",
    _metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("revoked", Timestamp, nullable=True),
)
_decisions = sa.Table(
    "decisions",
    _metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
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
    sa.Column("rules_as_of", sa.String(10)),
    sa.Column("release", sa.String(200)),
)
_assessments = sa.Table(
    "assessments",
    _metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("assessment_id", sa.String(64), nullable=False, unique=True),
    sa.Column("decision_id", sa.String(64), nullable=False),
    sa.Column("time", Timestamp, nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("agrees", sa.Boolean, nullable=False),
    sa.Column("phase", sa.String(64)),
    sa.Column("reason", sa.Text),
    sa.Column("flag_notes", sa.Text, nullable=False),
)
_purge_window = sa.Table("purge_window", _metadata, sa.Column("cutoff", Timestamp, nullable=False))


# --- Migrations: ordered, each a plain function of a connection inside the migration transaction ----


@dataclass(frozen=True)
class Migration:
    """One schema change: its version number, what it does, and the function that does it."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create(conn: Connection, *columns_of: tuple[str, list[sa.Column]]) -> None:
    """Create tables from column lists, each in a fresh MetaData (a migration's own frozen shape)."""
    for name, columns in columns_of:
        sa.Table(name, sa.MetaData(), *columns).create(conn)


def _m1_meta_and_tokens(conn: Connection) -> None:
    _create(
        conn,
        ("meta", [sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False)]),
        (
            "tokens",
            [
                sa.Column("name", sa.String(100), primary_key=True),
                sa.Column("role", sa.String(32), nullable=False),
                sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
                sa.Column("created", Timestamp, nullable=False),
                sa.Column("revoked", Timestamp, nullable=True),
            ],
        ),
    )
    conn.execute(_meta.insert().values(key="secret", value=secrets.token_hex(32)))


def _m2_decisions(conn: Connection) -> None:
    _create(
        conn,
        (
            "decisions",
            [
                sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
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
            ],
        ),
        ("purge_window", [sa.Column("cutoff", Timestamp, nullable=False)]),
    )
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
    metadata = sa.MetaData()
    sa.Table("decisions", metadata, sa.Column("decision_id", sa.String(64)))  # the key's target, made in _m2
    sa.Table(
        "assessments",
        metadata,
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("assessment_id", sa.String(64), nullable=False, unique=True),
        sa.Column("decision_id", sa.String(64), sa.ForeignKey("decisions.decision_id"), nullable=False),
        sa.Column("time", Timestamp, nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("agrees", sa.Boolean, nullable=False),
        sa.Column("phase", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("flag_notes", sa.Text, nullable=False),
    ).create(conn)
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
    conn.execute(sa.text("ALTER TABLE decisions ADD COLUMN rules_as_of VARCHAR(10)"))
    conn.execute(sa.text("ALTER TABLE decisions ADD COLUMN release VARCHAR(200)"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "meta (the database's secret) and API tokens", _m1_meta_and_tokens),
    Migration(2, "the decision log, append-only", _m2_decisions),
    Migration(3, "the caseworkers' assessments of decisions, append-only", _m3_assessments),
    Migration(4, "decisions record the rules' date and release (dated rules)", _m4_dated_rules),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


# --- Engines -------------------------------------------------------------------------------------


def database_url(url: str | None) -> sa.URL:
    """The SQLAlchemy URL for `url`: a default SQLite file, a plain path, sqlite:/// or postgresql://."""
    text = (url or DEFAULT_URL).strip()
    if "://" not in text:
        text = "sqlite:///" + text
    try:
        parsed = sa.make_url(text)
    except sa.exc.ArgumentError:
        raise StoreError("bad_url", url=url) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgres+psycopg"):
            return parsed.set(drivername="postgresql+psycopg")
        raise StoreError("bad_url", url=url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed
    raise StoreError("bad_url", url=url)


def _sqlite_engine(url: sa.URL, create: bool) -> Engine:
    path = url.database or ""
    memory = not path or path == ":memory:"
    if not memory and not create and not os.path.exists(path):
        raise StoreError("missing", url=str(url))
    if not memory and not os.path.exists(path):
        try:  # the log holds pseudonyms and the database secret: readable by its owner only
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as error:
            raise StoreError("unreachable", url=str(url), reason=error.strerror or str(error)) from None
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}}
    if memory:
        options["poolclass"] = sa.pool.StaticPool
    else:
        options.update(pool_size=8, max_overflow=8)
    engine = sa.create_engine(url, **options)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we send BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not memory:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("bip_write") else "BEGIN")

    return engine


def _postgresql_engine(url: sa.URL) -> Engine:
    return sa.create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, "application_name": "bip"},
    )


def _first_line(error: BaseException) -> str:
    inner = getattr(error, "orig", None) or error
    return (str(inner).strip().splitlines() or [type(inner).__name__])[0]


def migrate(engine: Engine, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Apply the migrations the database lacks, in order, in one locked transaction; return its version."""
    with engine.connect() as conn:
        conn.execution_options(bip_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242008)"))  # one migrating process at a time
            conn.execute(
                sa.text(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied TIMESTAMP WITH TIME ZONE NOT NULL)"
                )
            )
            current = conn.execute(sa.select(sa.func.max(_schema_version.c.version))).scalar() or 0
            known = migrations[-1].version if migrations else 0
            if current > MIGRATIONS[-1].version:
                raise StoreError(
                    "too_new",
                    url=engine.url.render_as_string(hide_password=True),
                    found=current,
                    known=MIGRATIONS[-1].version,
                )
            for migration in migrations:
                if migration.version > current:
                    migration.apply(conn)
                    conn.execute(
                        _schema_version.insert().values(
                            version=migration.version, description=migration.description, applied=_now()
                        )
                    )
            return max(current, known)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    value = _utc(value)
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z") if value else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class _WriterQueue:
    """Lets one writer of a SQLite file at a time in, across threads and processes.

    SQLite allows one writer; a writer that finds the database locked sleeps and retries in steps of
    up to 100 ms, which makes for long, unfair waits under load. Writers queue here instead: on a
    thread lock, then on an flock of a file next to the database, which the kernel hands on at once.
    """

    def __init__(self, path: str):
        self.path, self._thread_lock = path, threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._take(wait=True)

    def try_enter(self) -> bool:
        """Take the lock if no other writer holds it right now; False (and nothing held) when one does."""
        return self._take(wait=False)

    def _take(self, wait: bool) -> bool:
        if not self._thread_lock.acquire(blocking=wait):
            return False
        try:
            if fcntl is not None:
                if self._fd is None or self._pid != os.getpid():  # a forked child needs its own descriptor
                    self._fd, self._pid = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600), os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # only without waiting: another writer has it
            self._thread_lock.release()
            return False
        except BaseException:
            self._thread_lock.release()
            raise
        return True

    def __exit__(self, *exc: object) -> None:
        try:
            if fcntl is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


@dataclass(frozen=True)
class DecisionEntry:
    """One line of the decision log."""

    decision_id: str
    time: dt.datetime  # UTC
    user: str
    role: str
    purpose: str
    kind: str  # check | explain
    citizen: str  # pseudonym
    as_of: str
    rules_as_of: str | None
    rulebook_name: str
    rulebook_version: str
    rulebook_hash: str
    release: str | None
    engine: str
    phase: str | None
    confidence: str | None
    flags: list[dict]  # [{"id", "severity"}]
    facts: dict
    record_hash: str


# --- The store -------------------------------------------------------------------------------------


class Store:
    """The decision log, API tokens and pseudonyms in one database; safe to share between threads."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._secret: bytes | None = None
        self._pseudonym_key: bytes | None = None
        self._lock = threading.Lock()
        self._write_lock: Any = contextlib.nullcontext()
        if self.dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self._write_lock = _WriterQueue(engine.url.database + ".lock")

    @classmethod
    def open(cls, url: str | None = None, create: bool = True) -> Store:
        """Open (and create or upgrade) the database at `url`; raise `StoreError` when it cannot be used.

        With `create=False` a SQLite file that does not exist is an error instead of a new, empty log.
        """
        parsed = database_url(url)
        if parsed.get_backend_name() == "postgresql":
            engine = _postgresql_engine(parsed)
        else:
            engine = _sqlite_engine(parsed, create)
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        # Processes that open a new SQLite log at once take turns: switching a new file to WAL
        # mode needs it alone, and SQLite may answer "locked" there without waiting.
        turns = _WriterQueue(database + ".lock") if database not in (None, "", ":memory:") else None
        try:
            with turns or contextlib.nullcontext():
                migrate(engine)
        except StoreError:
            engine.dispose()
            raise
        except (sa.exc.SQLAlchemyError, OSError) as error:
            engine.dispose()
            raise StoreError(
                "unreachable", url=parsed.render_as_string(hide_password=True), reason=_first_line(error)
            ) from None
        finally:
            if turns is not None:
                turns.close()
        return cls(engine)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and maintenance)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()
        if isinstance(self._write_lock, _WriterQueue):
            self._write_lock.close()

    def schema_version(self) -> int:
        """The highest migration applied to this database."""
        with self._read() as conn:
            return conn.execute(sa.select(sa.func.max(_schema_version.c.version))).scalar() or 0

    def ping(self) -> str | None:
        """None when the database answers, else the reason it does not."""
        try:
            with self._engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return None
        except sa.exc.SQLAlchemyError as error:
            return _first_line(error)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (the write lock taken at once on SQLite), committed on exit."""
        with self._write_lock, self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction for a caller that holds the write lock, committed on exit."""
        with self._errors(), self._engine.connect() as conn:
            conn.execution_options(bip_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._errors(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as error:
            raise StoreError("unreachable", url=self.url, reason=_first_line(error)) from None

    # --- tokens ---

    def create_token(self, name: str, role: str) -> str:
        """A new API token for `name` with `role`; only its SHA-256 is stored, so this is the only copy."""
        if role not in ROLES:
            raise StoreValueError("role", role=role, roles=", ".join(ROLES))
        if not name or len(name) > 100 or not name.isprintable() or any(char.isspace() for char in name):
            raise StoreValueError("name", name=name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._write() as conn:
            try:
                conn.execute(
                    _tokens.insert().values(
                        name=name, role=role, token_hash=_hash_token(token), created=_now(), revoked=None
                    )
                )
            except sa.exc.IntegrityError:
                raise StoreValueError("duplicate", name=name) from None
        return token

    def list_tokens(self) -> list[dict]:
        """Every token (never the token itself): name, role, created and revoked (ISO times or None)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(_tokens.c.name, _tokens.c.role, _tokens.c.created, _tokens.c.revoked).order_by(
                    _tokens.c.created, _tokens.c.name
                )
            ).all()
        return [
            {"name": row.name, "role": row.role, "created": _iso(row.created), "revoked": _iso(row.revoked)}
            for row in rows
        ]

    def revoke_token(self, name: str) -> bool:
        """Revoke the token `name`; False when there is no such token or it was revoked already."""
        with self._write() as conn:
            result = conn.execute(
                _tokens.update().where(_tokens.c.name == name, _tokens.c.revoked.is_(None)).values(revoked=_now())
            )
            return result.rowcount > 0

    def authenticate(self, token: str) -> Principal | None:
        """The principal a token belongs to, or None for an unknown or revoked token.

        The token is looked up by its SHA-256 (an index), then the stored hash is compared with
        `hmac.compare_digest`, in constant time.
        """
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = _hash_token(token)
        with self._read() as conn:
            row = conn.execute(
                sa.select(_tokens.c.name, _tokens.c.role, _tokens.c.token_hash, _tokens.c.revoked).where(
                    _tokens.c.token_hash == digest
                )
            ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked is not None:
            return None
        return Principal(row.name, row.role)

    # --- pseudonyms and secrets ---

    def _master(self) -> bytes:
        with self._lock:
            if self._secret is None:
                with self._read() as conn:
                    value = conn.execute(sa.select(_meta.c.value).where(_meta.c.key == "secret")).scalar_one()
                self._secret = bytes.fromhex(value)
            return self._secret

    def secret(self, purpose: str) -> bytes:
        """A 32-byte secret for `purpose` (e.g. "cookies"), derived from this database's own secret."""
        return hmac.new(self._master(), b"bip-secret:" + purpose.encode("utf-8"), hashlib.sha256).digest()

    def pseudonym(self, citizen_id: str) -> str:
        """The citizen's pseudonym in this database: HMAC-SHA256 of the id with the database's secret."""
        if self._pseudonym_key is None:
            self._pseudonym_key = self.secret("pseudonym")
        return hmac.new(self._pseudonym_key, citizen_id.encode("utf-8"), hashlib.sha256).hexdigest()

    # --- decisions ---

    def append_decision(self, entry: DecisionEntry) -> None:
        """Append one decision; it is committed (durable against a crash of this process) on return."""
        self.append_decisions([self.decision_values(entry)])

    def append_decisions(self, rows: list[dict[str, Any]]) -> None:
        """Append decisions (each from `decision_values`) in one transaction: all are committed on return, or none."""
        with self._write() as conn:
            conn.execute(_decisions.insert(), rows)

    def checkpoint_later(self) -> None:
        """Leave checkpoints of a SQLite log to `checkpoint` (the service calls it from a thread).

        By default the commit that fills the write-ahead log past 1,000 pages copies it into the
        database and waits for the disk; a service would make the requests of that moment wait.
        """
        if self.dialect != "sqlite":
            return

        @sa.event.listens_for(self._engine, "connect")
        def _manual(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
            cursor.close()

        self._engine.dispose()  # the connections made before are made again, with the pragma

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into a SQLite database, without waiting for readers or writers."""
        if self.dialect != "sqlite":
            return
        with self._errors():
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.close()
            finally:
                connection.close()

    def try_append_decisions(self, rows: list[dict[str, Any]]) -> bool:
        """Append as `append_decisions` does if that needs no wait; else False, and nothing is written.

        Only a SQLite log whose write lock is free at this moment is written here (a local file: the
        commit is an append to the write-ahead log, without fsync). PostgreSQL, or a SQLite log that
        another writer holds (another worker's commit, `bip log purge`), gives False.
        """
        if self.dialect != "sqlite":
            return False
        lock = self._write_lock
        if isinstance(lock, _WriterQueue):
            if not lock.try_enter():
                return False
            try:
                with self._transaction() as conn:
                    conn.execute(_decisions.insert(), rows)
            finally:
                lock.__exit__()
            return True
        self.append_decisions(rows)
        return True

    @staticmethod
    def decision_values(entry: DecisionEntry) -> dict[str, Any]:
        """The row of one decision, checked (`StoreValueError` for a kind or purpose the log refuses)."""
        if entry.kind not in KINDS:
            raise StoreValueError("kind", kind=entry.kind, kinds=", ".join(KINDS))
        if len(entry.purpose) > MAX_TEXT:
            raise StoreValueError("too_long", field="purpose", limit=MAX_TEXT)
        values = {
            "decision_id": entry.decision_id,
            "time": _utc(entry.time),
            "user_name": entry.user,
            "role": entry.role,
            "purpose": entry.purpose,
            "kind": entry.kind,
            "citizen": entry.citizen,
            "as_of": entry.as_of,
            "rules_as_of": entry.rules_as_of,
            "rulebook_name": entry.rulebook_name,
            "rulebook_version": entry.rulebook_version,
            "rulebook_hash": entry.rulebook_hash,
            "release": entry.release,
            "engine": entry.engine,
            "phase": entry.phase,
            "confidence": entry.confidence,
            "flags": _dumps(list(entry.flags)),
            "facts": _dumps(entry.facts),
            "record_hash": entry.record_hash,
        }
        return values

    @staticmethod
    def _decision_dict(row: Any) -> dict:
        return {
            "decision_id": row.decision_id,
            "time": _iso(row.time),
            "user": row.user_name,
            "role": row.role,
            "purpose": row.purpose,
            "kind": row.kind,
            "citizen": row.citizen,
            "as_of": row.as_of,
            "rules_as_of": row.rules_as_of,
            "rulebook_name": row.rulebook_name,
            "rulebook_version": row.rulebook_version,
            "rulebook_hash": row.rulebook_hash,
            "release": row.release,
            "engine": row.engine,
            "phase": row.phase,
            "confidence": row.confidence,
            "flags": json.loads(row.flags),
            "facts": json.loads(row.facts),
            "record_hash": row.record_hash,
        }

    def decision(self, decision_id: str) -> dict | None:
        """One logged decision (the DecisionEntry's fields; time as ISO 8601 UTC), or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(_decisions).where(_decisions.c.decision_id == decision_id)).first()
        return self._decision_dict(row) if row else None

    def decisions_for(self, citizen_id: str) -> list[dict]:
        """Every logged decision about a citizen (id in clear; looked up by pseudonym), oldest first."""
        query = (
            sa.select(_decisions)
            .where(_decisions.c.citizen == self.pseudonym(citizen_id))
            .order_by(_decisions.c.time, _decisions.c.seq)
        )
        with self._read() as conn:
            return [self._decision_dict(row) for row in conn.execute(query)]

    def latest_decision(self, citizen_id: str, kind: str = "check") -> dict | None:
        """The citizen's most recent decision of `kind`, or None."""
        query = (
            sa.select(_decisions)
            .where(_decisions.c.citizen == self.pseudonym(citizen_id), _decisions.c.kind == kind)
            .order_by(_decisions.c.time.desc(), _decisions.c.seq.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return self._decision_dict(row) if row else None

    def count_decisions(self) -> int:
        """How many decisions the log holds."""
        with self._read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(_decisions)).scalar_one()

    def purge(self, older_than: dt.date) -> int:
        """Delete decisions made before `older_than` (UTC midnight), with their assessments; return how many."""
        cutoff = dt.datetime.combine(older_than, dt.time(), dt.UTC)
        old = sa.select(_decisions.c.decision_id).where(_decisions.c.time < cutoff)
        with self._write() as conn:
            conn.execute(_purge_window.insert().values(cutoff=cutoff))
            conn.execute(_assessments.delete().where(_assessments.c.decision_id.in_(old)))
            deleted = conn.execute(_decisions.delete().where(_decisions.c.time < cutoff)).rowcount
            conn.execute(_purge_window.delete())
        return deleted

    # --- assessments ---

    def append_assessment(
        self,
        decision_id: str,
        principal: Principal,
        agrees: bool,
        phase: str | None,
        reason: str | None,
        flag_notes: dict[str, dict],
    ) -> str:
        """Append a caseworker's own assessment of a logged decision; return its id.

        `flag_notes` maps a flag id to {"status": "acted"|"not_relevant", "note": str}. ValueError when
        the decision is not in the log or a value is out of bounds.
        """
        if reason is not None and len(reason) > MAX_TEXT:
            raise StoreValueError("too_long", field="reason", limit=MAX_TEXT)
        notes = {}
        for flag, item in (flag_notes or {}).items():
            note = item.get("note") if isinstance(item, dict) else None
            if (
                not isinstance(item, dict)
                or item.get("status") not in FLAG_NOTE_STATUSES
                or not isinstance(note or "", str)
                or len(note or "") > MAX_TEXT
            ):
                raise StoreValueError("flag_note", flag=flag, limit=MAX_TEXT)
            notes[str(flag)] = {"status": item["status"], "note": note or ""}
        assessment_id = uuid.uuid4().hex
        with self._write() as conn:
            exists = conn.execute(sa.select(_decisions.c.seq).where(_decisions.c.decision_id == decision_id)).first()
            if exists is None:
                raise StoreValueError("no_decision", decision_id=decision_id)
            conn.execute(
                _assessments.insert().values(
                    assessment_id=assessment_id,
                    decision_id=decision_id,
                    time=_now(),
                    user_name=principal.name,
                    role=principal.role,
                    agrees=bool(agrees),
                    phase=phase,
                    reason=reason,
                    flag_notes=_dumps(notes),
                )
            )
        return assessment_id

    def assessments_for(self, citizen_id: str) -> list[dict]:
        """Every assessment of a decision about this citizen, oldest first."""
        query = (
            sa.select(_assessments)
            .join(_decisions, _decisions.c.decision_id == _assessments.c.decision_id)
            .where(_decisions.c.citizen == self.pseudonym(citizen_id))
            .order_by(_assessments.c.time, _assessments.c.seq)
        )
        with self._read() as conn:
            return [
                {
                    "assessment_id": row.assessment_id,
                    "decision_id": row.decision_id,
                    "time": _iso(row.time),
                    "user": row.user_name,
                    "role": row.role,
                    "agrees": bool(row.agrees),
                    "phase": row.phase,
                    "reason": row.reason,
                    "flag_notes": json.loads(row.flag_notes),
                }
                for row in conn.execute(query)
            ]
