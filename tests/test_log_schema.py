"""The decision log's schema: each table made by the migrations exactly as `bip_engine.log.schema` defines it,
on SQLite and PostgreSQL, and logs made by the release before the log wing still open and work."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sqlite3
import subprocess
import sys

import pytest
import sqlalchemy as sa

from bip_engine import Checker
from bip_engine.log import schema
from bip_engine.log.assessments import append_assessment, assessments_for
from bip_engine.log.decisions import decisions_for, find_decision
from bip_engine.log.errors import StoreError
from bip_engine.log.keys import PSEUDONYM_KEY_FILE_ENV
from bip_engine.log.maintenance import move_key_out, verify_log
from bip_engine.log.pseudonyms import pseudonym
from bip_engine.log.retention import purge
from bip_engine.log.store import Store, database_url
from bip_engine.log.tokens import Principal, authenticate, create_token
from tests.conftest import ROOT
from tests.postgres import new_database
from tests.test_store import ANNA, CLEAR_ID, logged

OLD_SCHEMA = ROOT / "tests" / "data" / "log_schema_v4.sqlite.sql"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.sqlite'}"
    request.getfixturevalue("log_keys")
    return new_database(request.getfixturevalue("postgres_url"))


def _shape(inspector: sa.Inspector, table: str) -> dict:
    """What the database says of a table: its columns (name, nullable), primary key, unique sets and foreign keys."""
    return {
        "columns": [(column["name"], bool(column["nullable"])) for column in inspector.get_columns(table)],
        "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
        "unique": sorted(tuple(item["column_names"]) for item in inspector.get_unique_constraints(table)),
        "foreign_keys": sorted(
            (tuple(key["constrained_columns"]), key["referred_table"], tuple(key["referred_columns"]))
            for key in inspector.get_foreign_keys(table)
        ),
    }


def _defined(table: sa.Table) -> dict:
    """The same, as the table is defined in `bip_engine.log.schema`."""
    unique = [(column.name,) for column in table.columns if column.unique]
    unique += [
        tuple(c.name for c in item.columns) for item in table.constraints if isinstance(item, sa.UniqueConstraint)
    ]
    return {
        "columns": [(column.name, bool(column.nullable)) for column in table.columns],
        "primary_key": [column.name for column in table.primary_key.columns],
        "unique": sorted(set(unique)),
        "foreign_keys": sorted(
            ((key.parent.name,), key.column.table.name, (key.column.name,)) for key in table.foreign_keys
        ),
    }


def test_each_table_is_made_as_it_is_defined(store_url):
    store = Store.open(store_url)
    try:
        inspector = sa.inspect(store.engine)
        assert set(inspector.get_table_names()) == set(schema.metadata.tables)
        for name, table in schema.metadata.tables.items():
            assert _shape(inspector, name) == _defined(table), name
    finally:
        store.close()


def test_a_column_added_by_a_later_migration_is_left_out_before_it(store_url):
    engine = sa.create_engine(database_url(store_url))
    try:
        assert schema.migrate(engine, schema.MIGRATIONS[:3]) == 3
        columns = [column["name"] for column in sa.inspect(engine).get_columns("decisions")]
    finally:
        engine.dispose()
    later = [column.name for column in schema.decisions.columns if column.info.get("since", 0) > 3]
    assert later == [
        *("rules_as_of", "release", "key_id", "prev_hash", "entry_hash"),
        *("software_version", "templates_hash", "phase_rule", "report_hash", "language", "margins"),
    ]
    assert columns == [column.name for column in schema.decisions.columns if column.name not in later]
    store = Store.open(store_url)  # migration 4 adds them
    try:
        added = [column["name"] for column in sa.inspect(store.engine).get_columns("decisions")]
        assert added == [column.name for column in schema.decisions.columns]
    finally:
        store.close()


# --- logs made before the log wing (schema version 4, as tests/data/log_schema_v4.sqlite.sql has it) -----


def _old_log(path) -> str:
    """A SQLite log as the previous release made it: its DDL, its four migrations, a secret, a token and a decision."""
    connection = sqlite3.connect(path)
    connection.executescript(OLD_SCHEMA.read_text(encoding="utf-8"))
    for migration in schema.MIGRATIONS[:4]:
        connection.execute(
            "INSERT INTO schema_version VALUES (?, ?, ?)",
            (migration.version, migration.description, "2026-01-01 00:00:00.000000+00:00"),
        )
    connection.execute("INSERT INTO meta VALUES ('secret', ?)", ("ab" * 32,))
    token = "bip_" + "x" * 43
    connection.execute(
        "INSERT INTO tokens VALUES ('old-team-lead', 'team_lead', ?, '2026-01-01 00:00:00.000000', NULL)",
        (hashlib.sha256(token.encode()).hexdigest(),),
    )
    connection.execute(
        "INSERT INTO decisions (decision_id, time, user_name, role, purpose, kind, citizen, as_of, rulebook_name, "
        "rulebook_version, rulebook_hash, engine, phase, confidence, flags, facts, record_hash, rules_as_of, release) "
        "VALUES ('old-1', '2020-03-01 10:00:00.000000', 'anna', 'caseworker', 'møde', 'check', ?, '2020-03-01', "
        "'bip-standard', '2020.1', 'h', 'python', 'standstill', 'high', '[]', '{\"level\": 2}', 'rh', NULL, NULL)",
        (_old_pseudonym(CLEAR_ID),),
    )
    connection.commit()
    connection.close()
    return token


def _old_pseudonym(citizen: str) -> str:
    """The pseudonym the previous release gave `citizen` in `_old_log`'s log: derived from the secret inside it."""
    key = hmac.new(bytes.fromhex("ab" * 32), b"bip-secret:pseudonym", hashlib.sha256).digest()
    return hmac.new(key, citizen.encode(), hashlib.sha256).hexdigest()


def test_a_log_made_by_the_previous_release_opens_and_works(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    token = _old_log(path)
    monkeypatch.delenv(PSEUDONYM_KEY_FILE_ENV, raising=False)
    store = Store.open(f"sqlite:///{path}", create=False)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        assert authenticate(store, token) == Principal("old-team-lead", "team_lead")
        old = find_decision(store, "old-1")
        assert old is not None and old["facts"] == {"level": 2} and old["time"] == "2020-03-01T10:00:00.000000Z"
        with pytest.raises(StoreError, match="move-key"):  # the key is still inside: nothing is pseudonymised with it
            pseudonym(store, CLEAR_ID)
        key_file = tmp_path / "keys" / "pseudonym.key"
        key_file.parent.mkdir()
        move_key_out(store, key_file)
        assert store.legacy_secret() is None and oct(key_file.stat().st_mode & 0o777) == "0o600"
        monkeypatch.setenv(PSEUDONYM_KEY_FILE_ENV, str(key_file))
        store.forget_keys()
        assert pseudonym(store, CLEAR_ID) == _old_pseudonym(CLEAR_ID)  # the same key, now outside the log
        entry = logged(store, Checker(ROOT / "rules", engine="python"))
        append_assessment(store, entry.decision_id, ANNA, False, "standstill", "ser anderledes ud", {})
        assert [item["decision_id"] for item in decisions_for(store, CLEAR_ID)] == ["old-1", entry.decision_id]
        assert [item["agrees"] for item in assessments_for(store, CLEAR_ID)] == [False]
        create_token(store, "new-auditor", "auditor")
        with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as conn:  # the old triggers still guard the log
            conn.execute(sa.text("DELETE FROM decisions WHERE decision_id = 'old-1'"))
        assert verify_log(store) == []  # the old entries were linked into the chain by the migration
        assert purge(store, dt.date(2021, 1, 1), "ops").decisions == 1 and find_decision(store, "old-1") is None
        assert verify_log(store) == []
    finally:
        store.close()


def _master(path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").fetchall()
    finally:
        connection.close()
    return [f"{name}: {' '.join(sql.split())}" for name, sql in rows]


def test_a_new_sqlite_log_has_the_schema_of_a_migrated_one(tmp_path):
    """A log made new and a log of the previous release migrated to this one have the same tables, indexes
    and triggers (only `schema_version` is spelled differently: made from its definition)."""
    _old_log(tmp_path / "old.sqlite")
    Store.open(f"sqlite:///{tmp_path / 'old.sqlite'}").close()
    Store.open(f"sqlite:///{tmp_path / 'new.sqlite'}").close()
    old, new = _master(tmp_path / "old.sqlite"), _master(tmp_path / "new.sqlite")
    assert [line for line in new if not line.startswith("schema_version:")] == [
        line for line in old if not line.startswith("schema_version:")
    ]
    assert len(new) == len(old) > 10
    columns = [row[1] for row in sqlite3.connect(tmp_path / "new.sqlite").execute("PRAGMA table_info(schema_version)")]
    assert columns == [column.name for column in schema.schema_version.columns]


def test_the_service_will_not_start_on_a_log_that_keeps_its_key_inside(tmp_path):
    path = tmp_path / "old.sqlite"
    _old_log(path)
    command = [sys.executable, "-m", "bip_engine.cli", "serve", "--database", f"sqlite:///{path}", "--port", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert result.returncode != 0 and "bip log move-key" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
