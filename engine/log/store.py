"""The decision log's database: the connection, transactions and write locks.

One URL chooses the database: `sqlite:///path.db` (the default is `bip-log.sqlite` in the current
folder; a plain file path works too) or `postgresql://user:password@host/db` (driven by psycopg 3).
SQLite runs in WAL mode with `synchronous=NORMAL` and a busy timeout, so several threads and several
server processes can append to the same file; every write transaction takes the write lock at once
(`BEGIN IMMEDIATE`) so two writers wait for each other instead of failing. `Store.open` creates or
upgrades the schema (`bip_engine.log.schema`); what is kept in it is written and read by the
modules beside this one (tokens, pseudonyms, decisions, assessments, retention, export).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .errors import StoreError
from .keys import (
    PSEUDONYM_KEY_ENV,
    PSEUDONYM_KEY_FILE_ENV,
    PSEUDONYM_SUFFIX,
    SESSION_KEY_ENV,
    SESSION_KEY_FILE_ENV,
    SESSION_SUFFIX,
    PseudonymKeys,
    key_file_for,
    load_pseudonym_keys,
    load_session_key,
    new_key,
)
from .locks import WriterQueue
from .schema import meta, migrate, schema_version

DEFAULT_URL = "sqlite:///bip-log.sqlite"
BUSY_TIMEOUT_MS = 15_000
WAL_SIZE_LIMIT = 1024 * 1024 * 1024
"""Bytes a SQLite log's write-ahead file is cut back to when it starts over: a ceiling, not a size.

The file grows between the moments a checkpoint catches up with the writers (some 300 MB in 15 s at
1,400 checks/s) and is then written again from its start. SQLite cuts it back in the first commit
after it starts over, and on the service's event loop that commit then held up every answer of the
worker (140 ms for 340 MB). Under this ceiling the file keeps its size until the last connection
closes (when SQLite removes it)."""


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
        try:  # the log holds pseudonyms: readable by its owner only
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
            cursor.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
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


def _configured(*names: str) -> bool:
    return any(os.environ.get(name, "").strip() for name in names)


def _first_line(error: BaseException) -> str:
    inner = getattr(error, "orig", None) or error
    return (str(inner).strip().splitlines() or [type(inner).__name__])[0]


class Store:
    """The decision log's database: connections, transactions and its keys (kept outside it); safe to share between threads."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._pseudonym_keys: PseudonymKeys | None = None
        self._session_key: bytes | None = None
        self._memory = self.dialect == "sqlite" and engine.url.database in (None, "", ":memory:")
        self._lock = threading.Lock()
        self._write_lock: Any = contextlib.nullcontext()
        if self.dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self._write_lock = WriterQueue(engine.url.database + ".lock")
        self._tails: dict[str, tuple[int, str]] = {}
        self._stamp: bytes | None = None

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
        turns = WriterQueue(database + ".lock") if database not in (None, "", ":memory:") else None
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
        if isinstance(self._write_lock, WriterQueue):
            self._write_lock.close()

    def schema_version(self) -> int:
        """The highest migration applied to this database."""
        with self.read() as conn:
            return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0

    def ping(self) -> str | None:
        """None when the database answers, else the reason it does not."""
        try:
            with self._engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return None
        except sa.exc.SQLAlchemyError as error:
            return _first_line(error)

    @contextmanager
    def write(self, keep_tails: bool = False) -> Iterator[Connection]:
        """A write transaction (the write lock taken at once on SQLite), committed on exit.

        `keep_tails` when the work keeps `tails` up to date (it appends through `chain.append` with
        them); any other write makes this writer forget them.
        """
        with self._write_lock, self._stamped(keep_tails), self._transaction() as conn:
            yield conn

    def write_if_free(self, work: Callable[[Connection], object], keep_tails: bool = False) -> bool:
        """`work` in a write transaction if no other writer holds the lock now; False (nothing done) if one does."""
        lock = self._write_lock
        if not isinstance(lock, WriterQueue):
            with self.write(keep_tails) as conn:
                work(conn)
            return True
        if not lock.try_enter():
            return False
        try:
            with self._stamped(keep_tails), self._transaction() as conn:
                work(conn)
        finally:
            lock.__exit__()
        return True

    @property
    def tails(self) -> dict[str, tuple[int, str]] | None:
        """The chains' tails (last seq and hash, by table) as this writer left them, valid inside a write
        made with `keep_tails`; None where the log cannot tell whether another writer appended since
        (PostgreSQL, a log in memory): there `chain.append` reads them in every transaction."""
        return self._tails if isinstance(self._write_lock, WriterQueue) else None

    @contextmanager
    def _stamped(self, keep_tails: bool) -> Iterator[None]:
        """Inside the write lock: forget the tails if another writer wrote since this one; stamp the log after.

        The stamp (`WriterQueue.stamp`) is left in the lock file by every write of every process
        through a `Store`; finding this writer's own stamp there means nobody else wrote since.
        """
        lock = self._write_lock
        if not isinstance(lock, WriterQueue):
            yield
            return
        if self._stamp is None or lock.stamp() != self._stamp:
            self._tails.clear()
        try:
            yield
        except BaseException:
            self._tails.clear()
            self._stamp = None
            with contextlib.suppress(OSError):
                lock.restamp()  # whatever happened, the others read the log again
            raise
        if not keep_tails:
            self._tails.clear()
        self._stamp = lock.restamp()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction for a caller that holds the write lock, committed on exit."""
        with self._errors(), self._engine.connect() as conn:
            conn.execution_options(bip_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection to read from (a database error becomes `StoreError`)."""
        with self._errors(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as error:
            raise StoreError("unreachable", url=self.url, reason=_first_line(error)) from None

    def _key_default(self, suffix: str) -> Path | None:
        """The key file beside a SQLite log (`<database><suffix>`); None for PostgreSQL or memory."""
        database = self._engine.url.database if self.dialect == "sqlite" else None
        return Path(database + suffix) if database not in (None, "", ":memory:") else None

    def pseudonym_keys(self) -> PseudonymKeys:
        """The pseudonym keys (`keys`), read once; `StoreError` when the log still keeps its old key inside."""
        if self._pseudonym_keys is None:
            with self._lock:
                if self._pseudonym_keys is None:
                    if self.legacy_secret() is not None:
                        raise StoreError("key_in_log", url=self.url)
                    if self._memory and not _configured(PSEUDONYM_KEY_FILE_ENV, PSEUDONYM_KEY_ENV):
                        self._pseudonym_keys = PseudonymKeys((new_key(),), "memory")  # gone with the log
                    else:
                        self._pseudonym_keys = load_pseudonym_keys(self._key_default(PSEUDONYM_SUFFIX))
        return self._pseudonym_keys

    def session_key(self) -> bytes:
        """The key that signs the page's session cookies (`keys`), read once; never derived from the log."""
        if self._session_key is None:
            with self._lock:
                if self._session_key is None:
                    memory = self._memory and not _configured(SESSION_KEY_FILE_ENV, SESSION_KEY_ENV)
                    self._session_key = new_key() if memory else load_session_key(self._key_default(SESSION_SUFFIX))
        return self._session_key

    def pseudonym_key_file(self) -> Path:
        """The file a key rotation writes (`BIP_PSEUDONYM_KEY_FILE`, else the one beside a SQLite log)."""
        return key_file_for(PSEUDONYM_KEY_FILE_ENV, self._key_default(PSEUDONYM_SUFFIX))

    def forget_keys(self) -> None:
        """Read the keys again on their next use (after a rotation)."""
        with self._lock:
            self._pseudonym_keys = None

    def legacy_secret(self) -> str | None:
        """The secret a log made before version 5 kept in its `meta` table (hex), or None."""
        with self.read() as conn:
            return conn.execute(sa.select(meta.c.value).where(meta.c.key == "secret")).scalar()

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
