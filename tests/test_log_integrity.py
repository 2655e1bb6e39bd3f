"""The decision log is tamper-evident and keeps its keys apart (issue 16, privacy and integrity).

Each attack of the issue is made here for real on the database, as someone who may write it would
(dropping or disabling the triggers first), on SQLite and on a real PostgreSQL; `bip log verify`
must name the entry, with exit code 6, and a checkpoint kept outside shows a log emptied or cut
short. The keys: no key is stored in the log, a rotation keeps old entries findable, and a purge
leaves its own entry and a chain that still verifies.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bip_engine import Checker, cli, clock
from bip_engine.log import hashing
from bip_engine.log.decisions import decisions_for
from bip_engine.log.keys import PSEUDONYM_KEY_FILE_ENV
from bip_engine.log.maintenance import rotate_key, take_checkpoint, verify_log
from bip_engine.log.pseudonyms import pseudonym
from bip_engine.log.retention import purge
from bip_engine.log.schema import decisions
from bip_engine.log.store import Store
from tests.conftest import ROOT
from tests.postgres import new_database
from tests.test_store import CLEAR_ID, all_text, logged


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    """A fresh log on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.sqlite'}"
    request.getfixturevalue("log_keys")
    return new_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def filled(url):
    """A log with five decisions about one citizen; yields (url, their ids oldest first)."""
    store = Store.open(url)
    checker = Checker(ROOT / "rules", engine="python")
    ids = [logged(store, checker, purpose=f"samtale {n}").decision_id for n in range(5)]
    store.close()
    return url, ids


def bip(*args: str):
    return CliRunner().invoke(cli.main, [*args, "--lang", "en"])


def sql(url: str, *statements: str) -> None:
    """Run `statements` as the database's owner would, past the log's own code."""
    store = Store.open(url)
    try:
        with store.engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        store.close()


def unguarded(url: str, table: str = "decisions") -> list[str]:
    """The statements that take `table`'s triggers away (on PostgreSQL: ALTER TABLE ... DISABLE TRIGGER)."""
    if url.startswith("postgresql"):
        return [f"ALTER TABLE {table} DISABLE TRIGGER USER"]
    names = ["no_update", "guard_delete"]
    return [f"DROP TRIGGER {table}_{name}" for name in names]


def seq_of(url: str, decision_id: str) -> int:
    store = Store.open(url)
    try:
        with store.read() as conn:
            return conn.execute(sa.select(decisions.c.seq).where(decisions.c.decision_id == decision_id)).scalar_one()
    finally:
        store.close()


def test_an_untouched_log_verifies(filled):
    url, _ = filled
    result = bip("log", "verify", "--database", url)
    assert result.exit_code == 0 and "is whole" in result.stdout, result.output


def test_a_changed_entry_is_named(filled):
    url, ids = filled
    sql(url, *unguarded(url), f"UPDATE decisions SET phase = 'forged-phase' WHERE decision_id = '{ids[1]}'")
    result = bip("log", "verify", "--database", url)
    assert result.exit_code == cli.EXIT_LOG_TAMPERED == 7
    assert f"decisions entry {ids[1]}" in result.stderr and "was changed" in result.stderr
    assert ids[2] not in result.stderr  # only the changed one: the next still links to its stored hash


def test_a_deleted_entry_is_found_at_the_one_after_it(filled):
    url, ids = filled
    sql(url, *unguarded(url), f"DELETE FROM decisions WHERE decision_id = '{ids[2]}'")
    result = bip("log", "verify", "--database", url)
    assert result.exit_code == 7 and f"decisions entry {ids[3]}" in result.stderr
    assert "deleted, inserted or moved" in result.stderr


def test_the_purge_window_trick_and_a_forged_2020_entry_are_found(filled, tmp_path):
    url, _ = filled
    checkpoint = bip("log", "checkpoint", "--database", url)
    assert checkpoint.exit_code == 0
    kept = json.loads(checkpoint.stdout)
    assert kept["chains"]["decisions"]["entries"] == 5
    # the attack: open the purge window for everything, then empty the log
    sql(url, "INSERT INTO purge_window VALUES ('9999-01-01')", "DELETE FROM decisions", "DELETE FROM purge_window")
    assert bip("log", "verify", "--database", url).exit_code == 0  # an empty chain alone looks whole...
    path = tmp_path / "checkpoint.json"  # kept elsewhere
    path.write_text(checkpoint.stdout, encoding="utf-8")
    result = bip("log", "verify", "--database", url, "--checkpoint", str(path))
    assert result.exit_code == 7 and "no purge deleted it" in result.stderr  # ...the checkpoint kept outside does not
    # a forged entry dated 2020 with its hashes made right (the chain's rules are no secret)
    store = Store.open(url)
    try:
        checker = Checker(ROOT / "rules", engine="python")
        logged(store, checker)
        forged = logged(store, checker, time=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), purpose="forged")
        assert [finding.problem for finding in verify_log(store)] == ["time"]
        assert verify_log(store)[0].entry == forged.decision_id
    finally:
        store.close()


def test_reordered_entries_are_found(filled):
    url, ids = filled
    first, second = seq_of(url, ids[1]), seq_of(url, ids[2])
    sql(
        url,
        *unguarded(url),
        f"UPDATE decisions SET seq = -1 WHERE seq = {first}",
        f"UPDATE decisions SET seq = {first} WHERE seq = {second}",
        f"UPDATE decisions SET seq = {second} WHERE seq = -1",
    )
    result = bip("log", "verify", "--database", url)
    assert result.exit_code == 7
    assert f"entry {ids[2]}" in result.stderr and f"entry {ids[3]}" in result.stderr


def test_an_inserted_entry_is_found(filled):
    url, ids = filled
    store = Store.open(url)
    try:
        with store.read() as conn:
            row = dict(conn.execute(sa.select(decisions).where(decisions.c.decision_id == ids[0])).mappings().one())
    finally:
        store.close()
    row.update(decision_id="inserted", seq=0, purpose="indsat bagefter")  # before the first, its hash made right
    row["entry_hash"] = hashing.entry_hash(decisions, row, hashing.GENESIS)
    row["prev_hash"] = hashing.GENESIS
    store = Store.open(url)
    try:
        with store.engine.begin() as conn:
            conn.execute(decisions.insert().values(**row))
    finally:
        store.close()
    result = bip("log", "verify", "--database", url)
    assert result.exit_code == 7 and f"entry {ids[0]}" in result.stderr  # the first no longer starts the chain


def test_a_dropped_table_is_found(filled):
    url, _ = filled
    sql(url, "DROP TABLE assessments")
    result = bip("log", "verify", "--database", url)
    assert result.exit_code == 7 and "assessments is gone" in result.stderr


def test_purge_anchors_the_chain(url):
    store = Store.open(url)
    try:
        checker = Checker(ROOT / "rules", engine="python")
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=365 * 7)
        old = [logged(store, checker, time=long_ago + dt.timedelta(minutes=n)).decision_id for n in range(3)]
        recent = [logged(store, checker).decision_id for _ in range(2)]
        point = take_checkpoint(store)
        dry = purge(store, clock.today() - dt.timedelta(days=365 * 5), "ops", dry_run=True)
        assert (dry.decisions, dry.dry_run) == (3, True) and len(decisions_for(store, CLEAR_ID)) == 5
        done = purge(store, clock.today() - dt.timedelta(days=365 * 5), "ops")
        assert done.decisions == 3
        assert [item["decision_id"] for item in decisions_for(store, CLEAR_ID)] == recent
        assert verify_log(store, point) == []  # the purge's anchor and entry keep the chain whole
        logged(store, checker)
        assert verify_log(store, point) == []
        with store.read() as conn:
            [entry] = conn.execute(sa.text("SELECT user_name, decisions_deleted, forced FROM purges")).all()
        assert (entry.user_name, entry.decisions_deleted, bool(entry.forced)) == ("ops", 3, False)
        with pytest.raises(Exception, match="minimum retention"):
            purge(store, clock.today(), "ops")
        assert all(item["decision_id"] not in old for item in decisions_for(store, CLEAR_ID))
    finally:
        store.close()


def test_no_key_is_kept_in_the_log_and_rotation_keeps_old_entries_findable(url, tmp_path, monkeypatch):
    store = Store.open(url)
    try:
        checker = Checker(ROOT / "rules", engine="python")
        before = logged(store, checker)
        keys = store.pseudonym_keys()
        dump = all_text(store)
        for key in (*keys.keys, store.session_key()):
            assert key.hex() not in dump and key.hex().upper() not in dump  # a copy of the log holds no key
        assert "secret" not in dump
        if url.startswith("sqlite"):  # the key file beside it is its owner's only
            path = store.pseudonym_key_file()
            assert path.exists() and path.stat().st_mode & 0o077 == 0
        else:
            monkeypatch.setenv(PSEUDONYM_KEY_FILE_ENV, str(tmp_path / "pseudonym.key"))
        new_id, _ = rotate_key(store)
        assert store.pseudonym_keys().current_id == new_id != before.key_id
        after = logged(store, checker)
        assert after.citizen != before.citizen and after.key_id == new_id  # a new pseudonym under the new key
        found = decisions_for(store, CLEAR_ID)
        assert [item["decision_id"] for item in found] == [before.decision_id, after.decision_id]
        assert [item["key_id"] for item in found] == [before.key_id, new_id]
        assert pseudonym(store, CLEAR_ID) == after.citizen
        assert verify_log(store) == []
    finally:
        store.close()


def test_a_key_file_that_others_may_read_is_refused(tmp_path, monkeypatch):
    database = f"sqlite:///{tmp_path / 'l.sqlite'}"
    Store.open(database).close()
    path = tmp_path / "open.key"
    path.write_text("ab" * 32 + "\n")
    path.chmod(0o644)
    monkeypatch.setenv(PSEUDONYM_KEY_FILE_ENV, str(path))
    result = bip("log", "export", "--citizen", "X", "--database", database)
    assert result.exit_code == 2 and f"chmod 600 {path}" in result.stderr, result.output


def test_a_rotation_needs_a_key_file_when_the_key_is_given_as_a_value(tmp_path, monkeypatch):
    database = f"sqlite:///{tmp_path / 'l.sqlite'}"
    Store.open(database).close()
    monkeypatch.setenv("BIP_PSEUDONYM_KEY", "cd" * 32)
    result = bip("log", "rotate-key", "--database", database)
    assert result.exit_code == 2 and "BIP_PSEUDONYM_KEY_FILE" in result.stderr
    assert not (tmp_path / "l.sqlite.pseudonym-key").exists()  # no file beside the log that nothing reads
